import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type Receiver } from '../../collector/receiver';
import { MEMBERS_API, startApp, type AppProcess } from '../support/app-process';
import { assertValidReport } from '../support/report-schema';

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

const TOKEN = 'test-token-123';
let receiver: Receiver;
let app: AppProcess;
let admin: string;

async function call(path: string, init: RequestInit = {}) {
  // A busy main thread makes the worker answer with its last answer, marked stale: ask again
  // (bounded) so the assertions read the agent's state, not the machine's load.
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(admin + path, init);
    const body = (await res.json()) as Record<string, any>;
    if (!res.headers.has('x-perf-stale-ms') || attempt >= 20 || (init.method ?? 'GET') !== 'GET') return { status: res.status, body };
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  const port = await freePort();
  admin = `http://127.0.0.1:${port}`;
  receiver = await startOtlpReceiver();
  app = await startApp(MEMBERS_API, {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_ADMIN_PORT: String(port), PERF_AGENT_ADMIN_TOKEN: TOKEN, PERF_AGENT_LOG_FINDINGS: 'false' },
  });
  for (const path of ['/members/1/payments', '/members/2/payments', '/members/1/payments-batched', '/members/3']) await fetch(app.url + path);
  // The client can have its answer before the server's root span ended and was analyzed.
  for (let waited = 0; waited < 15_000; waited += 200) {
    const { body } = await call('/perf/report');
    const operations = (body.reports ?? []).map((r: { operation: string; metadata?: { note?: string } }) => `${r.operation} ${r.metadata?.note ?? ''}`);
    if (['GET /members/:id ', 'GET /members/:id/payments aggregate of 2', 'GET /members/:id/payments-batched '].every((o) => operations.some((x: string) => x.startsWith(o)))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  await app?.stop('SIGKILL');
  await receiver?.close();
});

describe('admin API', () => {
  it('GET /perf/health tells what the agent is doing to itself', async () => {
    const { status, body } = await call('/perf/health');
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    expect(body.agent).toBe('running');
    expect(body.protection.level).toBe(0);
    expect(body.traceBuffer.analyzedTraces).toBeGreaterThanOrEqual(4);
    expect(body.analyzers.map((a: { name: string }) => a.name)).toEqual(['n_plus_one', 'slow_query', 'query_count', 'execution_time']);
    expect(body.footprintBytes).toBeGreaterThan(0);
    expect(body.metadata.version).toBeTruthy();
  });

  it('GET /perf/report aggregates per operation, in the report format', async () => {
    const { status, body } = await call('/perf/report?operation=' + encodeURIComponent('GET /members/:id/payments'));
    expect(status).toBe(200);
    expect(body.reports).toHaveLength(1);
    const report = body.reports[0];
    assertValidReport(report);
    expect(report.operation).toBe('GET /members/:id/payments');
    expect(report.analysis.nPlusOne).toHaveLength(1);
    expect(report.analysis.bottlenecks[0].pattern).toBe('SELECT id, paid_on, amount_cents, method FROM payments WHERE invoice_id = $1');
    expect(report.metadata.note).toMatch(/^aggregate of 2 requests/);
    const all = await call('/perf/report');
    for (const r of all.body.reports) assertValidReport(r);
    // The example's start-up queries are traces of their own (their roots are the queries).
    expect(all.body.reports.map((r: { operation: string }) => r.operation)).toEqual(
      expect.arrayContaining(['GET /members/:id', 'GET /members/:id/payments', 'GET /members/:id/payments-batched']),
    );
    expect((await call('/perf/report?operation=nope')).status).toBe(404);
  });

  it('GET /perf/patterns lists the pattern library', async () => {
    const { body } = await call('/perf/patterns?by=count&limit=2');
    expect(body.patterns).toHaveLength(2);
    expect(body.patterns[0].pattern).toBe('SELECT id, paid_on, amount_cents, method FROM payments WHERE invoice_id = $1');
    expect(body.patterns[0].count).toBeGreaterThanOrEqual(20);
    expect(body.patterns[0].fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect((await call('/perf/patterns?by=nonsense')).status).toBe(400);
  });

  it('GET /perf/config shows settings without the token', async () => {
    const { body } = await call('/perf/config');
    const token = body.settings.find((s: { env: string }) => s.env === 'PERF_AGENT_ADMIN_TOKEN');
    expect(token.current).toBe('[hidden]');
    expect(JSON.stringify(body)).not.toContain(TOKEN);
    expect(body.writable).toBe(true);
  });

  it('GET /perf/config gives the configuration as typed JSON, nested as PATCH takes it', async () => {
    const { body } = await call('/perf/config');
    expect(body.config.thresholds.slowQueryMs).toBe(100);
    expect(body.config.thresholds.queryCount).toEqual({ excellent: 10, good: 20, warning: 50, critical: 100 });
    expect(body.config.sampling.rate).toBe(1);
    expect(body.config.sampling.keepFindings).toBe(true);
    expect(body.config.sampling.criticalOperations).toEqual([]);
    expect(body.config.plugins).toEqual([]);
    expect(body.config.admin.token).toBe('[hidden]');
    expect(body.config.stateDir).toBeNull();
    // The rows stay beside it.
    expect(body.settings.find((s: { key: string }) => s.key === 'thresholds.slowQueryMs')).toMatchObject({ env: 'PERF_AGENT_THRESHOLDS_SLOW_QUERY_MS', current: '100', source: 'default' });
  });

  it('PATCH /perf/config needs the bearer token and validates the whole patch', async () => {
    const patch = (body: unknown, auth?: string) =>
      call('/perf/config', { method: 'PATCH', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify(body) });
    expect((await patch({ 'sampling.rate': 0.5 })).status).toBe(401);
    expect((await patch({ 'sampling.rate': 0.5 }, 'Bearer wrong')).status).toBe(401);
    const bad = await patch({ 'sampling.rate': 2 }, `Bearer ${TOKEN}`);
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0]).toMatchObject({ env: 'PERF_AGENT_SAMPLING_RATE', allowed: 'a number from 0 to 1' });
    const good = await patch({ 'thresholds.slowQueryMs': '5', nPlusOne: { minRepeats: 30 } }, `Bearer ${TOKEN}`);
    expect(good.status).toBe(200);
    // The changed keys with their new typed values ("5" arrives as the number 5).
    expect(good.body.changed).toEqual({ 'thresholds.slowQueryMs': 5, 'nPlusOne.minRepeats': 30 });
    expect(good.body.config.thresholds.slowQueryMs).toBe(5);
    expect(good.body.config.admin.token).toBe('[hidden]');
    expect(JSON.stringify(good.body)).not.toContain(TOKEN);
    // In force at once: 20 repeats are no longer an N+1 with minRepeats 30.
    await fetch(app.url + '/members/1/payments');
    const { body } = await call('/perf/health');
    expect(body.status).toBe('success');
  });

  it('does not trace its own requests', async () => {
    await app.stop('SIGTERM');
    const spans = await receiver.waitFor((all) => all.filter((s) => s.kind === 2).length >= 5, 15_000);
    expect(spans.some((s) => String(s.attributes['url.path'] ?? '').startsWith('/perf'))).toBe(false);
    const last = spans.filter((s) => s.kind === 2 && s.attributes['url.path'] === '/members/1/payments').pop()!;
    expect(last.events.filter((e) => e.attributes['perf.finding.type'] === 'n_plus_one')).toEqual([]);
  });
});
