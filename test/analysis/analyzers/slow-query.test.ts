import { describe, expect, it } from 'vitest';
import { MAX_SLOW_QUERY_FINDINGS, slowQueryAnalyzer, slowQueryRecommendation } from '../../../src/analysis/analyzers/slow-query';
import type { Finding, TraceView } from '../../../src/analysis/types';
import { loadConfig, type AgentConfig } from '../../../src/config';
import { callSite, traceBuilder } from '../../support/trace-builder';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const config = loaded.config;

function analyze(trace: TraceView, cfg: AgentConfig = config): Finding[] {
  const result = slowQueryAnalyzer.analyze(trace, { config: cfg });
  return result == null ? [] : Array.isArray(result) ? result : [result];
}

const UNPAID = "SELECT count(*)::int AS unpaid FROM invoices WHERE status <> 'paid'";

describe('slow_query', () => {
  it('is named slow_query', () => {
    expect(slowQueryAnalyzer.name).toBe('slow_query');
  });

  it('reports a query slower than thresholds.slowQueryMs, not one equal to it', () => {
    const t = traceBuilder({ operation: 'GET /reports/unpaid' });
    t.db('SELECT id FROM members WHERE id = $1', { duration: 100 });
    const id = t.db(UNPAID, { duration: 100.5, callSite: callSite('/app/routes/reports.js', 18, 'slowReport') });
    const findings = analyze(t.build());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toEqual({
      type: 'slow_query',
      severity: 'warning',
      message: "Slow query in GET /reports/unpaid: 100.5 ms (over 100 ms): SELECT count(*)::int AS unpaid FROM invoices WHERE status <> ?",
      recommendation:
        'Run EXPLAIN ANALYZE on SELECT count(*)::int AS unpaid FROM invoices WHERE status <> ? with typical parameter values; ' +
        'check that indexes cover invoices(status)',
      fingerprint: findings[0].fingerprint,
      pattern: 'SELECT count(*)::int AS unpaid FROM invoices WHERE status <> ?',
      repeatCount: 1,
      totalMs: 100.5,
      maxMs: 100.5,
      callSite: { filepath: '/app/routes/reports.js', lineno: 18, function: 'slowReport' },
      spanIds: [id],
    });
  });

  it('follows thresholds.slowQueryMs from the configuration', () => {
    const t = traceBuilder();
    t.db('SELECT 1', { duration: 30 });
    const trace = t.build();
    expect(analyze(trace)).toEqual([]);
    expect(analyze(trace, { ...config, thresholds: { ...config.thresholds, slowQueryMs: 25 } })).toHaveLength(1);
  });

  it('is critical above thresholds.executionTimeMs.warning', () => {
    const t = traceBuilder();
    t.db('SELECT pg_sleep($1)', { duration: 2000 });
    t.db('SELECT pg_sleep($1)', { duration: 2000.1 });
    const findings = analyze(t.build());
    expect(findings.map((f) => f.severity)).toEqual(['critical', 'warning']);
  });

  it('keeps the 10 slowest, slowest first, one finding each', () => {
    const t = traceBuilder();
    for (let i = 0; i < 15; i++) t.db(`SELECT id FROM t${i} WHERE id = $1`, { duration: 101 + i });
    const findings = analyze(t.build());
    expect(findings).toHaveLength(MAX_SLOW_QUERY_FINDINGS);
    expect(findings.map((f) => f.totalMs)).toEqual([115, 114, 113, 112, 111, 110, 109, 108, 107, 106]);
    expect(findings[0].pattern).toBe('SELECT id FROM t14 WHERE id = $1');
  });

  it('asks call sites only of the findings it reports', () => {
    const t = traceBuilder();
    for (let i = 0; i < 20; i++) t.db('SELECT 1', { duration: i < 12 ? 150 : 5 });
    analyze(t.build());
    expect(t.callSiteCalls).toBe(10);
  });

  it('says when the slow query failed', () => {
    const t = traceBuilder({ operation: 'GET /x' });
    t.db('SELECT id FROM payments WHERE invoice_id = $1', { duration: 3000, error: true });
    const [finding] = analyze(t.build());
    expect(finding.message).toBe('Slow query in GET /x: 3000.0 ms (over 100 ms, then failed): SELECT id FROM payments WHERE invoice_id = $1');
    expect(finding.recommendation).toContain('it also failed: look for a statement timeout or a lock wait');
  });

  it('reports nothing for fast queries or a trace without queries', () => {
    const t = traceBuilder();
    t.span({ duration: 500 });
    t.db('SELECT 1', { duration: 99 });
    expect(analyze(t.build())).toEqual([]);
  });
});

describe('slowQueryRecommendation', () => {
  it('names join and filter columns, SELECT * and a missing LIMIT', () => {
    expect(
      slowQueryRecommendation('SELECT * FROM invoices i JOIN payments p ON p.invoice_id = i.id WHERE i.member_id = $1 AND i.status = ?'),
    ).toBe(
      'Run EXPLAIN ANALYZE on SELECT * FROM invoices i JOIN payments p ON p.invoice_id = i.id WHERE i.member_id = $1 AND i.status = ? with typical parameter values; ' +
        'check that indexes cover payments(invoice_id), invoices(id, member_id, status); ' +
        'select only the columns you need instead of SELECT *; add a LIMIT (or paginate) if it can return many rows',
    );
  });

  it('gives no LIMIT advice to an aggregate without GROUP BY', () => {
    expect(slowQueryRecommendation('SELECT count(*) FROM invoices')).not.toContain('LIMIT');
    expect(slowQueryRecommendation('SELECT count(*), status FROM invoices GROUP BY status')).toContain('add a LIMIT');
  });

  it('falls back to generic index advice when the columns cannot be tied to tables', () => {
    expect(slowQueryRecommendation('SELECT a.x FROM a, b WHERE y = ? LIMIT ?')).toBe(
      'Run EXPLAIN ANALYZE on SELECT a.x FROM a, b WHERE y = ? LIMIT ? with typical parameter values; check that the columns of its WHERE and JOIN conditions are indexed',
    );
  });

  it('only suggests EXPLAIN for a statement without a table', () => {
    expect(slowQueryRecommendation('SELECT pg_sleep($1)')).toBe('Run EXPLAIN ANALYZE on SELECT pg_sleep($1) with typical parameter values');
  });

  it('cuts a very long statement', () => {
    const long = `SELECT ${'a, '.repeat(200)}b FROM t`;
    expect(slowQueryRecommendation(long).length).toBeLessThan(400);
  });
});
