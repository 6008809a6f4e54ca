import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type DecodedSpan, type Receiver } from '../../collector/receiver';
import { getJson, startApp, type AppProcess } from '../support/app-process';
import { announceDatabase, postgresReachable } from '../support/postgres';
import { reachable } from '../support/net';

/*
 * Issue 8's leaks, end to end: the real pg and mysql2 drivers under the agent, on the real
 * PostgreSQL and MariaDB, exporting OTLP protobuf+gzip. Every secret of the fixture app is looked
 * for in the decompressed bytes of every export request, and in the decoded spans.
 */
const APP = resolve(__dirname, '../fixtures/privacy-app.js');
const SECRETS = [
  'pg-standard', 'docs', 'pg-escape', 'pg-e', 'pg-dollar', 'pg-comment', 'pg-cast', 'pg-inline-cast', 'pg-dup',
  'students', 'grades', 'my-format', 'my-dquote', 'my-hash', 'my-backslash', 'my-dash', 'my-dup', 'my-cast',
  'example.com',
];
const SERVER = 2;


/** Keeps the raw bodies the receiver forwards, decompressed. */
async function startRawSink(): Promise<{ url: string; bodies: Buffer[]; server: Server }> {
  const bodies: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, bodies, server };
}

function leaksIn(text: string): string[] {
  const lower = text.toLowerCase();
  return SECRETS.filter((s) => lower.includes(s));
}

/*
 * Both ways a trace leaves the process: sampled (development defaults: every span recorded), and
 * kept for its errors from a request that was not sampled (production, rate 0, keep-findings: the
 * PostgreSQL queries are shadows, their spans built when the errors keep the trace).
 */
const MODES = [
  { mode: 'sampled', env: {} },
  { mode: 'kept for its errors, pg queries from the shadow record', env: { PERF_AGENT_ENV: 'production', PERF_AGENT_SAMPLING_RATE: '0', PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'true' } },
];

describe.each(MODES)('no value leaves the process (real pg and mysql2, real servers, OTLP): $mode', async ({ env }) => {
  const pgUp = await postgresReachable();
  const mysqlUp = await reachable(3306);
  if (!pgUp || !mysqlUp) console.log('privacy integration test: needs PostgreSQL and MariaDB/MySQL on 127.0.0.1; skipped');

  let receiver: Receiver;
  let sink: Awaited<ReturnType<typeof startRawSink>>;
  let app: AppProcess;
  let spans: DecodedSpan[];
  let pgCodes: Record<string, string>;
  let myCodes: Record<string, string>;

  beforeAll(async () => {
    if (!pgUp || !mysqlUp) return;
    await announceDatabase();
    sink = await startRawSink();
    receiver = await startOtlpReceiver({ forwardTo: sink.url });
    app = await startApp(APP, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_COMPRESSION_ENABLED: 'false', ...env } });
    pgCodes = (await getJson(`${app.url}/pg`)).body as Record<string, string>;
    myCodes = (await getJson(`${app.url}/mysql`)).body as Record<string, string>;
    await app.stop('SIGTERM');
    spans = await receiver.waitFor((all) => all.filter((s) => s.kind === SERVER).length >= 2, 15_000);
    // The raw bodies are forwarded after the receiver answered: wait until all arrived.
    const until = Date.now() + 5000;
    while (sink.bodies.length < receiver.requests.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  }, 60_000);

  afterAll(async () => {
    await app?.stop('SIGKILL');
    await receiver?.close();
    await new Promise((done) => sink?.server.close(done));
  });

  it.runIf(pgUp && mysqlUp)('the queries really ran and failed as intended', () => {
    expect(pgCodes).toEqual({ cast: '22P02', inlineCast: '22P02', duplicate: '23505' });
    expect(myCodes).toEqual({ duplicate: 'ER_DUP_ENTRY', cast: 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD' });
  });

  it.runIf(pgUp && mysqlUp)('no secret is in any exported byte', () => {
    expect(sink.bodies.length).toBe(receiver.requests.length);
    expect(sink.bodies.length).toBeGreaterThan(0);
    for (const body of sink.bodies) expect(leaksIn(body.toString('latin1'))).toEqual([]);
    expect(leaksIn(JSON.stringify(spans, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)))).toEqual([]);
  });

  it.runIf(pgUp && mysqlUp)('statements are exported normalized, per dialect', () => {
    const texts = spans.map((s) => s.attributes['db.query.text']).filter((t): t is string => typeof t === 'string');
    expect(texts).toContain('SELECT ? AS path, ? AS email');
    expect(texts).toContain('SELECT ? AS e, ? AS d');
    expect(texts).toContain('SELECT ? AS name, ? AS email');
    expect(texts).toContain('SELECT ? AS e');
  });

  it.runIf(pgUp && mysqlUp)('failed queries keep their code, with scrubbed messages', () => {
    const failed = spans.filter((s) => s.status.code === 2 && (s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system.name'] === 'mysql'));
    const codes = failed.map((s) => s.attributes['db.response.status_code']).sort();
    expect(codes).toEqual(['1062', '1366', '22P02', '22P02', '23505']);
    for (const span of failed) expect(span.attributes['error.type']).toBe(span.attributes['db.response.status_code']);
    const messages = failed.map((s) => s.status.message);
    expect(messages).toContain('invalid input syntax for type integer: ?');
    expect(messages).toContain('duplicate key value violates unique constraint ?');
    expect(messages).toContain('Duplicate entry ?');
    const exceptions = failed.flatMap((s) => s.events.filter((e) => e.name === 'exception'));
    expect(exceptions.length).toBeGreaterThanOrEqual(3); // instrumentation-pg records one per failure
  });
});
