import { afterEach, describe, expect, it, vi } from 'vitest';
import { OperationAggregates } from '../../src/stats/operation-aggregates';
import { PatternLibrary } from '../../src/stats/pattern-library';
import { startRetention, type RetentionHandle } from '../../src/stats/retention';
import { failureCounts } from '../../src/util/safe';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Math.floor(1_700_000_000_000 / HOUR) * HOUR;
const sample = { durationMs: 5, queryCount: 1, queryTimeMs: 1 };

let handle: RetentionHandle | undefined;
afterEach(() => {
  handle?.stop();
  handle = undefined;
  vi.useRealTimers();
});

function stores(): { patterns: PatternLibrary; aggregates: OperationAggregates } {
  const patterns = new PatternLibrary(100);
  const aggregates = new OperationAggregates({ maxOperations: 10, maxWindows: 48 });
  patterns.record('a'.repeat(16), 'SELECT old', 1, 'GET /old', T0);
  patterns.record('b'.repeat(16), 'SELECT new', 1, 'GET /new', T0 + 20 * DAY);
  aggregates.record('GET /old', sample, T0);
  aggregates.record('GET /new', sample, T0 + 20 * DAY);
  return { patterns, aggregates };
}

describe('startRetention', () => {
  it('prunes aggregates and patterns older than aggregatesDays, on a fake clock', () => {
    const { patterns, aggregates } = stores();
    let now = T0 + 25 * DAY;
    handle = startRetention({ patterns, aggregates, config: () => ({ aggregatesDays: 30, measurementsDays: 7 }), now: () => now });
    expect(handle.runOnce()).toEqual({ patterns: 0, aggregates: 0, measurements: 0 });
    now = T0 + 31 * DAY;
    expect(handle.runOnce()).toEqual({ patterns: 1, aggregates: 1, measurements: 0 });
    expect(patterns.get('a'.repeat(16))).toBeUndefined();
    expect(aggregates.operations()).toEqual(['GET /new']);
    now = T0 + 51 * DAY;
    handle.runOnce();
    expect(patterns.size).toBe(0);
    expect(aggregates.size).toBe(0);
  });

  it('reads the retention settings on every run', () => {
    const { patterns, aggregates } = stores();
    let days = 30;
    handle = startRetention({ patterns, aggregates, config: () => ({ aggregatesDays: days, measurementsDays: 7 }), now: () => T0 + 25 * DAY });
    expect(handle.runOnce().patterns).toBe(0);
    days = 10;
    expect(handle.runOnce()).toMatchObject({ patterns: 1, aggregates: 1 });
  });

  it('prunes measurements by measurementsDays', () => {
    const measurements = { prune: vi.fn((_olderThan: number) => 3) };
    handle = startRetention({ measurements, config: () => ({ aggregatesDays: 30, measurementsDays: 7 }), now: () => T0 });
    expect(handle.runOnce().measurements).toBe(3);
    expect(measurements.prune).toHaveBeenCalledWith(T0 - 7 * DAY);
  });

  it('runs on an unref’d interval timer until stopped', () => {
    vi.useFakeTimers();
    const patterns = { prune: vi.fn((_olderThan: number) => 0) };
    handle = startRetention({ patterns, config: () => ({ aggregatesDays: 30, measurementsDays: 7 }), intervalMs: 1000, now: () => T0 });
    expect(handle.timer.hasRef()).toBe(false);
    vi.advanceTimersByTime(3500);
    expect(patterns.prune).toHaveBeenCalledTimes(3);
    handle.stop();
    handle.stop(); // idempotent
    vi.advanceTimersByTime(5000);
    expect(patterns.prune).toHaveBeenCalledTimes(3);
  });

  it('has a real unref’d timer (it does not keep the process alive)', () => {
    handle = startRetention({ config: () => ({ aggregatesDays: 30, measurementsDays: 7 }) });
    expect(handle.timer.hasRef()).toBe(false);
  });

  it('skips a setting that is not a positive number of days', () => {
    const patterns = { prune: vi.fn((_olderThan: number) => 0) };
    handle = startRetention({ patterns, config: () => ({ aggregatesDays: Number.NaN, measurementsDays: 7 }), now: () => T0 });
    handle.runOnce();
    expect(patterns.prune).not.toHaveBeenCalled();
  });

  it('counts a store that throws instead of throwing, and still prunes the others', () => {
    const before = failureCounts.get('stats.retention') ?? 0;
    const patterns = {
      prune(): number {
        throw new Error('boom');
      },
    };
    const aggregates = { prune: vi.fn((_olderThan: number) => 2) };
    handle = startRetention({ patterns, aggregates, config: () => ({ aggregatesDays: 30, measurementsDays: 7 }), now: () => T0 });
    expect(handle.runOnce()).toEqual({ patterns: 0, aggregates: 2, measurements: 0 });
    expect(failureCounts.get('stats.retention')).toBe(before + 1);
  });

  it('survives a config function that throws', () => {
    const before = failureCounts.get('stats.retention') ?? 0;
    handle = startRetention({
      config: () => {
        throw new Error('no config');
      },
    });
    expect(handle.runOnce()).toEqual({ patterns: 0, aggregates: 0, measurements: 0 });
    expect(failureCounts.get('stats.retention')).toBe(before + 1);
  });
});
