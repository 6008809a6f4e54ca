import type { Analyzer, AnalyzerContext, Finding, Severity, TraceView } from '../types';
import { bandIndex, bandText, clip } from './common';
import { groupByStatement, type StatementGroup } from '../statement-groups';

/** Band index (2 = warning, 3 = critical, 4 = above critical) -> finding severity. */
const SEVERITY_BY_BAND: Record<number, Severity> = { 2: 'info', 3: 'warning', 4: 'critical' };

/**
 * `query_count`: the number of database queries of the request against `thresholds.queryCount`:
 * above `critical` is critical, above `warning` a warning, above `good` info.
 */
export const queryCountAnalyzer: Analyzer = {
  name: 'query_count',
  analyze(trace: TraceView, { config }: AnalyzerContext): Finding | undefined {
    const count = trace.dbSpans.length;
    const bands = config.thresholds.queryCount;
    const band = bandIndex(count, bands);
    if (band < 2) return undefined;
    return {
      type: 'query_count',
      severity: SEVERITY_BY_BAND[band],
      message: `${count} database queries in ${trace.operation}: ${bandText(band, bands)}`,
      recommendation: queryCountRecommendation(trace),
      repeatCount: count,
    };
  },
};

/** Points at the three statements repeated most, with their counts. */
export function queryCountRecommendation(trace: TraceView): string {
  const top: StatementGroup[] = [];
  for (const entry of groupByStatement(trace.dbSpans)) {
    if (entry.count < 2) continue;
    let at = top.length;
    while (at > 0 && top[at - 1].count < entry.count) at--;
    if (at < 3) top.splice(at, 0, entry);
    if (top.length > 3) top.pop();
  }
  const count = trace.dbSpans.length;
  if (top.length === 0) {
    return `No statement repeats: the ${count} queries are all different. Combine related reads with JOINs, load what the request needs up front, and cache reference data that every request reads`;
  }
  let list = '';
  for (const r of top) list += `${list === '' ? '' : '; '}${r.count}x ${clip(r.pattern, 120)}`;
  return `Most repeated: ${list}. Load each of them once for all items (WHERE key = ANY($1) on PostgreSQL, IN (?) on MySQL) or JOIN it into the query that produced the keys, and cache reference data that every request reads`;
}
