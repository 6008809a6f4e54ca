import { describe, expect, it } from 'vitest';
import { queryCountAnalyzer } from '../../../src/analysis/analyzers/query-count';
import type { Finding, TraceView } from '../../../src/analysis/types';
import { loadConfig, type AgentConfig } from '../../../src/config';
import { traceBuilder } from '../../support/trace-builder';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const config = loaded.config; // bands 10 / 20 / 50 / 100

function analyze(trace: TraceView, cfg: AgentConfig = config): Finding | undefined {
  const result = queryCountAnalyzer.analyze(trace, { config: cfg });
  return result == null ? undefined : Array.isArray(result) ? result[0] : result;
}

/** A trace with `count` distinct queries. */
function distinct(count: number): TraceView {
  const t = traceBuilder({ operation: 'GET /members' });
  for (let i = 0; i < count; i++) t.db(`SELECT id FROM t${i} WHERE id = $1`);
  return t.build();
}

describe('query_count', () => {
  it('is named query_count', () => {
    expect(queryCountAnalyzer.name).toBe('query_count');
  });

  it.each([
    [0, undefined],
    [10, undefined],
    [20, undefined],
    [21, 'info'],
    [50, 'info'],
    [51, 'warning'],
    [100, 'warning'],
    [101, 'critical'],
  ])('%i queries -> %s', (count, severity) => {
    expect(analyze(distinct(count))?.severity).toBe(severity);
  });

  it('names the count and the band', () => {
    expect(analyze(distinct(21))?.message).toBe('21 database queries in GET /members: above good (20), in the warning band (up to 50)');
    expect(analyze(distinct(60))?.message).toBe('60 database queries in GET /members: above warning (50), in the critical band (up to 100)');
    expect(analyze(distinct(150))?.message).toBe('150 database queries in GET /members: above critical (100)');
    expect(analyze(distinct(150))?.repeatCount).toBe(150);
  });

  it('follows thresholds.queryCount from the configuration', () => {
    const strict: AgentConfig = {
      ...config,
      thresholds: { ...config.thresholds, queryCount: { excellent: 1, good: 2, warning: 3, critical: 4 } },
    };
    expect(analyze(distinct(5), strict)?.severity).toBe('critical');
  });

  it('points at the three most repeated statements with their counts', () => {
    const t = traceBuilder({ operation: 'GET /members/:id/payments' });
    t.db('SELECT id FROM members WHERE id = $1');
    t.repeat(40, 'SELECT id, paid_on FROM payments WHERE invoice_id = $1');
    t.repeat(3, 'SELECT name FROM plans WHERE id = $1');
    t.repeat(12, 'SELECT id FROM invoices WHERE member_id = $1');
    t.repeat(2, 'SELECT 1');
    const finding = analyze(t.build());
    expect(finding?.severity).toBe('warning'); // 58 queries
    expect(finding?.recommendation).toBe(
      'Most repeated: 40x SELECT id, paid_on FROM payments WHERE invoice_id = $1; 12x SELECT id FROM invoices WHERE member_id = $1; ' +
        '3x SELECT name FROM plans WHERE id = $1. Load each of them once for all items (WHERE key = ANY($1) on PostgreSQL, IN (?) on MySQL) ' +
        'or JOIN it into the query that produced the keys, and cache reference data that every request reads',
    );
  });

  it('says so when no statement repeats', () => {
    expect(analyze(distinct(25))?.recommendation).toBe(
      'No statement repeats: the 25 queries are all different. Combine related reads with JOINs, load what the request needs up front, and cache reference data that every request reads',
    );
  });
});
