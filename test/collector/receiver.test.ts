import { describe, it, expect, afterEach } from 'vitest';
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import {
  startOtlpReceiver,
  decodeTraceRequest,
  formatTraceTree,
  DecodedSpan,
  Receiver,
} from '../../collector/receiver';

const open: Receiver[] = [];
async function receiver(options?: Parameters<typeof startOtlpReceiver>[0]): Promise<Receiver> {
  const r = await startOtlpReceiver(options);
  open.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

/** One request trace made with the real SDK: a server root with a db child, a finding, an error. */
async function emitTrace(exporter: SpanExporter): Promise<{ traceId: string }> {
  const provider = new BasicTracerProvider({
    // A resource shaped like NodeSDK's detected one: it rides in every request, and its
    // repetition is what gzip wins on even when each request holds a single span.
    resource: resourceFromAttributes({
      'service.name': 'members-api',
      'process.runtime.name': 'nodejs',
      'process.runtime.description': 'Node.js',
      'process.executable.path': '/usr/local/bin/node',
      'process.command': '/srv/members-api/server.js',
      'process.command_args': ['/usr/local/bin/node', '--require', 'otel-perf-agent/register', '/srv/members-api/server.js'],
      'process.owner': 'members-api',
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('receiver-test', '1.2.3');
  const root = tracer.startSpan('GET /members', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.route': '/members',
      'http.response.status_code': 200,
      'perf.ratio': 0.25,
      'perf.cached': false,
      'perf.tags': ['a', 'b'],
    },
  });
  const ctx = trace.setSpan(context.active(), root);
  const query = tracer.startSpan(
    'pg.query:SELECT',
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM members WHERE id = $1' } },
    ctx,
  );
  query.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  query.end();
  root.addEvent('perf.finding', {
    'perf.finding.type': 'n_plus_one',
    'perf.finding.severity': 'warning',
    'perf.finding.count': 20,
  });
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
  return { traceId: root.spanContext().traceId };
}

function checkTrace(spans: DecodedSpan[], traceId: string): void {
  expect(spans).toHaveLength(2);
  const root = spans.find((s) => s.name === 'GET /members')!;
  const query = spans.find((s) => s.name === 'pg.query:SELECT')!;
  expect(root.traceId).toBe(traceId);
  expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(root.spanId).toMatch(/^[0-9a-f]{16}$/);
  expect(root.parentSpanId).toBe('');
  expect(query.parentSpanId).toBe(root.spanId);
  expect(query.traceId).toBe(traceId);
  expect(root.kind).toBe(2);
  expect(query.kind).toBe(3);

  expect(root.attributes).toEqual({
    'http.route': '/members',
    'http.response.status_code': 200,
    'perf.ratio': 0.25,
    'perf.cached': false,
    'perf.tags': ['a', 'b'],
  });
  expect(query.attributes['db.query.text']).toBe('SELECT * FROM members WHERE id = $1');

  expect(root.events).toHaveLength(1);
  expect(root.events[0].name).toBe('perf.finding');
  expect(root.events[0].attributes).toEqual({
    'perf.finding.type': 'n_plus_one',
    'perf.finding.severity': 'warning',
    'perf.finding.count': 20,
  });
  expect(typeof root.events[0].timeUnixNano).toBe('bigint');
  expect(root.events[0].timeUnixNano >= root.startTimeUnixNano).toBe(true);

  expect(query.status).toEqual({ code: 2, message: 'boom' });
  expect(root.status.code).toBe(0);
  expect(root.resource.attributes['service.name']).toBe('members-api');
  expect(root.scope).toEqual({ name: 'receiver-test', version: '1.2.3' });

  expect(typeof root.startTimeUnixNano).toBe('bigint');
  expect(root.startTimeUnixNano > 1_600_000_000_000_000_000n).toBe(true);
  expect(root.endTimeUnixNano >= root.startTimeUnixNano).toBe(true);
  expect(root.durationMs).toBeCloseTo(Number(root.endTimeUnixNano - root.startTimeUnixNano) / 1e6, 6);
}

/** Raw POST, for the cases an exporter would never produce. */
function post(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('OTLP receiver with the real exporters', () => {
  it('decodes protobuf + gzip from exporter-trace-otlp-proto', async () => {
    const r = await receiver();
    expect(r.url).toBe(`http://127.0.0.1:${r.port}`);
    const exporter = new ProtoExporter({ url: `${r.url}/v1/traces`, compression: CompressionAlgorithm.GZIP });
    const { traceId } = await emitTrace(exporter);
    const spans = await r.waitFor((s) => s.length >= 2);
    checkTrace(spans, traceId);

    expect(r.requests.length).toBeGreaterThanOrEqual(1);
    for (const req of r.requests) {
      expect(req.path).toBe('/v1/traces');
      expect(req.contentType).toBe('application/x-protobuf');
      expect(req.contentEncoding).toBe('gzip');
      expect(req.wireBytes).toBeLessThan(req.rawBytes);
    }
    expect(r.requests.reduce((n, q) => n + q.spanCount, 0)).toBe(2);
    expect([...r.traces().keys()]).toEqual([traceId]);
  });

  it('decodes OTLP JSON from exporter-trace-otlp-http', async () => {
    const r = await receiver();
    const { traceId } = await emitTrace(new JsonExporter({ url: `${r.url}/v1/traces` }));
    const spans = await r.waitFor((s) => s.length >= 2);
    checkTrace(spans, traceId);
    expect(r.requests[0].contentType).toMatch(/^application\/json/);
    expect(r.requests[0].contentEncoding).toBe('identity');
  });

  it('forwards the raw request to another OTLP endpoint', async () => {
    const target = await receiver();
    const r = await receiver({ forwardTo: `${target.url}/` });
    const exporter = new ProtoExporter({ url: `${r.url}/v1/traces`, compression: CompressionAlgorithm.GZIP });
    const { traceId } = await emitTrace(exporter);
    const forwarded = await target.waitFor((s) => s.length >= 2);
    checkTrace(forwarded, traceId);
    expect(target.requests[0].contentEncoding).toBe('gzip');
    expect(target.requests.map((q) => q.wireBytes)).toEqual(r.requests.map((q) => q.wireBytes));
  });
});

describe('OTLP receiver HTTP behaviour', () => {
  it('answers 404 for unknown paths and 200 for metrics and logs', async () => {
    const r = await receiver();
    expect((await post(`${r.url}/v1/other`, Buffer.alloc(0))).status).toBe(404);
    expect((await post(`${r.url}/v1/metrics`, Buffer.alloc(0))).status).toBe(200);
    expect(await post(`${r.url}/v1/logs`, Buffer.from('{}'), { 'content-type': 'application/json' })).toEqual({ status: 200, body: '{}' });
    expect(await post(`${r.url}/v1/traces`, Buffer.alloc(0))).toEqual({ status: 200, body: '' });
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0].spanCount).toBe(0);
  });

  it('rejects bodies over 32 MB with 413, on the wire and after gunzip', async () => {
    const r = await receiver();
    const big = Buffer.alloc(32 * 1024 * 1024 + 1);
    expect((await post(`${r.url}/v1/traces`, big)).status).toBe(413);
    const bomb = zlib.gzipSync(big);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect((await post(`${r.url}/v1/traces`, bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
    expect((await post(`${r.url}/v1/traces`, Buffer.from('not protobuf \xff\xff'))).status).toBe(400);
    expect(r.spans()).toEqual([]);
  });

  it('waitFor rejects with a summary of what did arrive', async () => {
    const r = await receiver();
    await emitTrace(new JsonExporter({ url: `${r.url}/v1/traces` }));
    await expect(r.waitFor((s) => s.some((x) => x.name === 'never'), 300)).rejects.toThrow(
      /timed out after 300 ms.*received 2 spans in 2 requests: "pg\.query:SELECT" x1, "GET \/members" x1/,
    );
    r.clear();
    expect(r.spans()).toEqual([]);
    expect(r.requests).toEqual([]);
  });
});

describe('decodeTraceRequest', () => {
  it('accepts snake_case JSON keys, string int64 and enum names', () => {
    const body = {
      resource_spans: [{
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }] },
        scope_spans: [{
          scope: { name: 's' },
          spans: [{
            trace_id: '0AF7651916CD43DD8448EB211C80319C',
            span_id: 'b7ad6b7169203331',
            name: 'x',
            kind: 'SPAN_KIND_CLIENT',
            start_time_unix_nano: '1700000000000000000',
            end_time_unix_nano: '1700000000002500000',
            attributes: [
              { key: 'n', value: { int_value: '9007199254740991' } },
              { key: 'kv', value: { kvlist_value: { values: [{ key: 'a', value: { bool_value: true } }] } } },
            ],
            status: { code: 'STATUS_CODE_OK' },
          }],
        }],
      }],
    };
    const [span] = decodeTraceRequest(Buffer.from(JSON.stringify(body)), 'application/json; charset=utf-8');
    expect(span.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.parentSpanId).toBe('');
    expect(span.kind).toBe(3);
    expect(span.durationMs).toBe(2.5);
    expect(span.attributes).toEqual({ n: 9007199254740991, kv: { a: true } });
    expect(span.status).toEqual({ code: 1, message: '' });
    expect(span.resource.attributes).toEqual({ 'service.name': 'svc' });
    expect(span.scope).toEqual({ name: 's', version: '' });
  });
});

describe('formatTraceTree', () => {
  const T = 'aa'.repeat(16);
  const span = (spanId: string, parentSpanId: string, name: string, startMs: number, durationMs: number, extra: Partial<DecodedSpan> = {}): DecodedSpan => ({
    traceId: T,
    spanId,
    parentSpanId,
    traceState: '',
    name,
    kind: 1,
    startTimeUnixNano: BigInt(startMs) * 1_000_000n,
    endTimeUnixNano: BigInt(startMs) * 1_000_000n + BigInt(Math.round(durationMs * 1e6)),
    durationMs,
    attributes: {},
    events: [],
    links: [],
    status: { code: 0, message: '' },
    resource: { attributes: {} },
    scope: { name: '', version: '' },
    ...extra,
  });
  const db = (sql: string) => ({ attributes: { 'db.system.name': 'postgresql', 'db.query.text': sql } });

  it('renders root first, children by start time, db summary, perf attributes and findings', () => {
    const long = `SELECT ${Array.from({ length: 30 }, (_, i) => `col${i}`).join(', ')}\n  FROM members`;
    const spans = [
      span('03', '02', 'pg.query:SELECT one', 30, 2.25, db('SELECT * FROM orders WHERE member_id = $1')),
      span('04', '01', 'pg.query:SELECT list', 5, 3, db(long)),
      span('02', '01', 'handler', 20, 10),
      span('01', '', 'GET /members', 0, 45.26, {
        attributes: { 'http.route': '/members', 'perf.health_score': 72, 'perf.finding_count': 1 },
        events: [
          { name: 'log', timeUnixNano: 0n, attributes: {} },
          {
            name: 'perf.finding',
            timeUnixNano: 0n,
            attributes: { 'perf.finding.type': 'n_plus_one', 'perf.finding.severity': 'warning', 'perf.finding.message': '20 similar queries' },
          },
        ],
      }),
    ];
    const out = formatTraceTree(spans);
    const shortened = long.replace(/\s+/g, ' ').slice(0, 79) + '…';
    expect(out).toBe(
      [
        `trace ${T} (4 spans)`,
        'GET /members 45.3 ms',
        '│  perf: health_score=72 finding_count=1',
        '│  db: 2 queries, 5.3 ms',
        '│  ! n_plus_one warning: 20 similar queries',
        `├─ pg.query:SELECT list 3.0 ms  ${shortened}`,
        '└─ handler 10.0 ms',
        '   └─ pg.query:SELECT one 2.3 ms  SELECT * FROM orders WHERE member_id = $1',
      ].join('\n'),
    );
    expect(formatTraceTree(spans, { color: true })).toContain('\x1b[');
    expect(formatTraceTree([])).toBe('');
  });

  it('prints a finding\'s call stack innermost first, relative to the working directory, else its code.* frame', () => {
    const file = `${process.cwd()}/routes/payments.js`;
    const finding = (attributes: Record<string, unknown>) => ({
      name: 'perf.finding',
      timeUnixNano: 0n,
      attributes: { 'perf.finding.type': 'n_plus_one', 'perf.finding.severity': 'warning', 'perf.finding.message': 'N+1', ...attributes },
    });
    const withStack = formatTraceTree([
      span('01', '', 'GET', 0, 5, {
        events: [finding({ 'code.filepath': file, 'code.lineno': 9, 'code.function': 'find', 'perf.finding.call_stack': `at find (${file}:9)\nat /srv/other.js:3\nat loop (${file}:50)` })],
      }),
    ]);
    const lines = (out: string) => out.split('\n').map((l) => l.trim());
    expect(lines(withStack).slice(-3)).toEqual(['at routes/payments.js:9 (find)', 'called from /srv/other.js:3', 'called from routes/payments.js:50 (loop)']);
    const codeOnly = formatTraceTree([span('01', '', 'GET', 0, 5, { events: [finding({ 'code.filepath': file, 'code.lineno': 9 })] })]);
    expect(lines(codeOnly).slice(-1)).toEqual(['at routes/payments.js:9']);
  });
});
