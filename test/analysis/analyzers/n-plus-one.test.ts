import { describe, expect, it } from 'vitest';
import { batchRecommendation, nPlusOneAnalyzer } from '../../../src/analysis/analyzers/n-plus-one';
import type { Finding, TraceView } from '../../../src/analysis/types';
import { loadConfig, type AgentConfig } from '../../../src/config';
import { callSite, traceBuilder } from '../../support/trace-builder';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const config = loaded.config;

const PAYMENTS = 'SELECT id, paid_on, amount_cents, method FROM payments WHERE invoice_id = $1';
const INVOICES = 'SELECT id, issued_on, amount_cents, status FROM invoices WHERE member_id = $1 ORDER BY issued_on';
const OPERATION = 'GET /members/:id/payments';

function analyze(trace: TraceView, cfg: AgentConfig = config): Finding[] {
  const result = nPlusOneAnalyzer.analyze(trace, { config: cfg });
  return result == null ? [] : Array.isArray(result) ? result : [result];
}

function withMinRepeats(minRepeats: number): AgentConfig {
  return { ...config, nPlusOne: { ...config.nPlusOne, minRepeats } };
}

describe('n_plus_one', () => {
  it('is named n_plus_one', () => {
    expect(nPlusOneAnalyzer.name).toBe('n_plus_one');
  });

  it('reports 20 sequential lookups under one parent with every field', () => {
    const t = traceBuilder({ operation: OPERATION });
    t.db(INVOICES, { duration: 2 });
    const ids = t.repeat(20, PAYMENTS, { duration: 1.56, callSite: callSite('/app/routes/payments.js', 9, 'paymentsFor') });
    const [finding, ...rest] = analyze(t.build());
    expect(rest).toHaveLength(0);
    expect(finding).toMatchObject({
      type: 'n_plus_one',
      severity: 'warning',
      pattern: PAYMENTS,
      repeatCount: 20,
      callSite: { filepath: '/app/routes/payments.js', lineno: 9, function: 'paymentsFor' },
    });
    expect(finding.totalMs).toBeCloseTo(31.2, 6);
    expect(finding.maxMs).toBeCloseTo(1.56, 6);
    expect(finding.spanIds).toEqual(ids);
    expect(finding.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(finding.message).toBe(`N+1 in ${OPERATION}: 20x ${PAYMENTS} (31.2 ms)`);
    expect(finding.recommendation).toBe(
      'Load all rows in one query: SELECT ... FROM payments WHERE invoice_id = ANY($1) with the collected invoice_id values, or JOIN payments in the query that produced them',
    );
  });

  it('needs minRepeats: 4 is nothing, 5 is one finding', () => {
    const four = traceBuilder();
    four.repeat(4, PAYMENTS);
    expect(analyze(four.build())).toEqual([]);

    const five = traceBuilder();
    five.repeat(5, PAYMENTS);
    const findings = analyze(five.build());
    expect(findings).toHaveLength(1);
    expect(findings[0].repeatCount).toBe(5);
  });

  it('honours nPlusOne.minRepeats from the configuration', () => {
    const t = traceBuilder();
    t.repeat(3, PAYMENTS);
    const trace = t.build();
    expect(analyze(trace)).toEqual([]);
    expect(analyze(trace, withMinRepeats(3))).toHaveLength(1);
    expect(analyze(trace, withMinRepeats(4))).toEqual([]);
  });

  it('reports concurrent (Promise.all) repeats, and says they ran concurrently', () => {
    const t = traceBuilder({ operation: OPERATION });
    t.db(INVOICES);
    t.repeat(8, PAYMENTS, { concurrent: true, duration: 4 });
    const [finding] = analyze(t.build());
    expect(finding.repeatCount).toBe(8);
    expect(finding.totalMs).toBe(32);
    expect(finding.message).toBe(`N+1 in ${OPERATION}: 8x ${PAYMENTS} (32.0 ms, issued concurrently)`);
    expect(finding.recommendation).toContain('Promise.all');
  });

  it('calls sequential queries sequential although their millisecond start times overlap (issue 11)', () => {
    // The SDK stamps starts with Date.now(): a 0.4 ms query issued right after the previous one
    // can carry the same whole-millisecond start, and so seem to overlap it.
    const t = traceBuilder({ operation: OPERATION });
    const starts = [0, 0, 0, 1, 1, 2];
    for (const start of starts) t.db(PAYMENTS, { start, duration: 0.4 });
    const [finding] = analyze(t.build());
    expect(finding.repeatCount).toBe(6);
    expect(finding.message).not.toContain('concurrently');
    expect(finding.recommendation).not.toContain('Promise.all');
  });

  it('goes by the order the agent saw the spans start and end when it has it', () => {
    // Same millisecond times, told apart by their order: one after another ...
    const sequential = traceBuilder();
    for (let i = 0; i < 5; i++) sequential.db(PAYMENTS, { start: 0, duration: 3, order: [2 * i, 2 * i + 1] });
    expect(analyze(sequential.build())[0].message).not.toContain('concurrently');
    // ... or the third one starting before the second ended, though the times say nothing.
    const overlapping = traceBuilder();
    const orders: [number, number][] = [[0, 1], [2, 4], [3, 5], [6, 7], [8, 9]];
    orders.forEach((order, i) => overlapping.db(PAYMENTS, { start: i * 10, duration: 1, order }));
    const [finding] = analyze(overlapping.build());
    expect(finding.message).toContain('issued concurrently');
    expect(finding.recommendation).toContain('Promise.all');
    // and it reports them in the order they started
    const ids = overlapping.build().dbSpans.map((s) => s.spanId);
    expect(finding.spanIds).toEqual([...ids].sort());
  });

  it('counts overlapping repeats with staggered starts too', () => {
    const t = traceBuilder();
    for (let i = 0; i < 6; i++) t.db(PAYMENTS, { start: i * 0.5, duration: 10 - i });
    expect(analyze(t.build())).toHaveLength(1);
  });

  it('groups per parent: 3 + 3 under two parents is nothing, 5 + 5 is two findings', () => {
    const split = traceBuilder();
    const a = split.span({ name: 'invoice A' });
    const b = split.span({ name: 'invoice B' });
    split.repeat(3, PAYMENTS, { parent: a });
    split.repeat(3, PAYMENTS, { parent: b });
    expect(analyze(split.build())).toEqual([]);

    const both = traceBuilder();
    const c = both.span();
    const d = both.span();
    const underC = both.repeat(5, PAYMENTS, { parent: c });
    const underD = both.repeat(5, PAYMENTS, { parent: d });
    const findings = analyze(both.build());
    expect(findings.map((f) => f.spanIds)).toEqual([underC, underD]);
  });

  it('groups by fingerprint: different literals are one statement, a different column is another', () => {
    const same = traceBuilder();
    for (let id = 1; id <= 5; id++) same.db(`SELECT id FROM members WHERE id = ${id}`);
    const [finding] = analyze(same.build());
    expect(finding.pattern).toBe('SELECT id FROM members WHERE id = ?');
    expect(finding.repeatCount).toBe(5);

    // Same shape, different statements: interleaved 3 + 3 never reach 5 of one fingerprint.
    const shape = traceBuilder();
    for (let i = 0; i < 3; i++) {
      shape.db('SELECT id FROM payments WHERE invoice_id = $1');
      shape.db('SELECT id FROM payments WHERE member_id = $1');
    }
    expect(analyze(shape.build())).toEqual([]);
  });

  it('reports each group once, with the spans in the order they started', () => {
    const t = traceBuilder();
    // End order differs from start order: the first one issued ends last.
    const ids = [t.db(PAYMENTS, { start: 0, duration: 50 })];
    for (let i = 1; i < 6; i++) ids.push(t.db(PAYMENTS, { start: i, duration: 1 }));
    const findings = analyze(t.build());
    expect(findings).toHaveLength(1);
    expect(findings[0].spanIds).toEqual(ids);
    expect(findings[0].maxMs).toBe(50);
  });

  it('escalates to critical at thresholds.queryCount.warning repeats', () => {
    const under = traceBuilder();
    under.repeat(49, PAYMENTS, { duration: 0.1 });
    expect(analyze(under.build())[0].severity).toBe('warning');

    const at = traceBuilder();
    at.repeat(50, PAYMENTS, { duration: 0.1 });
    expect(analyze(at.build())[0].severity).toBe('critical');

    const lowered: AgentConfig = {
      ...config,
      thresholds: { ...config.thresholds, queryCount: { ...config.thresholds.queryCount, warning: 10 } },
    };
    const ten = traceBuilder();
    ten.repeat(10, PAYMENTS);
    expect(analyze(ten.build(), lowered)[0].severity).toBe('critical');
  });

  it('escalates to critical at thresholds.executionTimeMs.good total time', () => {
    const under = traceBuilder();
    under.repeat(5, PAYMENTS, { duration: 99.9 });
    expect(analyze(under.build())[0].severity).toBe('warning');

    const at = traceBuilder();
    at.repeat(5, PAYMENTS, { duration: 100 });
    const [finding] = analyze(at.build());
    expect(finding.totalMs).toBe(500);
    expect(finding.severity).toBe('critical');
  });

  it('takes the call site from the first span of the group that has one, and asks only that group', () => {
    const t = traceBuilder();
    t.repeat(3, INVOICES, { callSite: callSite('/app/other.js', 1) }); // below the threshold
    t.repeat(6, PAYMENTS, { callSite: callSite('/app/routes/payments.js', 9) });
    const [finding] = analyze(t.build());
    expect(finding.callSite).toEqual({ filepath: '/app/routes/payments.js', lineno: 9 });
    expect(t.callSiteCalls).toBe(1);
  });

  it('falls back to the next spans of the group that have a call site', () => {
    const t = traceBuilder();
    t.db(PAYMENTS); // no call site resolved for this one
    t.db(PAYMENTS, { callSite: callSite('/app/routes/payments.js', 9) });
    t.repeat(4, PAYMENTS);
    const [finding] = analyze(t.build());
    expect(finding.callSite).toEqual({ filepath: '/app/routes/payments.js', lineno: 9 });
    expect(t.callSiteCalls).toBe(2);
  });

  it('leaves the call site out when the first three have none, asking no more', () => {
    const t = traceBuilder();
    t.repeat(20, PAYMENTS);
    const [finding] = analyze(t.build());
    expect(finding.callSite).toBeUndefined();
    expect(t.callSiteCalls).toBe(3);
  });

  it('asks no call site and reports nothing when nothing repeats enough', () => {
    const t = traceBuilder();
    for (let i = 0; i < 30; i++) t.db(`SELECT id FROM t${i} WHERE id = $1`, { callSite: callSite('/app/a.js', i) });
    expect(analyze(t.build())).toEqual([]);
    expect(t.callSiteCalls).toBe(0);
  });

  it('recommends IN (?) for a MySQL statement', () => {
    const t = traceBuilder();
    t.repeat(5, 'SELECT id, paid_on FROM payments WHERE invoice_id = ?', { system: 'mysql' });
    expect(analyze(t.build())[0].recommendation).toBe(
      'Load all rows in one query: SELECT ... FROM payments WHERE invoice_id IN (?) with the collected invoice_id values, or JOIN payments in the query that produced them',
    );
  });

  it('recommends a generic batch when the statement cannot be read', () => {
    const t = traceBuilder();
    t.repeat(5, 'SELECT id FROM payments WHERE invoice_id = $1 AND member_id = $2');
    const [finding] = analyze(t.build());
    expect(finding.recommendation).toMatch(/^Issue one query for all items instead of one per item/);
  });

  it('ignores database spans without a fingerprint', () => {
    const t = traceBuilder();
    t.repeat(6, 'SELECT 1');
    const trace = t.build();
    const stripped: TraceView = { ...trace, dbSpans: trace.dbSpans.map((s) => ({ ...s, fingerprint: undefined })) };
    expect(analyze(stripped)).toEqual([]);
  });
});

describe('batchRecommendation', () => {
  it('uses ANY($1) for PostgreSQL even where a literal became ?', () => {
    expect(batchRecommendation('SELECT id FROM members WHERE id = ?', 'postgresql')).toContain('WHERE id = ANY($1) with the collected id values');
  });

  it('resolves aliases and schemas', () => {
    expect(batchRecommendation('SELECT p.id FROM billing.payments p WHERE p.invoice_id = $1', 'postgresql')).toBe(
      'Load all rows in one query: SELECT ... FROM billing.payments WHERE invoice_id = ANY($1) with the collected invoice_id values, or JOIN billing.payments in the query that produced them',
    );
  });

  it('words UPDATE, DELETE and INSERT loops', () => {
    expect(batchRecommendation('UPDATE invoices SET status = ? WHERE id = $1', 'postgresql')).toBe(
      'Change all rows in one statement: UPDATE invoices SET ... WHERE id = ANY($1) with the collected id values, instead of one UPDATE per item',
    );
    expect(batchRecommendation('DELETE FROM sessions WHERE member_id = ?', 'mysql')).toBe(
      'Delete all rows in one statement: DELETE FROM sessions WHERE member_id IN (?) with the collected member_id values, instead of one DELETE per item',
    );
    expect(batchRecommendation('INSERT INTO audit (member_id, action) VALUES ($1, $2)', 'postgresql')).toBe(
      'Insert all rows in one statement: a multi-row INSERT INTO audit ... VALUES (...), (...) (or INSERT INTO audit SELECT * FROM unnest($1, $2, ...) with one array per column), instead of one INSERT per item',
    );
    expect(batchRecommendation('INSERT INTO audit (member_id, action) VALUES (?, ?)', 'mysql')).toBe(
      'Insert all rows in one statement: a multi-row INSERT INTO audit ... VALUES (...), (...), instead of one INSERT per item',
    );
  });
});
