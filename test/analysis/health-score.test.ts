import { describe, expect, it } from 'vitest';
import { BUILT_IN_ANALYZERS } from '../../src/analysis/analyzers';
import { healthOf, healthScore, severityDeduction } from '../../src/analysis/health-score';
import type { Finding, TraceView } from '../../src/analysis/types';
import { loadConfig, type AgentConfig } from '../../src/config';
import { traceBuilder } from '../support/trace-builder';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const config = loaded.config; // query count 10 / 20 / 50 / 100, execution time 50 / 500 / 2000 / 5000 ms

const PAYMENTS = 'SELECT id, paid_on FROM payments WHERE invoice_id = $1';

function finding(type: string, severity: Finding['severity']): Finding {
  return { type, severity, message: '', recommendation: '' };
}

/** `count` distinct queries of `each` ms in a request of `duration` ms. */
function request(count: number, duration: number, each = 0.1): TraceView {
  const t = traceBuilder({ duration });
  for (let i = 0; i < count; i++) t.db(`SELECT id FROM t${i} WHERE id = $1`, { duration: each });
  return t.build();
}

/** Runs the built-in analyzers, as the trace buffer does, then scores. */
function analyzeAndScore(trace: TraceView, cfg: AgentConfig = config) {
  const findings: Finding[] = [];
  for (const analyzer of BUILT_IN_ANALYZERS) {
    const result = analyzer.analyze(trace, { config: cfg });
    if (Array.isArray(result)) findings.push(...result);
    else if (result) findings.push(result);
  }
  return { findings, ...healthScore(trace, findings, cfg) };
}

describe('healthScore', () => {
  it('gives 3 fast queries in a 10 ms request 100, excellent', () => {
    const t = traceBuilder({ duration: 10 });
    t.db('SELECT id FROM members WHERE id = $1', { duration: 2 });
    t.db('SELECT id FROM invoices WHERE member_id = $1', { duration: 2 });
    t.db('SELECT id FROM plans WHERE id = $1', { duration: 1 });
    expect(healthScore(t.build(), [], config)).toEqual({ score: 100, health: 'excellent' });
  });

  it('deducts for the query count band: 0, 5, 15, 30, 40', () => {
    expect([10, 11, 21, 51, 101].map((n) => healthScore(request(n, 10), [], config).score)).toEqual([100, 95, 85, 70, 60]);
  });

  it('deducts for the execution time band: 0, 5, 15, 30, 40', () => {
    expect([50, 51, 501, 2001, 5001].map((ms) => healthScore(request(1, ms), [], config).score)).toEqual([100, 95, 85, 70, 60]);
  });

  it('deducts per finding by severity: info 0, warning 10, critical 25', () => {
    const trace = request(1, 10);
    expect(healthScore(trace, [finding('n_plus_one', 'info')], config).score).toBe(100);
    expect(healthScore(trace, [finding('n_plus_one', 'warning')], config).score).toBe(90);
    expect(healthScore(trace, [finding('slow_query', 'critical')], config).score).toBe(75);
    expect(healthScore(trace, [finding('my_plugin', 'warning'), finding('slow_query', 'warning')], config).score).toBe(80);
  });

  it('does not count query_count and execution_time findings on top of their bands', () => {
    const trace = request(150, 6000);
    const banded = [finding('query_count', 'critical'), finding('execution_time', 'critical')];
    expect(healthScore(trace, banded, config).score).toBe(20);
    expect(healthScore(trace, [], config).score).toBe(20);
  });

  it('gives 21 queries with an N+1 warning less than 100', () => {
    const t = traceBuilder({ duration: 40 });
    for (let i = 0; i < 16; i++) t.db(`SELECT id FROM t${i} WHERE id = $1`, { duration: 0.5 });
    t.repeat(5, PAYMENTS, { duration: 0.5 });
    const { findings, score, health } = analyzeAndScore(t.build());
    expect(findings.map((f) => `${f.type}:${f.severity}`)).toEqual(['n_plus_one:warning', 'query_count:info']);
    expect(score).toBe(75);
    expect(score).toBeLessThan(100);
    expect(health).toBe('good');
  });

  it('gives 150 queries with a critical N+1 critical', () => {
    const t = traceBuilder({ duration: 400 });
    t.db('SELECT id FROM invoices WHERE member_id = $1');
    t.repeat(149, PAYMENTS, { duration: 2 });
    const { findings, score, health } = analyzeAndScore(t.build());
    expect(findings.map((f) => `${f.type}:${f.severity}`)).toEqual(['n_plus_one:critical', 'query_count:critical']);
    expect(score).toBe(30);
    expect(health).toBe('critical');
  });

  it('never goes below 0', () => {
    const many = Array.from({ length: 10 }, () => finding('slow_query', 'critical'));
    expect(healthScore(request(200, 9000), many, config)).toEqual({ score: 0, health: 'critical' });
  });

  it('ignores severities it does not know (a plugin mistake)', () => {
    const odd = { ...finding('my_plugin', 'warning'), severity: 'constructor' } as unknown as Finding;
    expect(healthScore(request(1, 10), [odd], config).score).toBe(100);
    expect(severityDeduction('toString')).toBe(0);
  });

  it('follows the thresholds of the configuration', () => {
    const strict: AgentConfig = {
      ...config,
      thresholds: { ...config.thresholds, queryCount: { excellent: 1, good: 2, warning: 3, critical: 4 } },
    };
    expect(healthScore(request(3, 10), [], strict).score).toBe(85);
  });
});

describe('healthOf', () => {
  it.each([
    [100, 'excellent'],
    [90, 'excellent'],
    [89, 'good'],
    [75, 'good'],
    [74, 'warning'],
    [50, 'warning'],
    [49, 'critical'],
    [0, 'critical'],
  ])('%i -> %s', (score, health) => {
    expect(healthOf(score)).toBe(health);
  });
});

describe('BUILT_IN_ANALYZERS', () => {
  it('runs n_plus_one, slow_query, query_count, execution_time in that order', () => {
    expect(BUILT_IN_ANALYZERS.map((a) => a.name)).toEqual(['n_plus_one', 'slow_query', 'query_count', 'execution_time']);
  });
});
