import { SpanKind, trace, ROOT_CONTEXT } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, type AgentConfig } from '../../src/config';
import { StatementCache } from '../../src/sql';
import { TraceBuffer } from '../../src/processing/trace-buffer';
import { QuerySite, holderOf } from '../../src/analysis/call-site-cache';
import type { StackHolder } from '../../src/analysis/call-site';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('config');
const config: AgentConfig = loaded.config;

const buffers: TraceBuffer[] = [];
afterEach(async () => {
  for (const b of buffers.splice(0)) await b.shutdown();
});

function setup(analysisEnabled = true) {
  const statements = new StatementCache(100);
  const buffer = new TraceBuffer({
    config: () => ({ ...config, analysis: { enabled: analysisEnabled } }),
    analysis: { analyze: () => [], health: () => ({ score: 100, health: 'excellent' }) },
    sink: { add: () => undefined },
    limits: { maxTraces: 10, maxSpansPerTrace: 100, maxBufferedSpans: 1000, traceTimeoutMs: 60_000 },
    fingerprintOf: (text) => statements.get(text).fingerprint,
  });
  buffers.push(buffer);
  const tracer = new BasicTracerProvider({ spanProcessors: [buffer] }).getTracer('t');
  const root = tracer.startSpan('GET', { kind: SpanKind.SERVER });
  return { buffer, tracer, root, active: trace.setSpan(ROOT_CONTEXT, root) };
}

const skip = () => undefined;

const PAYMENTS = 'SELECT * FROM payments WHERE invoice_id = $1';

/** The stack holder a query issued now would resolve its call site from. */
function holderNow(buffer: TraceBuffer, active: ReturnType<typeof trace.setSpan>, statement: unknown): StackHolder | undefined {
  const ref = buffer.callSiteFor(active, statement, skip);
  return ref === null ? undefined : holderOf(ref);
}

describe('TraceBuffer.callSiteFor: few stack captures, each N+1 from its own operation', () => {
  it('gives every query of a statement in a request the same QuerySite, borrowing the statement\'s call site', () => {
    const { buffer, active } = setup();
    const first = buffer.callSiteFor(active, PAYMENTS, skip);
    expect(first).toBeInstanceOf(QuerySite);
    expect(buffer.callSiteFor(active, PAYMENTS, skip)).toBe(first);
    expect(buffer.callSiteFor(active, { text: PAYMENTS }, skip)).toBe(first);
    const other = buffer.callSiteFor(active, 'SELECT * FROM invoices WHERE id = 7', skip);
    expect(other).not.toBe(first);
    expect(buffer.callSiteFor(active, 'SELECT * FROM invoices WHERE id = 8', skip)).toBe(other); // same statement once normalized
    expect((first as QuerySite).isOwn).toBe(false);
  });

  it('captures this request\'s stack at the repeat that makes an N+1 candidate, for the queries issued before it too', () => {
    const { buffer, active } = setup();
    const minRepeats = config.nPlusOne.minRepeats;
    const site = buffer.callSiteFor(active, PAYMENTS, skip) as QuerySite;
    const borrowed = site.holder;
    for (let i = 2; i < minRepeats; i++) expect(holderNow(buffer, active, PAYMENTS)).toBe(borrowed);
    const fresh = holderNow(buffer, active, PAYMENTS); // the minRepeats-th
    expect(fresh).not.toBe(borrowed);
    expect(site.isOwn).toBe(true);
    // Promise.all: the first queries' spans start later and read the site then: they get it too.
    expect(site.holder).toBe(fresh);
    expect(holderNow(buffer, active, PAYMENTS)).toBe(fresh); // no further capture
  });

  it('lends the latest capture of a statement to the next request; once it repeats there, it takes its operation\'s', () => {
    const a = setup();
    const minRepeats = config.nPlusOne.minRepeats;
    for (let i = 0; i < minRepeats; i++) a.buffer.callSiteFor(a.active, PAYMENTS, skip);
    const fromA = (a.buffer.callSiteFor(a.active, PAYMENTS, skip) as QuerySite).holder;
    // Another request of the same operation: borrows, then reuses the operation's capture.
    const b = trace.setSpan(ROOT_CONTEXT, a.tracer.startSpan('GET', { kind: SpanKind.SERVER }));
    const siteB = a.buffer.callSiteFor(b, PAYMENTS, skip) as QuerySite;
    expect(siteB.holder).toBe(fromA); // borrowed: good enough for a query issued once
    for (let i = 1; i < minRepeats; i++) a.buffer.callSiteFor(b, PAYMENTS, skip);
    expect(siteB.isOwn).toBe(true);
    expect(siteB.holder).toBe(fromA); // the operation's N+1 call site: no second capture
    // A request of another operation captures its own once the statement repeats there.
    const c = trace.setSpan(ROOT_CONTEXT, a.tracer.startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/invoices/7/payments' } }));
    const siteC = a.buffer.callSiteFor(c, PAYMENTS, skip) as QuerySite;
    expect(siteC.holder).toBe(fromA);
    for (let i = 1; i < minRepeats; i++) a.buffer.callSiteFor(c, PAYMENTS, skip);
    expect(siteC.isOwn).toBe(true);
    expect(siteC.holder).not.toBe(fromA);
    // Ids in the path do not make another operation (the path is templated as the analysis does).
    const d = trace.setSpan(ROOT_CONTEXT, a.tracer.startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/invoices/8/payments' } }));
    for (let i = 0; i < minRepeats; i++) a.buffer.callSiteFor(d, PAYMENTS, skip);
    expect((a.buffer.callSiteFor(d, PAYMENTS, skip) as QuerySite).holder).toBe(siteC.holder);
  });

  it('captures an operation\'s N+1 call site again once it is 30 s old', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const a = setup();
      const minRepeats = config.nPlusOne.minRepeats;
      const nPlusOne = (active: ReturnType<typeof trace.setSpan>): StackHolder | undefined => {
        for (let i = 0; i < minRepeats; i++) a.buffer.callSiteFor(active, PAYMENTS, skip);
        return (a.buffer.callSiteFor(active, PAYMENTS, skip) as QuerySite).holder;
      };
      const request = (): ReturnType<typeof trace.setSpan> => trace.setSpan(ROOT_CONTEXT, a.tracer.startSpan('GET', { kind: SpanKind.SERVER }));
      const first = nPlusOne(a.active);
      vi.setSystemTime(1_000_000 + 29_000);
      expect(nPlusOne(request())).toBe(first);
      vi.setSystemTime(1_000_000 + 31_000);
      const later = nPlusOne(request());
      expect(later).not.toBe(first);
      expect(nPlusOne(request())).toBe(later);
    } finally {
      vi.useRealTimers();
    }
  });

  it('follows the statement under each parent span apart: two N+1 groups, each with its own capture', () => {
    const { buffer, tracer, active } = setup();
    const minRepeats = config.nPlusOne.minRepeats;
    const underA = trace.setSpan(active, tracer.startSpan('invoice A', {}, active));
    const underB = trace.setSpan(active, tracer.startSpan('invoice B', {}, active));
    const siteA = buffer.callSiteFor(underA, PAYMENTS, skip) as QuerySite;
    for (let i = 1; i < minRepeats; i++) buffer.callSiteFor(underA, PAYMENTS, skip);
    const siteB = buffer.callSiteFor(underB, PAYMENTS, skip) as QuerySite;
    expect(siteB).not.toBe(siteA);
    expect(siteA.isOwn).toBe(true);
    expect(siteB.isOwn).toBe(false); // its first query: not an N+1 candidate under B yet
    for (let i = 1; i < minRepeats; i++) expect(buffer.callSiteFor(underB, PAYMENTS, skip)).toBe(siteB);
    expect(siteB.isOwn).toBe(true);
    expect(siteB.holder).not.toBe(siteA.holder);
    expect(buffer.callSiteFor(underA, PAYMENTS, skip)).toBe(siteA);
  });

  it('gives nothing for a trace it does not collect, or with analysis off', () => {
    const { buffer } = setup();
    const stranger = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 }));
    expect(buffer.callSiteFor(stranger, 'SELECT 1', skip)).toBeNull();
    const off = setup(false);
    expect(off.buffer.callSiteFor(off.active, 'SELECT 1', skip)).toBeNull();
  });

  it('captures when it cannot tell the statement, and outside any trace', () => {
    const { buffer, active } = setup();
    const a = buffer.callSiteFor(active, undefined, skip);
    const b = buffer.callSiteFor(active, undefined, skip);
    expect(a).not.toBeNull();
    expect(b).not.toBe(a);
    expect(buffer.callSiteFor(ROOT_CONTEXT, 'SELECT 1', skip)).not.toBeNull();
  });
});
