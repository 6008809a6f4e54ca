import type { Analyzer, AnalyzerContext, Finding, Severity, SpanView, TraceView } from '../types';
import { bandIndex, bandText, clip, dbTimeMs, formatMs, plural } from './common';
import { groupByStatement, type StatementGroup } from '../statement-groups';

/** Band index (2 = warning, 3 = critical, 4 = above critical) -> finding severity. */
const SEVERITY_BY_BAND: Record<number, Severity> = { 2: 'info', 3: 'warning', 4: 'critical' };

/** Database time at or above this share of the request means the database dominates. */
const DB_DOMINATES = 0.5;

/**
 * `execution_time`: the local root's duration against `thresholds.executionTimeMs`, banded like
 * query_count; says how much of it went to database queries and where to look next.
 */
export const executionTimeAnalyzer: Analyzer = {
  name: 'execution_time',
  analyze(trace: TraceView, { config }: AnalyzerContext): Finding | undefined {
    const duration = trace.root.durationMs;
    const bands = config.thresholds.executionTimeMs;
    const band = bandIndex(duration, bands);
    if (band < 2) return undefined;
    const dbMs = dbTimeMs(trace);
    const share = dbShare(dbMs, duration);
    const queries = plural(trace.dbSpans.length, 'database query', 'database queries');
    const overlap = dbMs > duration ? ', partly concurrent' : '';
    return {
      type: 'execution_time',
      severity: SEVERITY_BY_BAND[band],
      message:
        `${trace.operation} took ${formatMs(duration)}: ${bandText(band, bands, ' ms')}; ` +
        `${Math.round(share * 100)}% of it in ${queries} (${formatMs(dbMs)}${overlap})`,
      recommendation: executionTimeRecommendation(trace, dbMs),
      totalMs: duration,
      maxMs: duration,
    };
  },
};

/** Share of the request spent in queries; concurrent queries overlap, so at most 1. */
export function dbShare(dbMs: number, durationMs: number): number {
  if (!(durationMs > 0)) return 0;
  return Math.min(1, dbMs / durationMs);
}

export function executionTimeRecommendation(trace: TraceView, dbMs: number): string {
  const duration = trace.root.durationMs;
  if (dbShare(dbMs, duration) >= DB_DOMINATES) {
    const heaviest = heaviestStatement(trace);
    const where = heaviest === undefined
      ? ''
      : ` The largest share is ${heaviest.count}x ${clip(heaviest.pattern, 120)} (${formatMs(heaviest.totalMs)}).`;
    return (
      `Most of the time is spent in the database.${where} See this trace's n_plus_one and slow_query findings: ` +
      'batch repeated queries, index what slow ones filter on, and run independent queries concurrently'
    );
  }
  const outside = formatMs(duration - Math.min(dbMs, duration));
  const longest = longestOtherSpan(trace);
  const lead = longest !== undefined && longest.durationMs >= duration * 0.1
    ? ` The longest other operation is ${clip(longest.name, 120)} (${formatMs(longest.durationMs)}).`
    : '';
  return (
    `Most of the time (${outside}) is spent outside the database.${lead} Profile the handler ` +
    '(node --cpu-prof) for CPU work such as large JSON serialization or synchronous crypto, and look at ' +
    'outgoing HTTP calls, timers and waits on the request path; run independent calls concurrently'
  );
}

/** The statement with the largest summed duration. */
function heaviestStatement(trace: TraceView): StatementGroup | undefined {
  let best: StatementGroup | undefined;
  for (const group of groupByStatement(trace.dbSpans)) if (best === undefined || group.totalMs > best.totalMs) best = group;
  return best;
}

/**
 * The longest leaf span that is not a query (an outgoing HTTP call, a file read...): leaves do
 * the work, while a wrapping middleware span would only repeat the request's own duration.
 */
function longestOtherSpan(trace: TraceView): SpanView | undefined {
  let longest: SpanView | undefined;
  for (const span of trace.spans) {
    if (span.isDb || span.spanId === trace.root.spanId) continue;
    if (longest !== undefined && span.durationMs <= longest.durationMs) continue;
    if (trace.childrenOf(span.spanId).length === 0) longest = span;
  }
  return longest;
}
