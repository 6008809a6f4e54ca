import { describe, expect, it } from 'vitest';
import { RELATIVE_ERROR } from '../../src/stats/histogram';
import { OperationAggregates, WINDOW_BYTES, type OperationSample } from '../../src/stats/operation-aggregates';

const HOUR = 3_600_000;
/** An hour boundary, so windows start at T0, T0 + HOUR, ... */
const T0 = Math.floor(1_700_000_000_000 / HOUR) * HOUR;
const OP = 'GET /members/:id/payments';

const sample = (durationMs: number, extra: Partial<OperationSample> = {}): OperationSample => ({
  durationMs,
  queryCount: 3,
  queryTimeMs: 2,
  ...extra,
});

function near(actual: number, exact: number): boolean {
  return Math.abs(actual - exact) <= exact * RELATIVE_ERROR * (1 + 1e-9);
}

describe('OperationAggregates', () => {
  it('sums a window: counts, errors, findings, n+1 and three histograms', () => {
    const agg = new OperationAggregates({ maxOperations: 10, maxWindows: 4 });
    agg.record(OP, { durationMs: 10, queryCount: 1, queryTimeMs: 1 }, T0 + 1);
    agg.record(OP, { durationMs: 30, queryCount: 21, queryTimeMs: 15, error: true, findings: 2, nPlusOne: 1 }, T0 + 2);
    agg.record(OP, { durationMs: 20, queryCount: 5, queryTimeMs: 4, findings: 1 }, T0 + HOUR - 1);
    const [snap] = agg.snapshot(OP);
    expect(snap).toMatchObject({ operation: OP, count: 3, errorCount: 1, findings: 3, nPlusOne: 1, from: T0, to: T0 + HOUR });
    expect(snap.duration).toMatchObject({ count: 3, sum: 60, min: 10, max: 30 });
    expect(near(snap.duration.p50, 20)).toBe(true);
    expect(snap.queryCount).toMatchObject({ count: 3, sum: 27, min: 1, max: 21 });
    expect(snap.queryTimeMs).toMatchObject({ count: 3, sum: 20, min: 1, max: 15 });
    expect(snap.duration.p99).toBe(30);
  });

  it('opens a window per windowMs, aligned to it', () => {
    const agg = new OperationAggregates({ maxOperations: 10, maxWindows: 10, windowMs: 60_000 });
    agg.record(OP, sample(1), T0 + 59_999);
    agg.record(OP, sample(2), T0 + 60_000);
    agg.record(OP, sample(3), T0 + 5 * 60_000 + 7);
    expect(agg.estimateBytes()).toBeGreaterThanOrEqual(3 * WINDOW_BYTES);
    expect(agg.estimateBytes()).toBeLessThan(4 * WINDOW_BYTES);
    expect(agg.snapshot(OP, T0 + 5 * 60_000)[0]).toMatchObject({ count: 1, from: T0 + 5 * 60_000, to: T0 + 6 * 60_000 });
    expect(agg.snapshot(OP, T0 + 60_000)[0]).toMatchObject({ count: 2, from: T0 + 60_000 });
    expect(agg.snapshot(OP)[0]).toMatchObject({ count: 3, from: T0, to: T0 + 6 * 60_000 });
  });

  it('merges the oldest windows into a rollup past maxWindows, so memory stays fixed', () => {
    const agg = new OperationAggregates({ maxOperations: 10, maxWindows: 3 });
    let full = 0;
    for (let h = 0; h < 48; h++) {
      for (let i = 0; i < 10; i++) agg.record(OP, sample(h + 1, { error: i === 0 }), T0 + h * HOUR + i);
      if (h === 2) full = agg.estimateBytes();
      if (h >= 2) expect(agg.estimateBytes()).toBe(full);
    }
    const [all] = agg.snapshot(OP);
    expect(all).toMatchObject({ count: 480, errorCount: 48, from: T0, to: T0 + 48 * HOUR });
    expect(all.duration).toMatchObject({ min: 1, max: 48, sum: 10 * ((48 * 49) / 2) });
    // The last two hours are windows of their own; everything before is one rollup.
    expect(agg.snapshot(OP, T0 + 46 * HOUR)[0]).toMatchObject({ count: 20, from: T0 + 46 * HOUR });
    const sinceMiddle = agg.snapshot(OP, T0 + 20 * HOUR)[0];
    expect(sinceMiddle).toMatchObject({ count: 480, from: T0 }); // a rollup is all or nothing; from says so
  });

  it('keeps a single window when maxWindows is 1', () => {
    const agg = new OperationAggregates({ maxOperations: 10, maxWindows: 1 });
    for (let h = 0; h < 5; h++) agg.record(OP, sample(1), T0 + h * HOUR);
    expect(agg.estimateBytes()).toBeLessThan(2 * WINDOW_BYTES);
    expect(agg.snapshot(OP)[0]).toMatchObject({ count: 5, from: T0, to: T0 + 5 * HOUR });
  });

  it('evicts the least recently updated operation past maxOperations, and counts it', () => {
    const agg = new OperationAggregates({ maxOperations: 2, maxWindows: 2 });
    agg.record('a', sample(1), T0);
    agg.record('b', sample(1), T0 + 1);
    agg.record('a', sample(1), T0 + 2);
    agg.record('c', sample(1), T0 + 3);
    expect(agg.operations()).toEqual(['c', 'a']);
    expect(agg.evictions).toBe(1);
    expect(agg.size).toBe(2);
    expect(agg.snapshot('b')).toEqual([]);
    expect(agg.snapshot().map((s) => s.operation)).toEqual(['c', 'a']);
  });

  it('snapshots every operation, or one, since a time', () => {
    const agg = new OperationAggregates({ maxOperations: 10, maxWindows: 5 });
    agg.record('old', sample(1), T0);
    agg.record('new', sample(1), T0 + 3 * HOUR);
    expect(agg.snapshot(undefined, T0 + 2 * HOUR).map((s) => s.operation)).toEqual(['new']);
    expect(agg.snapshot().map((s) => s.operation)).toEqual(['new', 'old']);
    expect(agg.snapshot('old')).toHaveLength(1);
    expect(agg.snapshot('missing')).toEqual([]);
    expect(JSON.parse(JSON.stringify(agg.snapshot('new')))[0].duration).toMatchObject({ count: 1, p50: 1 });
  });

  it('puts a late sample (clock stepped back) in the window that covers it', () => {
    const agg = new OperationAggregates({ maxOperations: 10, maxWindows: 5 });
    agg.record(OP, sample(1), T0);
    agg.record(OP, sample(1), T0 + 2 * HOUR);
    agg.record(OP, sample(1), T0 + HOUR + 5); // no window of its own: joins the T0 one, widened
    agg.record(OP, sample(1), T0 - 3 * HOUR); // before everything: the oldest window, widened
    expect(agg.snapshot(OP, T0 + 2 * HOUR)[0].count).toBe(1);
    expect(agg.snapshot(OP)[0]).toMatchObject({ count: 4, from: T0 - 3 * HOUR, to: T0 + 3 * HOUR });
    expect(agg.estimateBytes()).toBeLessThan(3 * WINDOW_BYTES);
  });

  it('prunes windows that ended before a time, and operations left empty', () => {
    const agg = new OperationAggregates({ maxOperations: 10, maxWindows: 10 });
    for (let h = 0; h < 5; h++) agg.record('busy', sample(1), T0 + h * HOUR);
    agg.record('quiet', sample(1), T0);
    expect(agg.prune(T0 + 2 * HOUR)).toBe(3); // busy's hours 0 and 1, quiet's hour 0
    expect(agg.operations()).toEqual(['busy']);
    expect(agg.snapshot('busy')[0]).toMatchObject({ count: 3, from: T0 + 2 * HOUR });
  });

  it('drops a rollup that holds data older than the cutoff', () => {
    const agg = new OperationAggregates({ maxOperations: 10, maxWindows: 3 });
    for (let h = 0; h < 10; h++) agg.record(OP, sample(1), T0 + h * HOUR);
    expect(agg.prune(T0 + HOUR)).toBe(1); // the rollup (hours 0..7) started before the cutoff
    expect(agg.snapshot(OP)[0]).toMatchObject({ count: 2, from: T0 + 8 * HOUR });
    expect(agg.prune(T0 + 8 * HOUR)).toBe(0);
  });

  it('estimates its bytes from windows held plus operation names', () => {
    const agg = new OperationAggregates({ maxOperations: 10, maxWindows: 4 });
    expect(agg.estimateBytes()).toBe(0);
    agg.record('a', sample(1), T0);
    const one = agg.estimateBytes();
    expect(one).toBeGreaterThan(WINDOW_BYTES);
    agg.record('b', sample(1), T0);
    expect(agg.estimateBytes()).toBe(2 * one);
    agg.clear();
    expect(agg.estimateBytes()).toBe(0);
    expect(agg.operations()).toEqual([]);
  });
});
