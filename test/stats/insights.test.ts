import { describe, expect, it } from 'vitest';
import { answerAdmin } from '../../src/api/admin-routes';
import type { Finding } from '../../src/analysis/types';
import { loadConfig, ConfigStore } from '../../src/config';
import { statsBudget } from '../../src/stats/budget';
import { Insights } from '../../src/stats/insights';
import { traceBuilder } from '../support/trace-builder';

const MEMORY_LIMIT_MB = 1; // the smallest budget: MIN_OPERATIONS operations
const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const store = new ConfigStore(loaded);

function finding(operation: string): Finding {
  return { type: 'n_plus_one', severity: 'warning', message: `N+1 in ${operation}`, recommendation: 'batch it', fingerprint: 'a1b2c3d4e5f60718', repeatCount: 5 };
}

function record(insights: Insights, operation: string, now: number): void {
  const t = traceBuilder({ operation });
  t.repeat(5, 'SELECT id FROM payments WHERE invoice_id = $1');
  insights.record({ trace: t.build(), findings: [finding(operation)], summary: { queryCount: 5, queryTimeMs: 5, healthScore: 80, health: 'good' } }, now);
}

/** GET /perf/report?operation=..., as the admin API answers it. */
function reportFindings(insights: Insights, operation: string): unknown[] {
  const reply = answerAdmin(
    { method: 'GET', path: '/perf/report', search: `operation=${encodeURIComponent(operation)}`, authorized: false, tokenConfigured: false },
    { store, insights, status: () => ({}) },
  );
  expect(reply.code).toBe(200);
  const reports = reply.body.reports as { analysis: { findings: unknown[] } }[];
  return reports.flatMap((r) => r.analysis.findings);
}

describe('Insights: findings per operation stay within the operations bound', () => {
  const bound = statsBudget(MEMORY_LIMIT_MB).maxOperations;

  it("shows a new operation's findings once the bound is reached (operations the aggregates evicted give way)", () => {
    const insights = new Insights(MEMORY_LIMIT_MB);
    const t0 = Date.UTC(2026, 10, 30, 12);
    for (let i = 0; i < bound; i++) record(insights, `GET /op/${i}`, t0 + i);
    expect(reportFindings(insights, 'GET /op/0')).toHaveLength(1);
    for (let i = bound; i < bound + 5; i++) {
      record(insights, `GET /op/${i}`, t0 + i);
      expect(reportFindings(insights, `GET /op/${i}`), `GET /op/${i}`).toHaveLength(1);
    }
    // The evicted operations' findings went with them: no more than the bound are kept.
    expect(insights.aggregates.operations()).not.toContain('GET /op/0');
    expect(insights.findingOperations).toBe(bound);
  });

  it('drops the findings of operations that retention removed', () => {
    const insights = new Insights(MEMORY_LIMIT_MB);
    const old = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 3; i++) record(insights, `GET /old/${i}`, old);
    record(insights, 'GET /recent', old + 3 * 86_400_000);
    expect(insights.findingOperations).toBe(4);
    insights.aggregateStore.prune(old + 86_400_000); // what the retention timer calls
    expect(insights.findingOperations).toBe(1);
    expect(reportFindings(insights, 'GET /recent')).toHaveLength(1);
  });
});
