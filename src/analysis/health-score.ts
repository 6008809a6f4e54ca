/**
 * The health score of one request (`perf.health_score`, 0-100) and its band (`perf.health`).
 *
 * Formula (the same text is in docs/health-score.md):
 *
 *     score = 100
 *           - band deduction of the query count       (trace.dbSpans.length vs thresholds.queryCount)
 *           - band deduction of the execution time    (root durationMs vs thresholds.executionTimeMs)
 *           - sum of the finding deductions
 *     score = max(0, score)
 *
 * Band deduction, each threshold being an inclusive upper bound:
 *     value <= excellent: 0;  <= good: 5;  <= warning: 15;  <= critical: 30;  above critical: 40
 *
 * Finding deduction, by severity: info 0, warning 10, critical 25. query_count and
 * execution_time findings deduct nothing: the two band deductions already count those measures,
 * and a problem is counted once. Every other finding (n_plus_one, slow_query, plugins) deducts.
 *
 * Health band of the score: >= 90 excellent, >= 75 good, >= 50 warning, else critical.
 *
 * Examples with the default thresholds: 3 queries in 10 ms -> 100 excellent; 21 queries (warning
 * band, -15) with one N+1 warning (-10) -> 75 good; 150 queries (-40) with a critical N+1 (-25)
 * -> 35 critical.
 */
import type { AgentConfig } from '../config';
import { bandIndex } from './analyzers/common';
import type { Finding, TraceView } from './types';

export type Health = 'excellent' | 'good' | 'warning' | 'critical';

export interface HealthScore {
  score: number;
  health: Health;
}

/** Points deducted for a measure in band 0 (excellent) .. 4 (above critical). */
export const BAND_DEDUCTIONS: readonly number[] = [0, 5, 15, 30, 40];

/** Points deducted per finding, by severity (a plugin's unknown severity deducts nothing). */
export function severityDeduction(severity: string): number {
  if (severity === 'critical') return 25;
  if (severity === 'warning') return 10;
  return 0;
}

/** Finding types whose measure the band deductions already count. */
const BANDED_TYPES = new Set(['query_count', 'execution_time']);

export function healthScore(trace: TraceView, findings: readonly Finding[], config: AgentConfig): HealthScore {
  const { queryCount, executionTimeMs } = config.thresholds;
  let score =
    100 -
    BAND_DEDUCTIONS[bandIndex(trace.dbSpans.length, queryCount)] -
    BAND_DEDUCTIONS[bandIndex(trace.root.durationMs, executionTimeMs)];
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i];
    if (!BANDED_TYPES.has(f.type)) score -= severityDeduction(f.severity);
  }
  score = Math.max(0, score);
  return { score, health: healthOf(score) };
}

export function healthOf(score: number): Health {
  if (score >= 90) return 'excellent';
  if (score >= 75) return 'good';
  if (score >= 50) return 'warning';
  return 'critical';
}
