import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { BufferedTraceView } from '../../src/analysis/trace-view';
import type { SpanView } from '../../src/analysis/types';
import type { StackHolder } from '../../src/analysis/call-site';

/** Real ended spans: a server root, a db child via db.system.name, one via db.system, a failed child. */
async function spans(): Promise<{ root: ReadableSpan; others: ReadableSpan[] }> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('trace-view-test');
  const r = tracer.startSpan('GET /members/:id', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'url.path': '/members/5' },
  });
  const ctx = trace.setSpan(ROOT_CONTEXT, r);
  const service = tracer.startSpan('load member', {}, ctx);
  const pg = tracer.startSpan(
    'pg.query',
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM members WHERE id = ?', 'perf.query.fingerprint': 'aaaaaaaaaaaaaaaa' } },
    trace.setSpan(ROOT_CONTEXT, service),
  );
  pg.end();
  service.end();
  const mysql = tracer.startSpan('mysql', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'mysql', 'db.statement': 'SELECT 1' } }, ctx);
  mysql.setStatus({ code: SpanStatusCode.ERROR });
  mysql.end();
  r.end();
  await provider.forceFlush();
  const finished = memory.getFinishedSpans();
  await provider.shutdown();
  return { root: finished[finished.length - 1], others: finished.slice(0, -1) };
}

describe('BufferedTraceView', () => {
  it('lists the spans in end order with the root last, and the database spans apart', async () => {
    const { root: r, others } = await spans();
    const view = new BufferedTraceView(r, others, undefined);
    expect(view.traceId).toBe(r.spanContext().traceId);
    expect(view.spans.map((s) => s.name)).toEqual(['pg.query', 'load member', 'mysql', 'GET /members/:id']);
    expect(view.root).toBe(view.spans[3]);
    expect(view.dbSpans.map((s) => s.name)).toEqual(['pg.query', 'mysql']);
    expect(view.operation).toBe('GET /members/:id');
  });

  it('describes each span: parent, times, database fields, error', async () => {
    const { root: r, others } = await spans();
    const view = new BufferedTraceView(r, others, undefined);
    const [pg, service, mysql] = view.spans;
    expect(view.root.parentSpanId).toBeUndefined();
    expect(service.parentSpanId).toBe(r.spanContext().spanId);
    expect(pg.parentSpanId).toBe(service.spanId);
    expect(pg).toMatchObject({ isDb: true, dbSystem: 'postgresql', statement: 'SELECT * FROM members WHERE id = ?', fingerprint: 'aaaaaaaaaaaaaaaa', error: false, kind: SpanKind.CLIENT });
    expect(mysql).toMatchObject({ isDb: true, dbSystem: 'mysql', statement: 'SELECT 1', error: true });
    expect(mysql.fingerprint).toBeUndefined();
    expect(service).toMatchObject({ isDb: false, error: false });
    expect(service.statement).toBeUndefined();
    for (const s of view.spans) {
      // epoch milliseconds as doubles keep about a quarter of a microsecond
      expect(s.endMs - s.startMs).toBeCloseTo(s.durationMs, 3);
      expect(s.startMs).toBeGreaterThan(1_600_000_000_000);
    }
    expect(view.root.startMs).toBeLessThanOrEqual(pg.startMs);
  });

  it('childrenOf gives the direct children of a span, and nothing for a leaf or an unknown id', async () => {
    const { root: r, others } = await spans();
    const view = new BufferedTraceView(r, others, undefined);
    const [pg, service, mysql] = view.spans;
    expect(view.childrenOf(view.root.spanId)).toEqual([service, mysql]);
    expect(view.childrenOf(service.spanId)).toEqual([pg]);
    expect(view.childrenOf(pg.spanId)).toEqual([]);
    expect(view.childrenOf('ffffffffffffffff')).toEqual([]);
  });

  it('resolves a call site only for spans that have a stack holder', async () => {
    const { root: r, others } = await spans();
    const pgId = others[0].spanContext().spanId;
    const holder: StackHolder = { resolved: { filepath: '/srv/app/routes/members.js', lineno: 12 } };
    const view = new BufferedTraceView(r, others, new Map([[pgId, { site: holder, startOrder: 0, endOrder: 1 }]]));
    expect(view.spans[0].callSite()).toEqual({ filepath: '/srv/app/routes/members.js', lineno: 12 });
    expect(view.spans[1].callSite()).toBeUndefined();
    expect(view.root.callSite()).toBeUndefined();
  });

  it('gives the start and end order the trace buffer noted, only for a span whose end it saw', async () => {
    const { root: r, others } = await spans();
    const [first, second] = others.map((s) => s.spanContext().spanId);
    const view = new BufferedTraceView(r, others, new Map([
      [first, { site: undefined, startOrder: 2, endOrder: 5 }],
      [second, { site: undefined, startOrder: 3, endOrder: undefined }],
    ]));
    expect([view.spans[0].startOrder, view.spans[0].endOrder]).toEqual([2, 5]);
    expect([view.spans[1].startOrder, view.spans[1].endOrder]).toEqual([undefined, undefined]);
    expect(view.root.startOrder).toBeUndefined();
  });

  it('treats the root as local root even when its parent is remote', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const remote = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    provider.getTracer('t').startSpan('GET /remote', {}, remote).end();
    await provider.forceFlush();
    const [only] = memory.getFinishedSpans();
    await provider.shutdown();
    expect(only.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    const view = new BufferedTraceView(only, [], undefined);
    expect(view.root.parentSpanId).toBeUndefined();
    expect(view.spans).toHaveLength(1);
    expect(view.operation).toBe('GET /remote');
  });
});
