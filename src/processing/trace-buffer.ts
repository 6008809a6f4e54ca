import { performance } from 'node:perf_hooks';
import { TraceFlags, trace, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { annotateRoot, summarize } from '../analysis/annotate';
import { BufferedTraceView, type QueryMark } from '../analysis/trace-view';
import { SEVERITY_RANK, type Finding, type TraceSummary, type TraceView } from '../analysis/types';
import type { AgentConfig } from '../config';
import { log } from '../util/log';
import { recordFailure } from '../util/safe';
import { ATTR_SAMPLING_REASON, isDbSpan, statementOf } from '../semconv';
import { CALL_SITE_KEY, captureStack } from '../analysis/call-site';
import { CallSiteCache, QuerySite, type CallSiteRef } from '../analysis/call-site-cache';
import type { SqlDialect } from '../sql/dialect';
import { operationName } from '../util/operation-name';
import { shadowClock, shadowSpans, shadowViews, type Normalized, type ShadowDb, type ShadowQuery, type ShadowSpanView } from './shadow-record';

/**
 * Where complete traces go: the export queue. The buffer owns it, as the SDK's batch processor
 * owns its exporter: the provider's forceFlush and shutdown reach it through the buffer, after
 * the buffer handed over what it holds.
 */
export interface SpanSink {
  add(span: ReadableSpan): void;
  forceFlush?(): Promise<void>;
  shutdown?(): Promise<void>;
}

export interface TraceBufferLimits {
  /** Local traces collected at once; past it new traces bypass analysis (and are counted). */
  maxTraces: number;
  /** Spans held for one trace; past it that trace's further spans go straight to export. */
  maxSpansPerTrace: number;
  /** Spans held over all traces: the memory bound. */
  maxBufferedSpans: number;
  /** A trace whose root has not ended by then is released without analysis. */
  traceTimeoutMs: number;
}

export interface TraceAnalysis {
  analyze(trace: TraceView, config: AgentConfig): Finding[];
  health(trace: TraceView, findings: Finding[], config: AgentConfig): { score: number; health: string };
}

/** Called once per analyzed local trace, after the root was annotated (findings log, fail-on, aggregates). */
export type TraceListener = (trace: TraceView, findings: readonly Finding[], summary: TraceSummary) => void;

export interface TraceBufferOptions {
  config: () => AgentConfig;
  analysis: TraceAnalysis;
  sink: SpanSink | undefined;
  limits: TraceBufferLimits;
  /** Collapses repeated sibling spans before export; undefined = off. */
  compress?: (spans: ReadableSpan[], config: AgentConfig) => ReadableSpan[];
  /** Asked before an unsampled trace is exported for a finding or an error (the export budget it shares with the sampler). */
  allowKeep?: () => boolean;
  onTrace?: TraceListener;
  /** The agent's own milliseconds spent on one local trace (analysis, compression, hand-off). */
  onOverhead?: (ms: number) => void;
  /** The fingerprint of a raw statement (the statement cache), to capture one call site per statement. */
  fingerprintOf?: (statement: string, dialect: SqlDialect) => string;
  /** Normalized text and fingerprint of a raw statement (the statement cache), for shadow queries. */
  normalize?: (statement: string, dialect: SqlDialect) => Normalized;
}

/** Statements followed per trace (their QuerySite); past it a statement only borrows call sites. */
const MAX_SITES_PER_TRACE = 512;

interface TraceRecord {
  rootSpanId: string;
  /** The local root while it runs: a trace that expires before it ends still has its resource and ids. */
  root: Span;
  spans: ReadableSpan[];
  /** Per database span id: its call site and where its start and end fell among the others'. */
  queries: Map<string, QueryMark> | undefined;
  /** Starts and ends of database spans seen so far: the order clock of QueryMark. */
  events: number;
  startedAt: number;
  /** Set in onEnding of the root: export the trace although the sampler said no, and why. */
  keep: 'finding' | 'error' | undefined;
  overheadMs: number;
  /** Per statement fingerprint (and parent span, past the first), the call site of its queries in this request. */
  sites: Map<string, QuerySite> | undefined;
  /** The operation as the analysis will name it, as far as known while the request runs (see groupOf). */
  operation: string | undefined;
  /** Queries of a trace recorded only for keep-findings, kept without spans (see shadow-record.ts). */
  shadow: ShadowQuery[] | undefined;
  shadowViews: ShadowSpanView[] | undefined;
}

export interface TraceBufferStats {
  tracesInFlight: number;
  bufferedSpans: number;
  analyzedTraces: number;
  keptForFindings: number;
  /** Unsampled traces exported because the request or one of its queries failed. */
  keptForErrors: number;
  droppedUnsampled: number;
  bypassedTraces: number;
  overflowSpans: number;
  expiredTraces: number;
}

const isSampled = (span: ReadableSpan | Span): boolean => (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
/**
 * Why an analyzed trace is worth exporting although the sampler did not keep it: the request or
 * one of its queries failed, or it has a finding of severity warning or worse.
 */
export function keepReason(trace: TraceView, findings: readonly Finding[]): 'error' | 'finding' | undefined {
  if (hasError(trace)) return 'error';
  for (const f of findings) if (SEVERITY_RANK[f.severity] >= SEVERITY_RANK.warning) return 'finding';
  return undefined;
}

/** The request failed, or one of its database operations did. */
function hasError(trace: TraceView): boolean {
  if (trace.root.error) return true;
  for (const span of trace.dbSpans) if (span.error) return true;
  return false;
}

/**
 * An N+1 group's name for the call-site cache: the operation (its route, or its path with the ids
 * templated while the framework has not named the route yet), and the parent span's name when the
 * queries do not run right under the root.
 */
function groupOf(record: TraceRecord, parent: { spanContext(): { spanId: string } }): string {
  record.operation ??= operationName(record.root.name, record.root.attributes);
  if (parent.spanContext().spanId === record.rootSpanId) return record.operation;
  const name = (parent as { name?: unknown }).name;
  return record.operation + '\u0000' + (typeof name === 'string' ? name : '');
}

/**
 * Collects the spans of each local trace until its local root ends, then runs the analyzers,
 * annotates the root (while it can still change, in onEnding), decides whether the trace is
 * exported (sampled, or kept for a finding), compresses it and hands it to the export queue.
 */
export class TraceBuffer implements SpanProcessor {
  private readonly traces = new Map<string, TraceRecord>();
  private bufferedSpans = 0;
  private readonly counters = { analyzedTraces: 0, keptForFindings: 0, keptForErrors: 0, droppedUnsampled: 0, bypassedTraces: 0, overflowSpans: 0, expiredTraces: 0 };
  private readonly sweeper: NodeJS.Timeout;
  private readonly callSites = new CallSiteCache(2000);

  constructor(private readonly options: TraceBufferOptions) {
    this.sweeper = setInterval(() => this.expire(Date.now()), Math.min(10_000, options.limits.traceTimeoutMs));
    this.sweeper.unref();
  }

  onStart(span: Span, parentContext: Context): void {
    try {
      const parent = span.parentSpanContext;
      const traceId = span.spanContext().traceId;
      const record = this.traces.get(traceId);
      // A second local root of a trace already collected (this service called itself, say)
      // belongs to that trace: a new record would lose what the first one buffered.
      if ((!parent || parent.isRemote) && !record) {
        this.track(span, traceId);
        return;
      }
      if (record && isDbSpan(span.attributes) && record.spans.length < this.options.limits.maxSpansPerTrace && this.options.config().analysis.enabled) {
        // The driver wrappers decided (and captured) where the app called the driver; otherwise
        // the application is still on the stack right now.
        let site = parentContext.getValue(CALL_SITE_KEY) as CallSiteRef | null | undefined;
        if (site === undefined) site = this.callSiteFor(parentContext, statementOf(span.attributes), this.onStart);
        const mark: QueryMark = { site: site ?? undefined, startOrder: record.events++, endOrder: undefined };
        (record.queries ??= new Map()).set(span.spanContext().spanId, mark);
      }
    } catch (err) {
      recordFailure('trace buffer', err);
    }
  }

  onEnding(span: Span): void {
    const record = this.traces.get(span.spanContext().traceId);
    if (!record || record.rootSpanId !== span.spanContext().spanId) return;
    const started = performance.now();
    try {
      this.analyze(span, record);
    } catch (err) {
      recordFailure('trace analysis', err);
    }
    record.overheadMs = performance.now() - started;
  }

  onEnd(span: ReadableSpan): void {
    try {
      this.collect(span);
    } catch (err) {
      recordFailure('trace buffer', err);
    }
  }

  private collect(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    const record = this.traces.get(traceId);
    if (!record) {
      // Not collected (over the bounds, or a straggler after its root ended): export as it is.
      if (isSampled(span)) this.options.sink?.add(span);
      return;
    }
    if (record.rootSpanId !== span.spanContext().spanId) {
      if (record.queries !== undefined) {
        const mark = record.queries.get(span.spanContext().spanId);
        if (mark !== undefined) mark.endOrder = record.events++;
      }
      if (record.spans.length < this.options.limits.maxSpansPerTrace && this.bufferedSpans < this.options.limits.maxBufferedSpans) {
        record.spans.push(span);
        this.bufferedSpans++;
      } else {
        this.counters.overflowSpans++;
        log.warnOnce('trace-buffer-overflow', `a trace has more spans than the buffer holds (${this.options.limits.maxSpansPerTrace} per trace, ${this.options.limits.maxBufferedSpans} in all); the rest are exported unanalyzed`);
        if (isSampled(span)) this.options.sink?.add(span);
      }
      return;
    }
    this.traces.delete(traceId);
    this.bufferedSpans -= record.spans.length + (record.shadow?.length ?? 0);
    const started = performance.now();
    this.release(span, record);
    this.options.onOverhead?.(record.overheadMs + performance.now() - started);
  }

  /** Traces still being collected stay; what was handed to the sink is exported now. */
  forceFlush(): Promise<void> {
    return this.options.sink?.forceFlush?.() ?? Promise.resolve();
  }

  /**
   * The call site for a query about to run under `active` (null: no analysis will want it).
   * Stack captures are costly: a query gets its statement's QuerySite in this request, which
   * borrows the process-wide call site until the statement becomes an N+1 candidate here (see
   * QuerySite); `skipAbove` is the frame the capture starts below.
   */
  callSiteFor(
    active: Context,
    statement: unknown,
    skipAbove: (...args: never[]) => unknown,
    dialect: SqlDialect = 'postgresql',
  ): CallSiteRef | null {
    const span = trace.getSpan(active);
    const config = this.options.config();
    if (!config.analysis.enabled) return null;
    if (!span) return captureStack(skipAbove); // a query outside any request: a trace of its own
    const record = this.traces.get(span.spanContext().traceId);
    if (!record) return null;
    const text = typeof statement === 'string' ? statement : (statement as { text?: unknown; sql?: unknown } | null)?.text ?? (statement as { sql?: unknown } | null)?.sql;
    if (typeof text !== 'string' || !this.options.fingerprintOf) return captureStack(skipAbove);
    const fingerprint = this.options.fingerprintOf(text, dialect);
    const parentId = span.spanContext().spanId;
    const sites = (record.sites ??= new Map());
    let key = fingerprint;
    let site = sites.get(key);
    if (site !== undefined && site.parentId !== parentId) {
      // The statement under another parent span: another group for the analyzer, maybe issued
      // from another line. Rare, so the common case keeps the shorter key.
      key = fingerprint + parentId;
      site = sites.get(key);
    }
    if (site === undefined) {
      if (sites.size >= MAX_SITES_PER_TRACE) return this.callSites.shared(fingerprint, skipAbove);
      site = new QuerySite(this.callSites.shared(fingerprint, skipAbove), parentId);
      sites.set(key, site);
    }
    site.issue(fingerprint, config.nPlusOne.minRepeats, this.callSites, skipAbove, () => groupOf(record, span));
    return site;
  }

  /**
   * A query under `parentSpanId` of an unsampled trace recorded for keep-findings, kept as a
   * shadow instead of a span; undefined when this trace is not collected or is full (the caller
   * then takes the full path).
   */
  startShadow(
    active: Context,
    traceId: string,
    parentSpanId: string,
    query: { raw: string; dialect: SqlDialect; name: string; db: ShadowDb },
    skipAbove: (...args: never[]) => unknown,
  ): ShadowQuery | undefined {
    const record = this.traces.get(traceId);
    if (!record || !this.options.normalize || !this.options.config().analysis.enabled) return undefined;
    const shadow = (record.shadow ??= []);
    if (record.spans.length + shadow.length >= this.options.limits.maxSpansPerTrace || this.bufferedSpans >= this.options.limits.maxBufferedSpans) return undefined;
    let site = active.getValue(CALL_SITE_KEY) as CallSiteRef | null | undefined;
    if (site === undefined) site = this.callSiteFor(active, query.raw, skipAbove, query.dialect);
    const entry: ShadowQuery = {
      raw: query.raw,
      dialect: query.dialect,
      name: query.name,
      db: query.db,
      parentSpanId,
      ...shadowClock(),
      endPerfMs: undefined,
      error: undefined,
      site: site ?? undefined,
      // The order clock of QueryMark, shared with the trace's real database spans.
      order: record,
      startOrder: record.events++,
      endOrder: undefined,
    };
    shadow.push(entry);
    this.bufferedSpans++;
    return entry;
  }


  /** Hands over every trace still held, then flushes and closes the sink. */
  shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    this.expire(Number.POSITIVE_INFINITY);
    this.callSites.clear();
    return this.options.sink?.shutdown?.() ?? Promise.resolve();
  }

  get stats(): TraceBufferStats {
    return { tracesInFlight: this.traces.size, bufferedSpans: this.bufferedSpans, ...this.counters };
  }

  private track(span: Span, traceId: string): void {
    const config = this.options.config();
    const sampled = isSampled(span);
    // An unsampled trace is worth recording only if a finding could keep it.
    const useful = config.analysis.enabled ? sampled || config.sampling.keepFindings : sampled && config.compression.enabled;
    if (!useful) return;
    if (this.traces.size >= this.options.limits.maxTraces || this.bufferedSpans >= this.options.limits.maxBufferedSpans) {
      this.counters.bypassedTraces++;
      log.warnOnce('trace-buffer-full', `more than ${this.options.limits.maxTraces} traces in flight or ${this.options.limits.maxBufferedSpans} spans buffered; new traces are exported unanalyzed until it drains`);
      return;
    }
    const record: TraceRecord = { rootSpanId: span.spanContext().spanId, root: span, spans: [], queries: undefined, events: 0, startedAt: Date.now(), keep: undefined, overheadMs: 0, sites: undefined, operation: undefined, shadow: undefined, shadowViews: undefined };
    this.traces.set(traceId, record);
  }

  private analyze(root: Span, record: TraceRecord): void {
    const config = this.options.config();
    if (!config.analysis.enabled) return;
    if (record.shadow && this.options.normalize) record.shadowViews = shadowViews(record.shadow, this.options.normalize);
    const trace = new BufferedTraceView(root, record.spans, record.queries, record.shadowViews);
    const findings = this.options.analysis.analyze(trace, config);
    const summary = summarize(trace, this.options.analysis.health(trace, findings, config));
    annotateRoot(root, summary, findings);
    this.counters.analyzedTraces++;
    if (!isSampled(root) && config.sampling.keepFindings) {
      const reason = keepReason(trace, findings);
      if (reason !== undefined && (this.options.allowKeep?.() ?? true)) {
        record.keep = reason;
        root.setAttribute(ATTR_SAMPLING_REASON, reason);
      }
    }
    this.options.onTrace?.(trace, findings, summary);
  }

  private release(root: ReadableSpan, record: TraceRecord): void {
    if (!isSampled(root) && !record.keep) {
      this.counters.droppedUnsampled++;
      return;
    }
    if (record.keep === 'finding') this.counters.keptForFindings++;
    else if (record.keep === 'error') this.counters.keptForErrors++;
    const sink = this.options.sink;
    if (!sink) return;
    let spans = record.spans;
    if (record.shadowViews) for (const span of shadowSpans(record.shadowViews, root)) spans.push(span);
    spans.push(root);
    const config = this.options.config();
    if (this.options.compress && config.compression.enabled) {
      try {
        spans = this.options.compress(spans, config);
      } catch (err) {
        recordFailure('span compression', err);
      }
    }
    for (const span of spans) sink.add(span);
  }

  /** Releases traces whose root never ended (a hung request, a span never closed). */
  private expire(now: number): void {
    try {
      this.releaseExpired(now);
    } catch (err) {
      recordFailure('trace buffer', err);
    }
  }

  private releaseExpired(now: number): void {
    for (const [traceId, record] of this.traces) {
      if (now - record.startedAt < this.options.limits.traceTimeoutMs) continue;
      this.traces.delete(traceId);
      this.bufferedSpans -= record.spans.length + (record.shadow?.length ?? 0);
      this.counters.expiredTraces++;
      if (!isSampled(record.root)) continue;
      for (const span of record.spans) this.options.sink?.add(span);
      // Queries that ended before the trace expired, from the shadow record.
      if (record.shadow && this.options.normalize) {
        for (const span of shadowSpans(shadowViews(record.shadow, this.options.normalize), record.root)) this.options.sink?.add(span);
      }
    }
  }
}
