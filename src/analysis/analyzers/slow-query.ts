import { filterColumns, hasLimit, mainTable, selectsStar, statementVerb } from '../../sql/sql-shape';
import type { AnalysisSettings, Analyzer, AnalyzerContext, Finding, SpanView, TraceView } from '../types';
import { TextMemo, clip, formatMs } from './common';

/** A statement that starts with an aggregate and has no GROUP BY returns one row: no LIMIT advice. */
const AGGREGATE_FIRST = /^\s*SELECT\s+(?:count|sum|avg|min|max|bool_and|bool_or|string_agg|array_agg|json_agg|jsonb_agg)\s*\(/i;
const GROUP_BY = /\bGROUP\s+BY\b/i;

/** At most this many slow_query findings per trace: the slowest ones. */
export const MAX_SLOW_QUERY_FINDINGS = 10;

/**
 * `slow_query`: each database span slower than `thresholds.slowQueryMs`; `critical` when it alone
 * is slower than `thresholds.executionTimeMs.warning`. One finding per span, the 10 slowest.
 */
export const slowQueryAnalyzer: Analyzer = {
  name: 'slow_query',
  analyze(trace: TraceView, { config }: AnalyzerContext): Finding[] | undefined {
    const limit = config.thresholds.slowQueryMs;
    const spans = trace.dbSpans;
    let slow: SpanView[] | undefined;
    for (let i = 0; i < spans.length; i++) {
      if (spans[i].durationMs > limit) (slow ??= []).push(spans[i]);
    }
    if (slow === undefined) return undefined;
    if (slow.length > 1) slow.sort(bySlowest);
    const n = Math.min(slow.length, MAX_SLOW_QUERY_FINDINGS);
    const findings: Finding[] = new Array(n);
    for (let i = 0; i < n; i++) findings[i] = slowQueryFinding(trace, slow[i], config);
    return findings;
  },
};

const bySlowest = (a: SpanView, b: SpanView): number => b.durationMs - a.durationMs;

function slowQueryFinding(trace: TraceView, span: SpanView, config: AnalysisSettings): Finding {
  const pattern = span.statement ?? span.name;
  const ms = span.durationMs;
  const failed = span.error ? ', then failed' : '';
  return {
    type: 'slow_query',
    severity: ms > config.thresholds.executionTimeMs.warning ? 'critical' : 'warning',
    message: `Slow query in ${trace.operation}: ${formatMs(ms)} (over ${config.thresholds.slowQueryMs} ms${failed}): ${clip(pattern)}`,
    recommendation: memoizedRecommendation(span, pattern),
    fingerprint: span.fingerprint,
    pattern,
    repeatCount: 1,
    totalMs: ms,
    maxMs: ms,
    callSite: span.callSite(),
    spanIds: [span.spanId],
  };
}

const recommendations = new TextMemo();

function memoizedRecommendation(span: SpanView, pattern: string): string {
  const key = `${span.error ? 'e' : 'o'}${span.fingerprint ?? pattern}`;
  return recommendations.get(key) ?? recommendations.set(key, slowQueryRecommendation(pattern, span.error));
}

/** EXPLAIN it, index what it filters on (named when the statement says), fetch less. */
export function slowQueryRecommendation(pattern: string, failed = false): string {
  const advice = [`Run EXPLAIN ANALYZE on ${clip(pattern, 160)} with typical parameter values`];
  const columns = filterColumns(pattern);
  const table = mainTable(pattern);
  if (columns.length > 0) {
    advice.push(`check that indexes cover ${indexList(columns)}`);
  } else if (table !== undefined) {
    advice.push('check that the columns of its WHERE and JOIN conditions are indexed');
  }
  if (selectsStar(pattern)) advice.push('select only the columns you need instead of SELECT *');
  if (table !== undefined && statementVerb(pattern) === 'SELECT' && !hasLimit(pattern) && !singleRow(pattern)) {
    advice.push('add a LIMIT (or paginate) if it can return many rows');
  }
  if (failed) advice.push('it also failed: look for a statement timeout or a lock wait');
  return advice.join('; ');
}

function singleRow(pattern: string): boolean {
  return AGGREGATE_FIRST.test(pattern) && !GROUP_BY.test(pattern);
}

/** `payments(invoice_id), invoices(member_id, status)` */
function indexList(columns: Array<{ table: string; column: string }>): string {
  const byTable = new Map<string, string[]>();
  for (const { table, column } of columns) {
    const list = byTable.get(table);
    if (list === undefined) byTable.set(table, [column]);
    else list.push(column);
  }
  const parts: string[] = [];
  for (const [table, list] of byTable) parts.push(`${table}(${list.join(', ')})`);
  return parts.join(', ');
}
