import { afterEach, describe, expect, it } from 'vitest';
import { INVALID_SPAN_CONTEXT, ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SamplingResult, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PerfSampler } from '../../src/sampling';
import { ATTR_SAMPLING_RATE, ATTR_SAMPLING_REASON } from '../../src/semconv';
import type { SamplingConfig } from '../../src/sampling';
import { failureCounts } from '../../src/util/safe';
import { seededUint32 } from '../support/random';

function traceIds(count: number, seed: number): string[] {
  const next = seededUint32(seed); // the same trace ids on every run
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    let id = '';
    for (let w = 0; w < 4; w++) id += next().toString(16).padStart(8, '0');
    ids.push(id);
  }
  return ids;
}

const IDS = traceIds(20_000, 20240611);
const SPAN_ID = '00f067aa0ba902b7';
const A_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

function sampler(config: Partial<SamplingConfig> = {}, now?: () => number): PerfSampler {
  return new PerfSampler(
    { rate: 1, criticalOperations: [], keepFindings: false, maxTracesPerSecond: Infinity, ...config },
    { now },
  );
}

function root(s: PerfSampler, traceId = A_TRACE_ID, name = 'op', attributes: Attributes = {}): SamplingResult {
  return s.shouldSample(ROOT_CONTEXT, traceId, name, SpanKind.SERVER, attributes, []);
}

function sampledFraction(s: PerfSampler): number {
  let sampled = 0;
  for (const id of IDS) if (root(s, id).decision === SamplingDecision.RECORD_AND_SAMPLED) sampled++;
  return sampled / IDS.length;
}

function withParent(traceFlags: TraceFlags, isRemote: boolean): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: A_TRACE_ID, spanId: SPAN_ID, traceFlags, isRemote });
}

/** A local span that records but was not sampled, as keep-findings makes them. */
function recordingOnlyParent(): Context {
  const spanContext = { traceId: A_TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE, isRemote: false };
  const span = { spanContext: () => spanContext, isRecording: () => true } as unknown as Span;
  return trace.setSpan(ROOT_CONTEXT, span);
}

const ROOT_ATTRIBUTES = (reason: string, rate: number): Attributes => ({
  [ATTR_SAMPLING_REASON]: reason,
  [ATTR_SAMPLING_RATE]: rate,
});

describe('PerfSampler: ratio on new traces', () => {
  it.each([0.1, 0.5])('samples a fraction %s of 20,000 fixed trace ids, within 4 sigma', (rate) => {
    const sigma = Math.sqrt((rate * (1 - rate)) / IDS.length); // 0.0021 at 0.1, 0.0035 at 0.5
    expect(Math.abs(sampledFraction(sampler({ rate })) - rate)).toBeLessThan(4 * sigma);
  });

  it('samples nothing at rate 0 and everything at rate 1', () => {
    expect(sampledFraction(sampler({ rate: 0 }))).toBe(0);
    expect(sampledFraction(sampler({ rate: 1 }))).toBe(1);
  });

  it("decides exactly as OpenTelemetry's TraceIdRatioBasedSampler for the same ids", () => {
    const edgeIds = ['ffffffffffffffffffffffffffffffff', '00000000000000000000000000000001', '00000000000000000000000000000000', 'not-a-trace-id', 'ABCDEF0123456789ABCDEF0123456789'];
    for (const rate of [0, 0.0001, 0.1, 0.25, 0.5, 0.75, 0.999, 1]) {
      const ours = sampler({ rate });
      const theirs = new TraceIdRatioBasedSampler(rate);
      const disagreements = [...IDS, ...edgeIds].filter(
        (id) =>
          (root(ours, id).decision === SamplingDecision.RECORD_AND_SAMPLED) !==
          (theirs.shouldSample(ROOT_CONTEXT, id).decision === SamplingDecision.RECORD_AND_SAMPLED),
      );
      expect(disagreements, `rate ${rate}`).toEqual([]);
    }
  });

  it('marks a sampled new trace with reason ratio and the configured rate', () => {
    const result = root(sampler({ rate: 1 }));
    expect(result.decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(result.attributes).toEqual(ROOT_ATTRIBUTES('ratio', 1));
  });

  it('records an unsampled new trace for analysis only when keepFindings is on', () => {
    const kept = root(sampler({ rate: 0, keepFindings: true }));
    expect(kept.decision).toBe(SamplingDecision.RECORD);
    expect(kept.attributes).toEqual(ROOT_ATTRIBUTES('ratio', 0));
    expect(root(sampler({ rate: 0, keepFindings: false })).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it('clamps a rate outside 0..1 instead of throwing', () => {
    expect(sampledFraction(sampler({ rate: 7 }))).toBe(1);
    expect(sampledFraction(sampler({ rate: -1 }))).toBe(0);
    expect(sampledFraction(sampler({ rate: Number.NaN }))).toBe(0);
  });
});

describe('PerfSampler: critical operations', () => {
  const critical = (globs: string[], name: string, attributes: Attributes = {}): SamplingResult =>
    root(sampler({ rate: 0, criticalOperations: globs }), A_TRACE_ID, name, attributes);

  it('samples a span whose name matches, with reason critical and rate 1', () => {
    const result = critical(['checkout*'], 'checkout-job');
    expect(result.decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(result.attributes).toEqual(ROOT_ATTRIBUTES('critical', 1));
  });

  it('matches the URL path of an incoming request (url.path, as instrumentation-http sets it)', () => {
    const attributes = { 'http.request.method': 'GET', 'url.path': '/admin/reindex', 'url.query': 'full=1' };
    expect(critical(['/admin/*'], 'GET', attributes).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('strips the query string from http.target', () => {
    expect(critical(['/health'], 'GET', { 'http.target': '/health?verbose=1' }).decision).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(critical(['/health'], 'GET', { 'http.target': '/health#top' }).decision).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });

  it('parses the path from url.full', () => {
    const match = (url: string): SamplingDecision => critical(['/admin/*'], 'GET', { 'url.full': url }).decision;
    expect(match('https://api.example.com:8443/admin/reindex?x=/y')).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(match('https://api.example.com/other?x=/admin/y')).toBe(SamplingDecision.NOT_RECORD);
    expect(critical(['/'], 'GET', { 'url.full': 'http://host?q=1' }).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('prefers url.path over http.target over url.full', () => {
    const attributes = { 'url.path': '/a', 'http.target': '/b', 'url.full': 'http://h/c' };
    expect(critical(['/a'], 'GET', attributes).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(critical(['/b'], 'GET', attributes).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(critical(['/c'], 'GET', attributes).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it('matches `<method> <path>` globs with http.request.method or http.method', () => {
    const glob = ['POST /payments*'];
    const post = { 'http.request.method': 'POST', 'url.path': '/payments/42/capture' };
    expect(critical(glob, 'POST', post).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(critical(glob, 'GET', { ...post, 'http.request.method': 'GET' }).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(critical(glob, 'POST', { 'http.method': 'POST', 'http.target': '/payments?x=1' }).decision).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    const other = { 'http.request.method': '_OTHER', 'http.request.method_original': 'PURGE', 'url.path': '/cache' };
    expect(critical(['PURGE /cache'], 'PURGE', other).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('leaves a trace that matches nothing to the ratio', () => {
    const attributes = { 'http.request.method': 'GET', 'url.path': '/members' };
    expect(critical(['/admin/*', 'POST /payments*', 'checkout'], 'GET', attributes).decision).toBe(
      SamplingDecision.NOT_RECORD,
    );
    expect(critical(['/admin/*'], 'GET', { 'url.path': 42 }).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it('is case-sensitive', () => {
    expect(critical(['/Admin/*'], 'GET', { 'url.path': '/admin/x' }).decision).toBe(SamplingDecision.NOT_RECORD);
  });
});

describe('PerfSampler: parents', () => {
  const child = (s: PerfSampler, context: Context): SamplingResult =>
    s.shouldSample(context, A_TRACE_ID, 'child', SpanKind.INTERNAL, {}, []);

  it('follows a sampled remote parent, even at rate 0, and marks the local root', () => {
    const result = child(sampler({ rate: 0.25 }), withParent(TraceFlags.SAMPLED, true));
    expect(result.decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(result.attributes).toEqual(ROOT_ATTRIBUTES('parent', 0.25));
    expect(child(sampler({ rate: 0 }), withParent(TraceFlags.SAMPLED, true)).decision).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });

  it('drops under an unsampled remote parent, or records it when keepFindings is on', () => {
    const context = withParent(TraceFlags.NONE, true);
    expect(child(sampler({ rate: 1 }), context).decision).toBe(SamplingDecision.NOT_RECORD);
    const kept = child(sampler({ rate: 1, keepFindings: true }), context);
    expect(kept.decision).toBe(SamplingDecision.RECORD);
    expect(kept.attributes).toEqual(ROOT_ATTRIBUTES('parent', 1));
  });

  it('follows a local parent without adding attributes', () => {
    const sampled = child(sampler({ rate: 0 }), withParent(TraceFlags.SAMPLED, false));
    expect(sampled.decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(sampled.attributes).toBeUndefined();
    const dropped = child(sampler({ rate: 1, keepFindings: true }), withParent(TraceFlags.NONE, false));
    expect(dropped.decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it('records the child of a recording-only local parent', () => {
    const result = child(sampler({ rate: 0, keepFindings: true }), recordingOnlyParent());
    expect(result.decision).toBe(SamplingDecision.RECORD);
    expect(result.attributes).toBeUndefined();
    // Switching keep-findings off mid-trace does not cut the local trace in half.
    expect(child(sampler({ rate: 0, keepFindings: false }), recordingOnlyParent()).decision).toBe(SamplingDecision.RECORD);
  });

  it('treats an invalid parent span context as a new trace', () => {
    const context = trace.setSpanContext(ROOT_CONTEXT, INVALID_SPAN_CONTEXT);
    const result = child(sampler({ rate: 1 }), context);
    expect(result.attributes).toEqual(ROOT_ATTRIBUTES('ratio', 1));
  });
});

describe('PerfSampler: rate limit', () => {
  function clock(): { now: () => number; advance: (ms: number) => void } {
    let t = 0;
    return { now: () => t, advance: (ms) => (t += ms) };
  }

  const decisions = (s: PerfSampler, count: number): SamplingDecision[] =>
    IDS.slice(0, count).map((id) => root(s, id).decision);

  it('lets at most maxTracesPerSecond new traces through and records the rest for analysis', () => {
    const c = clock();
    const s = sampler({ rate: 1, keepFindings: true, maxTracesPerSecond: 5 }, c.now);
    const first = decisions(s, 20);
    expect(first.filter((d) => d === SamplingDecision.RECORD_AND_SAMPLED)).toHaveLength(5);
    expect(first.filter((d) => d === SamplingDecision.RECORD)).toHaveLength(15);
    expect(s.rateLimited).toBe(15);
    expect(root(s).attributes).toEqual(ROOT_ATTRIBUTES('ratio', 1));
  });

  it('refills over time', () => {
    const c = clock();
    const s = sampler({ rate: 1, maxTracesPerSecond: 5 }, c.now);
    decisions(s, 20);
    c.advance(400);
    expect(decisions(s, 20).filter((d) => d === SamplingDecision.RECORD_AND_SAMPLED)).toHaveLength(2);
    c.advance(1_000);
    expect(decisions(s, 20).filter((d) => d === SamplingDecision.RECORD_AND_SAMPLED)).toHaveLength(5);
    c.advance(60_000);
    expect(decisions(s, 20).filter((d) => d === SamplingDecision.RECORD_AND_SAMPLED)).toHaveLength(5);
  });

  it('limits critical traces too, but never a trace a remote parent sampled', () => {
    const c = clock();
    const s = sampler({ rate: 0, criticalOperations: ['checkout'], maxTracesPerSecond: 2 }, c.now);
    const critical = [1, 2, 3].map(() => root(s, A_TRACE_ID, 'checkout').decision);
    expect(critical).toEqual([SamplingDecision.RECORD_AND_SAMPLED, SamplingDecision.RECORD_AND_SAMPLED, SamplingDecision.NOT_RECORD]);
    const remote = withParent(TraceFlags.SAMPLED, true);
    expect(s.shouldSample(remote, A_TRACE_ID, 'GET', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('does not spend tokens on traces the ratio dropped', () => {
    const c = clock();
    const s = sampler({ rate: 0, maxTracesPerSecond: 1 }, c.now);
    decisions(s, 100);
    expect(s.rateLimited).toBe(0);
  });
});

describe('PerfSampler: update and the rest', () => {
  it('changes rate, critical globs, keepFindings and the limit live', () => {
    const s = sampler({ rate: 0 });
    expect(sampledFraction(s)).toBe(0);
    s.update({ rate: 0.5 });
    expect(Math.abs(sampledFraction(s) - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / IDS.length));
    expect(root(s, 'ffffffffffffffffffffffffffffffff').attributes).toEqual(ROOT_ATTRIBUTES('ratio', 0.5));
    s.update({ rate: 0, criticalOperations: ['GET /admin*'] });
    expect(root(s, A_TRACE_ID, 'GET', { 'http.request.method': 'GET', 'url.path': '/admin' }).decision).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    s.update({ keepFindings: true });
    expect(root(s).decision).toBe(SamplingDecision.RECORD);
    s.update({ rate: 1, maxTracesPerSecond: 0 });
    expect(root(s).decision).toBe(SamplingDecision.RECORD);
  });

  it('takes a whole sampling section as ConfigStore.onChange hands it over', () => {
    const s = sampler({ rate: 0 });
    s.update({ rate: 1, criticalOperations: ['a', 'b'], keepFindings: true, maxTracesPerSecond: 100 });
    expect(s.toString()).toBe('PerfSampler{rate=1, critical=2 globs, keepFindings=true, maxTracesPerSecond=100}');
  });

  it('returns shared, frozen results', () => {
    const s = sampler({ rate: 1 });
    const a = root(s);
    expect(root(s)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.attributes)).toBe(true);
  });

  it('does no harm when reading the attributes throws', () => {
    const before = failureCounts.get('sampler') ?? 0;
    const hostile = Object.defineProperty({}, 'url.path', {
      get() {
        throw new Error('boom');
      },
    }) as Attributes;
    const s = sampler({ rate: 1, criticalOperations: ['/x'] });
    expect(root(s, A_TRACE_ID, 'GET', hostile).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(failureCounts.get('sampler')).toBe(before + 1);
  });
});

describe('PerfSampler in a real BasicTracerProvider', () => {
  let provider: BasicTracerProvider | undefined;
  afterEach(async () => {
    await provider?.shutdown();
    provider = undefined;
  });

  function setup(config: Partial<SamplingConfig>): { exported: InMemorySpanExporter; ended: ReadableSpan[]; started: number[] } {
    const exported = new InMemorySpanExporter();
    const ended: ReadableSpan[] = [];
    const started: number[] = [];
    const recorder: SpanProcessor = {
      onStart: () => void started.push(1),
      onEnd: (span) => void ended.push(span),
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    provider = new BasicTracerProvider({
      sampler: sampler(config),
      spanProcessors: [new SimpleSpanProcessor(exported), recorder],
    });
    return { exported, ended, started };
  }

  /** A request: a server root, a query under it, and a span under the query. */
  function request(parent: Context = ROOT_CONTEXT): Span[] {
    const tracer = provider!.getTracer('test');
    const rootSpan = tracer.startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'url.path': '/members' } }, parent);
    const rootContext = trace.setSpan(parent, rootSpan);
    const query = tracer.startSpan('pg.query', { kind: SpanKind.CLIENT }, rootContext);
    const inner = tracer.startSpan('inner', {}, trace.setSpan(rootContext, query));
    for (const span of [inner, query, rootSpan]) span.end();
    return [rootSpan, query, inner];
  }

  it('records but does not sample a whole local trace with keepFindings on at rate 0', () => {
    const { exported, ended } = setup({ rate: 0, keepFindings: true });
    const spans = request();
    // Only recording spans reach a processor's onEnd; isRecording() itself turns false at end.
    for (const span of spans) {
      expect(span.spanContext().traceFlags).toBe(TraceFlags.NONE);
      expect(span.spanContext().traceId).toBe(spans[0].spanContext().traceId);
    }
    expect(ended.map((s) => s.name)).toEqual(['inner', 'pg.query', 'GET']);
    expect(exported.getFinishedSpans()).toHaveLength(0);
    const [inner, query, rootSpan] = ended;
    expect(rootSpan.attributes[ATTR_SAMPLING_REASON]).toBe('ratio');
    expect(rootSpan.attributes[ATTR_SAMPLING_RATE]).toBe(0);
    expect(rootSpan.attributes['url.path']).toBe('/members');
    expect(query.attributes[ATTR_SAMPLING_REASON]).toBeUndefined();
    expect(inner.attributes[ATTR_SAMPLING_REASON]).toBeUndefined();
  });

  it('while a span is open, isRecording is true and the sampled flag is off', () => {
    setup({ rate: 0, keepFindings: true });
    const tracer = provider!.getTracer('test');
    const rootSpan = tracer.startSpan('GET', {}, ROOT_CONTEXT);
    const query = tracer.startSpan('pg.query', {}, trace.setSpan(ROOT_CONTEXT, rootSpan));
    expect([rootSpan.isRecording(), query.isRecording()]).toEqual([true, true]);
    expect([rootSpan.spanContext().traceFlags, query.spanContext().traceFlags]).toEqual([TraceFlags.NONE, TraceFlags.NONE]);
    query.end();
    rootSpan.end();
  });

  it('records nothing with keepFindings off at rate 0', () => {
    const { exported, ended, started } = setup({ rate: 0, keepFindings: false });
    const spans = request();
    expect(spans.map((s) => s.isRecording())).toEqual([false, false, false]);
    expect(started).toHaveLength(0);
    expect(ended).toHaveLength(0);
    expect(exported.getFinishedSpans()).toHaveLength(0);
  });

  it('exports a sampled trace with the sampling attributes on its root only', () => {
    const { exported } = setup({ rate: 1 });
    request();
    const spans = exported.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['inner', 'pg.query', 'GET']);
    expect(spans.map((s) => s.attributes[ATTR_SAMPLING_REASON])).toEqual([undefined, undefined, 'ratio']);
    expect(spans.every((s) => s.spanContext().traceFlags === TraceFlags.SAMPLED)).toBe(true);
  });

  it('marks the local root of a trace a remote service sampled with reason parent', () => {
    const { exported } = setup({ rate: 0 });
    request(withParent(TraceFlags.SAMPLED, true));
    const spans = exported.getFinishedSpans();
    expect(spans.map((s) => s.attributes[ATTR_SAMPLING_REASON])).toEqual([undefined, undefined, 'parent']);
    expect(spans[2].parentSpanContext?.spanId).toBe(SPAN_ID);
  });
});

describe('PerfSampler keep-findings recording budget per operation', () => {
  const payments = { 'http.request.method': 'GET', 'url.path': '/members/7/payments' };
  const otherMember = { 'http.request.method': 'GET', 'url.path': '/members/8/payments' };
  const health = { 'http.request.method': 'GET', 'url.path': '/health' };
  const decide = (s: PerfSampler, attributes: Attributes) => s.shouldSample(ROOT_CONTEXT, A_TRACE_ID, 'GET', SpanKind.SERVER, attributes, []).decision;

  it('records unsampled requests of one operation up to its budget per second, then none until it refills', () => {
    let now = 0;
    const s = sampler({ rate: 0, keepFindings: true, keepFindingsMaxPerSecond: 2 }, () => now);
    expect([decide(s, payments), decide(s, otherMember), decide(s, payments)]).toEqual([SamplingDecision.RECORD, SamplingDecision.RECORD, SamplingDecision.NOT_RECORD]);
    expect(decide(s, health)).toBe(SamplingDecision.RECORD); // another operation has its own budget
    now += 500;
    expect(decide(s, payments)).toBe(SamplingDecision.RECORD);
    expect(decide(s, payments)).toBe(SamplingDecision.NOT_RECORD);
  });

  it('does not limit what the dice keep', () => {
    const s = sampler({ rate: 1, keepFindings: true, keepFindingsMaxPerSecond: 1 });
    for (let i = 0; i < 5; i++) expect(decide(s, payments)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('applies to a remote unsampled parent too, and changes live', () => {
    let now = 0;
    const s = sampler({ rate: 0, keepFindings: true, keepFindingsMaxPerSecond: 1 }, () => now);
    const remote = trace.setSpanContext(ROOT_CONTEXT, { traceId: A_TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE, isRemote: true });
    expect(s.shouldSample(remote, A_TRACE_ID, 'GET', SpanKind.SERVER, payments, []).decision).toBe(SamplingDecision.RECORD);
    expect(s.shouldSample(remote, A_TRACE_ID, 'GET', SpanKind.SERVER, payments, []).decision).toBe(SamplingDecision.NOT_RECORD);
    s.update({ keepFindingsMaxPerSecond: Infinity });
    expect(s.shouldSample(remote, A_TRACE_ID, 'GET', SpanKind.SERVER, payments, []).decision).toBe(SamplingDecision.RECORD);
  });
});

describe('PerfSampler.noteFinding: the keep-findings budget follows the findings', () => {
  const payments = { 'http.request.method': 'GET', 'url.path': '/members/7/payments' };
  const decide = (s: PerfSampler, attributes: Attributes) => s.shouldSample(ROOT_CONTEXT, A_TRACE_ID, 'GET', SpanKind.SERVER, attributes, []).decision;
  /** Requests recorded out of 40 in 4 s, after a second to spend the burst. */
  const recordedIn4s = (s: PerfSampler, clock: { t: number }, attributes: Attributes): number => {
    let n = 0;
    for (let i = 0; i < 50; i++) {
      if (decide(s, attributes) === SamplingDecision.RECORD && i >= 10) n++;
      clock.t += 100;
    }
    return n;
  };

  it('reaches the budget its request was charged to, also once a framework added the route', () => {
    const clock = { t: 0 };
    const s = sampler({ rate: 0, keepFindings: true, keepFindingsMaxPerSecond: 2, keepFindingsQuietPerSecond: 0.5 }, () => clock.t);
    decide(s, payments);
    clock.t = 120_000;
    expect(recordedIn4s(s, clock, payments)).toBeLessThanOrEqual(3); // quiet: 0.5 a second
    // At its end the root carries the framework's route: the finding is noted by its start name too.
    s.noteFinding('GET /members/:memberId/payments', 'GET /members/:memberId/payments', { ...payments, 'http.route': '/members/:memberId/payments' });
    expect(recordedIn4s(s, clock, payments)).toBeGreaterThanOrEqual(7); // 2 a second again
  });
});
