import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Context, type Span as ApiSpan } from '@opentelemetry/api';
import { AlwaysOnSampler, BasicTracerProvider, SamplingDecision, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BUILT_IN_ANALYZERS } from '../../src/analysis/analyzers';
import { healthScore } from '../../src/analysis/health-score';
import type { Finding, TraceView } from '../../src/analysis/types';
import { loadConfig, type AgentConfig } from '../../src/config';
import { CALL_SITE_KEY, captureStack } from '../../src/analysis/call-site';
import { DbStatementProcessor } from '../../src/processing/db-statement-processor';
import { StatementCache, fingerprint, normalizeSql } from '../../src/sql';
import {
  TraceBuffer,
  type TraceAnalysis,
  type TraceBufferLimits,
  type TraceBufferOptions,
  type TraceListener,
} from '../../src/processing/trace-buffer';
import { callerLine } from '../support/caller-line';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const defaults: AgentConfig = loaded.config;


/** Line (as V8 numbers it) of the latest startSpan in query(). */
let queryLine = -1;

const RECORD_ONLY: Sampler = {
  shouldSample: () => ({ decision: SamplingDecision.RECORD }),
  toString: () => 'RecordOnly',
};

const DEFAULT_LIMITS: TraceBufferLimits = { maxTraces: 100, maxSpansPerTrace: 100, maxBufferedSpans: 1000, traceTimeoutMs: 60_000 };

interface Harness {
  buffer: TraceBuffer;
  collected: ReadableSpan[];
  tracer: ReturnType<BasicTracerProvider['getTracer']>;
  provider: BasicTracerProvider;
}

const open: Harness[] = [];

afterEach(async () => {
  for (const h of open.splice(0)) await h.provider.shutdown();
  vi.useRealTimers();
});

function fakeAnalysis(findings: Finding[] = [], score = { score: 42, health: 'warning' }): TraceAnalysis & { seen: TraceView[] } {
  const seen: TraceView[] = [];
  return {
    seen,
    analyze: (t) => {
      seen.push(t);
      return findings;
    },
    health: () => score,
  };
}

/** The built-in analyzers, run by hand (no registry), and the real health score. */
const realAnalysis: TraceAnalysis = {
  analyze: (t, config) =>
    BUILT_IN_ANALYZERS.flatMap((a) => {
      const result = a.analyze(t, { config });
      return result == null ? [] : Array.isArray(result) ? result : [result];
    }),
  health: (t, findings, config) => healthScore(t, findings, config),
};

function harness(
  options: {
    config?: Partial<AgentConfig>;
    limits?: Partial<TraceBufferLimits>;
    analysis?: TraceAnalysis;
    sampler?: Sampler;
  } & Partial<Pick<TraceBufferOptions, 'compress' | 'allowKeep' | 'onTrace' | 'onOverhead'>> = {},
): Harness {
  const config: AgentConfig = { ...defaults, ...options.config };
  const collected: ReadableSpan[] = [];
  const buffer = new TraceBuffer({
    config: () => config,
    analysis: options.analysis ?? fakeAnalysis(),
    sink: { add: (span) => collected.push(span) },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    compress: options.compress,
    allowKeep: options.allowKeep,
    onTrace: options.onTrace,
    onOverhead: options.onOverhead,
  });
  const provider = new BasicTracerProvider({
    sampler: options.sampler ?? new AlwaysOnSampler(),
    spanProcessors: [new DbStatementProcessor(new StatementCache(100)), buffer],
  });
  const h = { buffer, collected, tracer: provider.getTracer('trace-buffer-test'), provider };
  open.push(h);
  return h;
}

function startRoot(h: Harness, name = 'GET /members/:id/payments'): ApiSpan {
  return h.tracer.startSpan(name, {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'http.route': '/members/:id/payments' },
  });
}

function under(parent: ApiSpan): Context {
  return trace.setSpan(ROOT_CONTEXT, parent);
}

const DB_SPAN = { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql' } };

/** A finished pg-like query span; the statement is set after start, as instrumentation-pg does. */
function query(h: Harness, parentContext: Context, sql: string): ApiSpan {
  // One declaration on one line, so that the transformed code keeps both calls on one line too.
  const span = h.tracer.startSpan('pg.query', DB_SPAN, parentContext), line = callerLine();
  queryLine = line;
  span.setAttribute('db.query.text', sql);
  span.end();
  return span;
}

function child(h: Harness, parent: ApiSpan, name: string): ApiSpan {
  const span = h.tracer.startSpan(name, {}, under(parent));
  span.end();
  return span;
}

const idOf = (span: ApiSpan | ReadableSpan): string => span.spanContext().spanId;
const ids = (spans: ReadableSpan[]): string[] => spans.map(idOf);
const rootOf = (h: Harness, root: ApiSpan): ReadableSpan => {
  const found = h.collected.find((s) => idOf(s) === idOf(root));
  if (!found) throw new Error('root was not exported');
  return found;
};

const WARNING: Finding = {
  type: 'n_plus_one',
  severity: 'warning',
  message: 'N+1 in GET /members/:id/payments: 6x SELECT ...',
  recommendation: 'load them in one query',
  fingerprint: '0123456789abcdef',
  pattern: 'SELECT id FROM payments WHERE invoice_id = ?',
  repeatCount: 6,
  totalMs: 12.3456,
  callSite: { filepath: '/app/routes/payments.js', lineno: 9, function: 'paymentsFor' },
};
const INFO: Finding = { type: 'select_star', severity: 'info', message: 'SELECT * somewhere', recommendation: '' };

describe('TraceBuffer', () => {
  it('holds a sampled trace until its local root ends, then hands every span to the sink', () => {
    const h = harness();
    const root = startRoot(h);
    const a = child(h, root, 'load member');
    const q = query(h, under(root), 'SELECT id FROM payments WHERE invoice_id = 7');
    expect(h.collected).toEqual([]);
    expect(h.buffer.stats).toMatchObject({ tracesInFlight: 1, bufferedSpans: 2 });

    root.end();
    expect(ids(h.collected).sort()).toEqual([idOf(a), idOf(q), idOf(root)].sort());
    expect(idOf(h.collected[h.collected.length - 1])).toBe(idOf(root));
    expect(h.buffer.stats).toMatchObject({ tracesInFlight: 0, bufferedSpans: 0, analyzedTraces: 1, droppedUnsampled: 0 });
  });

  it('keeps traces apart: ending one root releases only its own spans', () => {
    const h = harness();
    const first = startRoot(h, 'first');
    const second = startRoot(h, 'second');
    const a = child(h, first, 'a');
    const b = child(h, second, 'b');
    second.end();
    expect(ids(h.collected).sort()).toEqual([idOf(b), idOf(second)].sort());
    first.end();
    expect(ids(h.collected).slice(2).sort()).toEqual([idOf(a), idOf(first)].sort());
  });

  it('annotates the root with the summary attributes and one perf.finding event per finding', () => {
    const analysis = fakeAnalysis([WARNING, INFO], { score: 65, health: 'warning' });
    const h = harness({ analysis });
    const root = startRoot(h);
    for (let i = 0; i < 3; i++) query(h, under(root), `SELECT id FROM payments WHERE invoice_id = ${i}`);
    child(h, root, 'render');
    root.end();

    const exported = rootOf(h, root);
    const queryTime = h.collected.filter((s) => s.name === 'pg.query').reduce((sum, s) => sum + s.duration[0] * 1000 + s.duration[1] / 1e6, 0);
    expect(exported.attributes).toMatchObject({
      'perf.query_count': 3,
      'perf.health_score': 65,
      'perf.health': 'warning',
      'perf.findings.count': 2,
      'perf.n_plus_one.count': 1,
    });
    expect(exported.attributes['perf.query_time_ms']).toBeCloseTo(queryTime, 2);
    expect(exported.attributes['perf.sampling.reason']).toBeUndefined();

    const events = exported.events.filter((e) => e.name === 'perf.finding');
    expect(events).toHaveLength(2);
    expect(events[0].attributes).toEqual({
      'perf.finding.type': 'n_plus_one',
      'perf.finding.severity': 'warning',
      'perf.finding.message': WARNING.message,
      'perf.finding.recommendation': 'load them in one query',
      'perf.query.fingerprint': '0123456789abcdef',
      'perf.query.pattern': 'SELECT id FROM payments WHERE invoice_id = ?',
      'perf.finding.repeat_count': 6,
      'perf.finding.total_ms': 12.346,
      'code.filepath': '/app/routes/payments.js',
      'code.lineno': 9,
      'code.function': 'paymentsFor',
    });
    expect(events[1].attributes).toEqual({
      'perf.finding.type': 'select_star',
      'perf.finding.severity': 'info',
      'perf.finding.message': 'SELECT * somewhere',
      'perf.finding.recommendation': '',
    });
    expect(events[0].time).toEqual(exported.endTime);
  });

  it('hands the analysis a view of the local trace: root, spans in end order, db spans with fingerprints', () => {
    const analysis = fakeAnalysis();
    const h = harness({ analysis });
    const root = startRoot(h);
    const render = child(h, root, 'render');
    const q = query(h, under(root), "SELECT name FROM members WHERE email = 'a@b.c'");
    root.end();

    expect(analysis.seen).toHaveLength(1);
    const view = analysis.seen[0];
    expect(view.traceId).toBe(root.spanContext().traceId);
    expect(view.root.spanId).toBe(idOf(root));
    expect(view.root.parentSpanId).toBeUndefined();
    expect(view.operation).toBe('GET /members/:id/payments');
    expect(view.spans.map((s) => s.spanId)).toEqual([idOf(render), idOf(q), idOf(root)]);
    expect(view.dbSpans.map((s) => s.spanId)).toEqual([idOf(q)]);
    const normalized = normalizeSql("SELECT name FROM members WHERE email = 'a@b.c'");
    expect(view.dbSpans[0].statement).toBe(normalized);
    expect(view.dbSpans[0].statement).not.toContain('a@b.c');
    expect(view.dbSpans[0].fingerprint).toBe(fingerprint(normalized));
    expect(view.childrenOf(idOf(root)).map((s) => s.spanId)).toEqual([idOf(render), idOf(q)]);
  });

  it('treats a span whose parent is remote as the local root', () => {
    const analysis = fakeAnalysis([WARNING]);
    const h = harness({ analysis });
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const root = h.tracer.startSpan('GET /remote', { kind: SpanKind.SERVER }, remote);
    const c = child(h, root, 'work');
    expect(h.collected).toEqual([]);
    root.end();
    expect(ids(h.collected)).toEqual([idOf(c), idOf(root)]);
    expect(analysis.seen[0].root.parentSpanId).toBeUndefined();
    expect(rootOf(h, root).attributes['perf.findings.count']).toBe(1);
  });

  it('calls onTrace once per analyzed trace with the trace, the findings and the summary', () => {
    const onTrace = vi.fn<TraceListener>();
    const h = harness({ analysis: fakeAnalysis([WARNING], { score: 80, health: 'good' }), onTrace });
    const root = startRoot(h);
    query(h, under(root), 'SELECT 1');
    root.end();
    expect(onTrace).toHaveBeenCalledTimes(1);
    const [view, findings, summary] = onTrace.mock.calls[0];
    expect(view.root.spanId).toBe(idOf(root));
    expect(findings).toEqual([WARNING]);
    expect(summary).toMatchObject({ queryCount: 1, healthScore: 80, health: 'good' });
  });

  it('annotates with the real built-in analyzers: an N+1 with its pattern, fingerprint and call site', () => {
    const h = harness({ analysis: realAnalysis });
    const root = startRoot(h);
    for (let i = 1; i <= 6; i++) query(h, under(root), `SELECT id, amount_cents FROM payments WHERE invoice_id = ${i}`);
    root.end();

    const exported = rootOf(h, root);
    const pattern = normalizeSql('SELECT id, amount_cents FROM payments WHERE invoice_id = 1');
    expect(exported.attributes['perf.query_count']).toBe(6);
    expect(exported.attributes['perf.n_plus_one.count']).toBe(1);
    expect(exported.attributes['perf.health']).toMatch(/^(excellent|good|warning|critical)$/);
    const events = exported.events.filter((e) => e.name === 'perf.finding');
    expect(exported.attributes['perf.findings.count']).toBe(events.length);
    const nPlusOne = events.find((e) => e.attributes?.['perf.finding.type'] === 'n_plus_one');
    expect(nPlusOne?.attributes).toMatchObject({
      'perf.query.pattern': pattern,
      'perf.query.fingerprint': fingerprint(pattern),
      'perf.finding.repeat_count': 6,
      'code.filepath': __filename,
      'code.lineno': queryLine,
    });
    // every exported query carries the normalized statement and its fingerprint, never the literal
    for (const span of h.collected.filter((s) => s.name === 'pg.query')) {
      expect(span.attributes['db.query.text']).toBe(pattern);
      expect(span.attributes['perf.query.fingerprint']).toBe(fingerprint(pattern));
    }
  });

  it('hands the analyzers the call site a driver wrapper put in the parent context', () => {
    let resolved: ReturnType<TraceView['root']['callSite']>;
    const analysis: TraceAnalysis = {
      analyze: (t) => {
        resolved = t.dbSpans[0].callSite();
        return [];
      },
      health: () => ({ score: 100, health: 'excellent' }),
    };
    const h = harness({ analysis });
    const root = startRoot(h);
    const holder = captureStack(), line = callerLine();
    query(h, under(root).setValue(CALL_SITE_KEY, holder), 'SELECT 1');
    root.end();
    expect(line).toBeGreaterThan(0);
    expect(resolved).toMatchObject({ filepath: __filename, lineno: line });
    expect(resolved?.lineno).not.toBe(queryLine); // the holder's line, not where the span started
    expect(holder.resolved).toEqual(resolved);
  });

  it('records no call sites when analysis is off', () => {
    const h = harness({ config: { analysis: { enabled: false } } });
    const root = startRoot(h);
    const holder = captureStack();
    query(h, under(root).setValue(CALL_SITE_KEY, holder), 'SELECT 1');
    root.end();
    expect(holder.resolved).toBeUndefined();
  });

  describe('unsampled (RECORD_ONLY) traces', () => {
    it('drops a trace without a finding of severity warning or worse', () => {
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([INFO]) });
      const root = startRoot(h);
      child(h, root, 'a');
      root.end();
      expect(h.collected).toEqual([]);
      expect(h.buffer.stats).toMatchObject({ droppedUnsampled: 1, keptForFindings: 0, analyzedTraces: 1, tracesInFlight: 0, bufferedSpans: 0 });
    });

    it('exports a trace with a warning finding, marked perf.sampling.reason=finding', () => {
      const allowKeep = vi.fn(() => true);
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([INFO, WARNING]), allowKeep });
      const root = startRoot(h);
      expect(root.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
      const a = child(h, root, 'a');
      expect(h.collected).toEqual([]);
      root.end();
      expect(ids(h.collected)).toEqual([idOf(a), idOf(root)]);
      expect(rootOf(h, root).attributes['perf.sampling.reason']).toBe('finding');
      expect(allowKeep).toHaveBeenCalledTimes(1);
      expect(h.buffer.stats).toMatchObject({ keptForFindings: 1, droppedUnsampled: 0 });
    });

    it('exports a trace with a critical finding', () => {
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([{ ...INFO, severity: 'critical' }]) });
      const root = startRoot(h);
      root.end();
      expect(ids(h.collected)).toEqual([idOf(root)]);
    });

    it('drops it when allowKeep refuses (the rate limit)', () => {
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([WARNING]), allowKeep: () => false });
      const root = startRoot(h);
      child(h, root, 'a');
      root.end();
      expect(h.collected).toEqual([]);
      expect(h.buffer.stats).toMatchObject({ droppedUnsampled: 1, keptForFindings: 0 });
    });

    it('drops it when keepFindings is off, and does not even collect it', () => {
      const analysis = fakeAnalysis([WARNING]);
      const h = harness({ sampler: RECORD_ONLY, analysis, config: { sampling: { ...defaults.sampling, keepFindings: false } } });
      const root = startRoot(h);
      child(h, root, 'a');
      expect(h.buffer.stats.tracesInFlight).toBe(0);
      root.end();
      expect(h.collected).toEqual([]);
      expect(analysis.seen).toHaveLength(0);
    });

    it('exports a trace whose request failed, marked perf.sampling.reason=error (issue 8)', () => {
      const allowKeep = vi.fn(() => true);
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([]), allowKeep });
      const root = startRoot(h);
      child(h, root, 'a');
      root.setStatus({ code: SpanStatusCode.ERROR });
      root.end();
      expect(ids(h.collected)).toHaveLength(2);
      expect(rootOf(h, root).attributes['perf.sampling.reason']).toBe('error');
      expect(allowKeep).toHaveBeenCalledTimes(1);
      expect(h.buffer.stats).toMatchObject({ keptForErrors: 1, keptForFindings: 0, droppedUnsampled: 0 });
    });

    it('exports a trace one of whose queries failed, before a finding', () => {
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([WARNING]) });
      const root = startRoot(h);
      query(h, under(root), 'SELECT 1');
      const failed = h.tracer.startSpan('pg.query', DB_SPAN, under(root));
      failed.setStatus({ code: SpanStatusCode.ERROR, message: 'relation "nope" does not exist' });
      failed.end();
      root.end();
      expect(ids(h.collected)).toContain(idOf(failed));
      expect(rootOf(h, root).attributes['perf.sampling.reason']).toBe('error');
    });

    it('keeps an error within the same budget as findings: refused when allowKeep says no', () => {
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([]), allowKeep: () => false });
      const root = startRoot(h);
      root.setStatus({ code: SpanStatusCode.ERROR });
      root.end();
      expect(h.collected).toEqual([]);
      expect(h.buffer.stats).toMatchObject({ droppedUnsampled: 1, keptForErrors: 0 });
    });

    it('does not keep a failed span that is not a query (a handled outgoing call, say)', () => {
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([]) });
      const root = startRoot(h);
      const call = h.tracer.startSpan('GET', { kind: SpanKind.CLIENT }, under(root));
      call.setStatus({ code: SpanStatusCode.ERROR });
      call.end();
      root.end();
      expect(h.collected).toEqual([]);
    });

    it('does not ask allowKeep for a sampled trace', () => {
      const allowKeep = vi.fn(() => false);
      const h = harness({ analysis: fakeAnalysis([WARNING]), allowKeep });
      const root = startRoot(h);
      root.end();
      expect(allowKeep).not.toHaveBeenCalled();
      expect(ids(h.collected)).toEqual([idOf(root)]);
      expect(rootOf(h, root).attributes['perf.sampling.reason']).toBeUndefined();
    });
  });

  describe('with analysis disabled', () => {
    it('still holds and exports the sampled trace (for compression) but adds no attributes', () => {
      const analysis = fakeAnalysis([WARNING]);
      const compress = vi.fn((spans: ReadableSpan[]) => spans);
      const h = harness({ analysis, compress, config: { analysis: { enabled: false } } });
      const root = startRoot(h);
      const q = query(h, under(root), 'SELECT 1');
      expect(h.collected).toEqual([]);
      root.end();
      expect(ids(h.collected)).toEqual([idOf(q), idOf(root)]);
      expect(analysis.seen).toHaveLength(0);
      expect(compress).toHaveBeenCalledTimes(1);
      const exported = rootOf(h, root);
      expect(Object.keys(exported.attributes).filter((k) => k.startsWith('perf.'))).toEqual([]);
      expect(exported.events).toEqual([]);
      expect(h.buffer.stats.analyzedTraces).toBe(0);
    });

    it('with compression off too, passes sampled spans straight through and drops unsampled ones', () => {
      const off = { analysis: { enabled: false }, compression: { ...defaults.compression, enabled: false } };
      const h = harness({ config: off });
      const root = startRoot(h);
      const a = child(h, root, 'a');
      expect(ids(h.collected)).toEqual([idOf(a)]);
      root.end();
      expect(ids(h.collected)).toEqual([idOf(a), idOf(root)]);

      const u = harness({ config: off, sampler: RECORD_ONLY });
      const uroot = startRoot(u);
      child(u, uroot, 'a');
      uroot.end();
      expect(u.collected).toEqual([]);
    });
  });

  describe('bounds', () => {
    it('past maxTraces, new traces bypass analysis but their sampled spans still reach the sink', () => {
      const analysis = fakeAnalysis([WARNING]);
      const h = harness({ analysis, limits: { maxTraces: 1 } });
      const first = startRoot(h, 'first');
      const second = startRoot(h, 'second');
      expect(h.buffer.stats).toMatchObject({ tracesInFlight: 1, bypassedTraces: 1 });
      const b = child(h, second, 'b');
      expect(ids(h.collected)).toEqual([idOf(b)]); // not held
      second.end();
      expect(ids(h.collected)).toEqual([idOf(b), idOf(second)]);
      expect(rootOf(h, second).attributes['perf.findings.count']).toBeUndefined();
      expect(analysis.seen).toHaveLength(0);

      first.end();
      expect(analysis.seen.map((t) => t.root.name)).toEqual(['first']);
      // room again
      const third = startRoot(h, 'third');
      third.end();
      expect(analysis.seen.map((t) => t.root.name)).toEqual(['first', 'third']);
    });

    it('past maxTraces, an unsampled trace is not exported at all', () => {
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([WARNING]), limits: { maxTraces: 1 } });
      const first = startRoot(h, 'first');
      const second = startRoot(h, 'second');
      child(h, second, 'b');
      second.end();
      expect(h.collected).toEqual([]);
      first.end();
      expect(ids(h.collected)).toEqual([idOf(first)]);
    });

    it('past maxSpansPerTrace, further spans go straight to the sink, are counted, and the rest is analyzed', () => {
      const analysis = fakeAnalysis();
      const h = harness({ analysis, limits: { maxSpansPerTrace: 2 } });
      const root = startRoot(h);
      const q1 = query(h, under(root), 'SELECT 1');
      const q2 = query(h, under(root), 'SELECT 2');
      expect(h.collected).toEqual([]);
      const q3 = query(h, under(root), 'SELECT 3');
      const q4 = query(h, under(root), 'SELECT 4');
      expect(ids(h.collected)).toEqual([idOf(q3), idOf(q4)]);
      expect(h.buffer.stats).toMatchObject({ overflowSpans: 2, bufferedSpans: 2 });
      root.end();
      expect(ids(h.collected)).toEqual([idOf(q3), idOf(q4), idOf(q1), idOf(q2), idOf(root)]);
      expect(analysis.seen[0].dbSpans.map((s) => s.spanId)).toEqual([idOf(q1), idOf(q2)]);
      expect(rootOf(h, root).attributes['perf.query_count']).toBe(2);
    });

    it('past maxBufferedSpans over all traces, spans overflow and new traces bypass', () => {
      const h = harness({ limits: { maxBufferedSpans: 2 } });
      const first = startRoot(h, 'first');
      child(h, first, 'a');
      child(h, first, 'b');
      const c = child(h, first, 'c');
      expect(ids(h.collected)).toEqual([idOf(c)]);
      startRoot(h, 'second');
      expect(h.buffer.stats).toMatchObject({ overflowSpans: 1, bypassedTraces: 1, tracesInFlight: 1, bufferedSpans: 2 });
      first.end();
      expect(h.buffer.stats).toMatchObject({ tracesInFlight: 0, bufferedSpans: 0 });
    });
  });

  describe('traces whose root does not end', () => {
    it('releases the ended spans of a sampled trace after traceTimeoutMs, unanalyzed', async () => {
      const analysis = fakeAnalysis([WARNING]);
      const h = harness({ analysis, limits: { traceTimeoutMs: 30 } });
      const root = startRoot(h);
      const a = child(h, root, 'a');
      const b = child(h, root, 'b');
      expect(h.collected).toEqual([]);
      await vi.waitFor(() => expect(h.buffer.stats.expiredTraces).toBe(1), { timeout: 5000, interval: 10 });
      expect(ids(h.collected)).toEqual([idOf(a), idOf(b)]);
      expect(h.buffer.stats).toMatchObject({ tracesInFlight: 0, bufferedSpans: 0 });

      // the root ending late is exported on its own, without analysis
      root.end();
      expect(ids(h.collected)).toEqual([idOf(a), idOf(b), idOf(root)]);
      expect(analysis.seen).toHaveLength(0);
    });

    it('releases by timeout with fake timers too, and not before', () => {
      vi.useFakeTimers();
      const h = harness({ limits: { traceTimeoutMs: 1000 } });
      const root = startRoot(h);
      const a = child(h, root, 'a');
      vi.advanceTimersByTime(999);
      expect(h.collected).toEqual([]);
      vi.advanceTimersByTime(1001);
      expect(ids(h.collected)).toEqual([idOf(a)]);
      expect(h.buffer.stats.expiredTraces).toBe(1);
    });

    it('drops the spans of an unsampled trace that times out', async () => {
      const h = harness({ sampler: RECORD_ONLY, analysis: fakeAnalysis([WARNING]), limits: { traceTimeoutMs: 20 } });
      const root = startRoot(h);
      child(h, root, 'a');
      await vi.waitFor(() => expect(h.buffer.stats.expiredTraces).toBe(1), { timeout: 5000, interval: 10 });
      expect(h.collected).toEqual([]);
    });

    it('releases every trace in flight at shutdown', async () => {
      const h = harness();
      const root = startRoot(h);
      const a = child(h, root, 'a');
      await h.buffer.shutdown();
      expect(ids(h.collected)).toEqual([idOf(a)]);
      expect(h.buffer.stats).toMatchObject({ expiredTraces: 1, tracesInFlight: 0 });
    });
  });

  it('sends a span that ends after its root (a straggler) straight to the sink', () => {
    const h = harness();
    const root = startRoot(h);
    const late = h.tracer.startSpan('late', {}, under(root));
    root.end();
    expect(ids(h.collected)).toEqual([idOf(root)]);
    late.end();
    expect(ids(h.collected)).toEqual([idOf(root), idOf(late)]);
    expect(h.buffer.stats.tracesInFlight).toBe(0);
  });

  describe('compression', () => {
    it('applies the callback to the whole trace (root last) and exports what it returns', () => {
      let received: string[] = [];
      let config: AgentConfig | undefined;
      const h = harness({
        compress: (spans, cfg) => {
          received = ids(spans);
          config = cfg;
          return spans.filter((s) => s.name !== 'b');
        },
      });
      const root = startRoot(h);
      const a = child(h, root, 'a');
      const b = child(h, root, 'b');
      root.end();
      expect(received).toEqual([idOf(a), idOf(b), idOf(root)]);
      expect(config?.compression.enabled).toBe(true);
      expect(ids(h.collected)).toEqual([idOf(a), idOf(root)]);
    });

    it('is skipped when compression is disabled', () => {
      const compress = vi.fn(() => []);
      const h = harness({ compress, config: { compression: { ...defaults.compression, enabled: false } } });
      const root = startRoot(h);
      child(h, root, 'a');
      root.end();
      expect(compress).not.toHaveBeenCalled();
      expect(h.collected).toHaveLength(2);
    });

    it('exports the trace uncompressed when the callback throws', () => {
      const h = harness({
        compress: () => {
          throw new Error('compression bug');
        },
      });
      const root = startRoot(h);
      const a = child(h, root, 'a');
      expect(() => root.end()).not.toThrow();
      expect(ids(h.collected)).toEqual([idOf(a), idOf(root)]);
    });
  });

  describe('onOverhead', () => {
    it('reports the time spent on analysis plus compression and hand-off, once per released trace', () => {
      // a clock only the analysis (2 ms) and the compression (3 ms) move
      let now = 10_000;
      vi.spyOn(performance, 'now').mockImplementation(() => now);
      const onOverhead = vi.fn<(ms: number) => void>();
      const analysis: TraceAnalysis = {
        analyze: () => {
          now += 2;
          return [];
        },
        health: () => ({ score: 100, health: 'excellent' }),
      };
      const compress = (spans: ReadableSpan[]): ReadableSpan[] => {
        now += 3;
        return spans;
      };
      try {
        const h = harness({ analysis, compress, onOverhead });
        const root = startRoot(h);
        child(h, root, 'a');
        expect(onOverhead).not.toHaveBeenCalled();
        root.end();
        expect(onOverhead.mock.calls).toEqual([[5]]);
      } finally {
        vi.restoreAllMocks();
      }
    });

    it('is also called for a dropped unsampled trace, and not for a trace that was never collected', () => {
      // a clock only the analysis (2 ms) moves
      let now = 10_000;
      vi.spyOn(performance, 'now').mockImplementation(() => now);
      const analysis: TraceAnalysis = {
        analyze: () => {
          now += 2;
          return [];
        },
        health: () => ({ score: 100, health: 'excellent' }),
      };
      const onOverhead = vi.fn<(ms: number) => void>();
      try {
        const h = harness({ sampler: RECORD_ONLY, analysis, onOverhead, limits: { maxTraces: 1 } });
        const first = startRoot(h, 'first');
        const bypassed = startRoot(h, 'bypassed');
        bypassed.end();
        expect(onOverhead).not.toHaveBeenCalled();
        first.end();
        expect(onOverhead.mock.calls).toEqual([[2]]);
        expect(h.collected).toEqual([]);
      } finally {
        vi.restoreAllMocks();
      }
    });
  });

  it('an analysis that throws does not escape span.end(), and the trace is still exported', () => {
    const analysis: TraceAnalysis = {
      analyze: () => {
        throw new Error('analyzer bug');
      },
      health: () => ({ score: 100, health: 'excellent' }),
    };
    const h = harness({ analysis });
    const root = startRoot(h);
    const a = child(h, root, 'a');
    expect(() => root.end()).not.toThrow();
    expect(ids(h.collected)).toEqual([idOf(a), idOf(root)]);
    expect(rootOf(h, root).attributes['perf.health']).toBeUndefined();
  });

  it('an onTrace listener that throws does not escape span.end()', () => {
    const h = harness({
      onTrace: () => {
        throw new Error('listener bug');
      },
    });
    const root = startRoot(h);
    expect(() => root.end()).not.toThrow();
    expect(ids(h.collected)).toEqual([idOf(root)]);
  });

  it('owns its sink: the provider\'s forceFlush and shutdown reach it, shutdown after the held spans', async () => {
    const calls: string[] = [];
    const buffer = new TraceBuffer({
      config: () => defaults,
      analysis: fakeAnalysis(),
      sink: {
        add: (span) => calls.push(`add ${span.name}`),
        forceFlush: async () => {
          calls.push('forceFlush');
        },
        shutdown: async () => {
          calls.push('shutdown');
        },
      },
      limits: DEFAULT_LIMITS,
    });
    const provider = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [buffer] });
    const tracer = provider.getTracer('t');
    await provider.forceFlush();
    expect(calls).toEqual(['forceFlush']);
    const root = tracer.startSpan('root');
    tracer.startSpan('held', {}, trace.setSpan(ROOT_CONTEXT, root)).end(); // its root never ends
    await provider.shutdown();
    expect(calls).toEqual(['forceFlush', 'add held', 'shutdown']);
  });

  it('a sink that throws does not escape span.end()', () => {
    const buffer = new TraceBuffer({
      config: () => defaults,
      analysis: fakeAnalysis(),
      sink: {
        add: () => {
          throw new Error('sink bug');
        },
      },
      limits: DEFAULT_LIMITS,
    });
    const provider = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [buffer] });
    open.push({ buffer, collected: [], tracer: provider.getTracer('t'), provider });
    const root = provider.getTracer('t').startSpan('root');
    expect(() => root.end()).not.toThrow();
  });

  it('a second local root in the same trace does not lose the spans the first one buffered', () => {
    const analysis = fakeAnalysis();
    const h = harness({ analysis });
    const outer = startRoot(h, 'GET /outer');
    const before = child(h, outer, 'before the self call');
    const client = h.tracer.startSpan('GET', { kind: SpanKind.CLIENT }, under(outer));
    const inbound = trace.setSpanContext(ROOT_CONTEXT, { ...client.spanContext(), isRemote: true });
    const inner = h.tracer.startSpan('GET /inner', { kind: SpanKind.SERVER }, inbound);
    inner.end();
    client.end();
    outer.end();
    expect(ids(h.collected).sort()).toEqual([idOf(before), idOf(client), idOf(inner), idOf(outer)].sort());
    expect(h.buffer.stats.bufferedSpans).toBe(0);
  });
});
