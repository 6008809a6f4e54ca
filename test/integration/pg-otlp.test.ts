import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type DecodedSpan, type Receiver } from '../../collector/receiver';
import { MEMBERS_API, getJson, startApp, type AppProcess } from '../support/app-process';
import { announceDatabase } from '../support/postgres';

const SERVER = 2;
const CLIENT = 3;

function rootOf(spans: DecodedSpan[], path: string): DecodedSpan {
  const root = spans.find((s) => s.kind === SERVER && s.parentSpanId === '' && s.attributes['url.path'] === path);
  if (!root) throw new Error(`no HTTP root span for ${path}; got ${spans.map((s) => s.name).join(', ')}`);
  return root;
}

function dbSpansOf(spans: DecodedSpan[], root: DecodedSpan): DecodedSpan[] {
  return spans.filter((s) => s.traceId === root.traceId && s.attributes['db.system.name'] === 'postgresql');
}

/** Anything that looks like a literal: a quoted string or a bare number outside identifiers and $n. */
const LITERAL = /'[^']*'|(?<![\w$.])\d+(\.\d+)?(?![\w])/;

describe('members-api under the agent, real pg, OTLP proto+gzip', () => {
  let receiver: Receiver;
  let app: AppProcess;
  let spans: DecodedSpan[];
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  let batchedBody: unknown;
  let nPlusOneBody: unknown;

  beforeAll(async () => {
    await announceDatabase();
    receiver = await startOtlpReceiver();
    app = await startApp(MEMBERS_API, {
      // Compression off: this checks the instrumentation itself, one span per query.
      env: { OTEL_SERVICE_NAME: 'members-api-test', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_COMPRESSION_ENABLED: 'false' },
    });
    nPlusOneBody = (await getJson(`${app.url}/members/1/payments`)).body;
    batchedBody = (await getJson(`${app.url}/members/1/payments-batched`)).body;
    expect((await getJson(`${app.url}/members?limit=7`)).status).toBe(200);
    // The spans are still in the export queue (5 s delay): SIGTERM must flush them.
    exit = await app.stop('SIGTERM');
    spans = await receiver.waitFor(
      (all) => all.filter((s) => s.kind === SERVER && s.parentSpanId === '').length >= 3,
      15_000,
    );
  });

  afterAll(async () => {
    await app?.stop('SIGKILL');
    await receiver?.close();
  });

  it("leaves the app's own shutdown and exit code alone", () => {
    expect(exit).toEqual({ code: 0, signal: null });
    expect(nPlusOneBody).toEqual(batchedBody);
  });

  it('exports over OTLP/HTTP protobuf with gzip', () => {
    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const request of receiver.requests) {
      expect(request.path).toBe('/v1/traces');
      expect(request.contentType).toBe('application/x-protobuf');
      expect(request.contentEncoding).toBe('gzip');
      expect(request.wireBytes).toBeLessThan(request.rawBytes);
    }
  });

  it('names the service from OTEL_SERVICE_NAME', () => {
    expect(spans[0].resource.attributes['service.name']).toBe('members-api-test');
  });

  it('makes one pg span per query under the HTTP root, and no connect spans', () => {
    const root = rootOf(spans, '/members/1/payments');
    const db = dbSpansOf(spans, root);
    expect(db).toHaveLength(21); // member 1: one query for its 20 invoices, then one per invoice
    for (const span of db) {
      expect(span.kind).toBe(CLIENT);
      expect(span.parentSpanId).toBe(root.spanId);
    }
    expect(spans.filter((s) => s.name.includes('connect'))).toEqual([]);
    expect(dbSpansOf(spans, rootOf(spans, '/members/1/payments-batched'))).toHaveLength(2);
  });

  it('exports statements without literals and fingerprints equal statements equally', () => {
    const all = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    for (const span of all) {
      const text = String(span.attributes['db.query.text']);
      expect(text).not.toMatch(LITERAL);
      expect(span.attributes['perf.query.fingerprint']).toMatch(/^[0-9a-f]{16}$/);
      expect(span.attributes['db.statement']).toBeUndefined();
    }
    const list = dbSpansOf(spans, rootOf(spans, '/members'));
    expect(list.some((s) => /LIMIT \?/.test(String(s.attributes['db.query.text'])))).toBe(true);

    const byText = new Map<string, Set<unknown>>();
    for (const span of all) {
      const text = String(span.attributes['db.query.text']);
      if (!byText.has(text)) byText.set(text, new Set());
      byText.get(text)!.add(span.attributes['perf.query.fingerprint']);
    }
    for (const fingerprints of byText.values()) expect(fingerprints.size).toBe(1);
    const distinct = new Set(all.map((s) => s.attributes['perf.query.fingerprint']));
    expect(distinct.size).toBe(byText.size);
    const payments = dbSpansOf(spans, rootOf(spans, '/members/1/payments')).slice(1);
    expect(new Set(payments.map((s) => s.attributes['perf.query.fingerprint'])).size).toBe(1);
  });
});

describe('members-api under the agent, OTLP http/json', () => {
  it('sends JSON when OTEL_EXPORTER_OTLP_PROTOCOL=http/json', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startApp(MEMBERS_API, {
      env: { OTEL_SERVICE_NAME: 'members-json', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    });
    try {
      await getJson(`${app.url}/members/2`);
      expect(await app.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      const spans = await receiver.waitFor((all) => all.some((s) => s.kind === SERVER), 15_000);
      expect(receiver.requests[0].contentType).toMatch(/^application\/json/);
      expect(spans[0].resource.attributes['service.name']).toBe('members-json');
      const root = rootOf(spans, '/members/2');
      const db = dbSpansOf(spans, root);
      expect(db.length).toBeGreaterThan(0);
      for (const span of db) expect(span.attributes['perf.query.fingerprint']).toMatch(/^[0-9a-f]{16}$/);
    } finally {
      await app.stop('SIGKILL');
      await receiver.close();
    }
  });
});

describe('connect spans on request', () => {
  it('emits pg-pool.connect spans with PERF_AGENT_PG_CONNECT_SPANS=true', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startApp(MEMBERS_API, {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_PG_CONNECT_SPANS: 'true' },
    });
    try {
      await getJson(`${app.url}/members/3`);
      await app.stop('SIGTERM');
      const spans = await receiver.waitFor((all) => all.some((s) => s.kind === SERVER), 15_000);
      expect(spans.some((s) => s.name === 'pg-pool.connect')).toBe(true);
    } finally {
      await app.stop('SIGKILL');
      await receiver.close();
    }
  });
});
