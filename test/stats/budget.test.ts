import { describe, expect, it } from 'vitest';
import { MIN_OPERATIONS, MIN_PATTERN_ENTRIES, MIN_WINDOWS, STATS_SHARE, footprintBytes, statsBudget, traceBufferBudget } from '../../src/stats/budget';
import { OperationAggregates } from '../../src/stats/operation-aggregates';
import { PatternLibrary } from '../../src/stats/pattern-library';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

/** Fills both structures to their bounds and returns their own estimates together. */
function fillToBounds(memoryLimitMb: number, patternLength: number): number {
  const budget = statsBudget(memoryLimitMb);
  const patterns = new PatternLibrary(budget.patternEntries, { maxBytes: budget.patternBytes });
  for (let i = 0; i < budget.patternEntries + 100; i++) {
    patterns.record(i.toString(16).padStart(16, '0'), `SELECT ${i} FROM t WHERE `.padEnd(patternLength, 'x'), 1, `GET /api/route/${i % 300}/:id`, T0);
  }
  const aggregates = new OperationAggregates({ maxOperations: budget.maxOperations, maxWindows: budget.maxWindows });
  for (let h = 0; h < budget.maxWindows + 2; h++) {
    for (let op = 0; op < budget.maxOperations; op++) {
      aggregates.record(`GET /api/v1/resource-${op}/:id/children`, { durationMs: 5, queryCount: 3, queryTimeMs: 2 }, T0 + h * HOUR);
    }
  }
  expect(patterns.size).toBeLessThanOrEqual(budget.patternEntries);
  expect(aggregates.size).toBe(budget.maxOperations);
  return patterns.estimateBytes() + aggregates.estimateBytes();
}

describe('statsBudget', () => {
  it('sizes the default 100 MB limit', () => {
    expect(statsBudget(100)).toEqual({ patternEntries: 10_240, patternBytes: 7_864_320, maxOperations: 150, maxWindows: 8 });
  });

  it('grows with the limit', () => {
    const small = statsBudget(50);
    const large = statsBudget(500);
    expect(large.patternEntries).toBeGreaterThan(small.patternEntries);
    expect(large.maxOperations).toBeGreaterThan(small.maxOperations);
  });

  it('keeps the minimums at tiny limits, giving up windows before operations', () => {
    for (const mb of [0.1, 1, 4, 10]) {
      const b = statsBudget(mb);
      expect(b.patternEntries).toBeGreaterThanOrEqual(MIN_PATTERN_ENTRIES);
      expect(b.maxOperations).toBeGreaterThanOrEqual(MIN_OPERATIONS);
      expect(b.maxWindows).toBeGreaterThanOrEqual(MIN_WINDOWS);
    }
    expect(statsBudget(10).maxWindows).toBeLessThan(statsBudget(100).maxWindows);
    expect(statsBudget(1)).toMatchObject({ maxOperations: 20, maxWindows: 2 });
  });

  it('reads an invalid limit as the default', () => {
    for (const bad of [0, -5, Number.NaN, Infinity]) expect(statsBudget(bad)).toEqual(statsBudget(100));
  });

  it('keeps patterns and aggregates, filled to their bounds, within 25% of the limit by their own estimates', () => {
    for (const mb of [20, 100]) {
      const limit = mb * 1024 * 1024 * STATS_SHARE;
      expect(fillToBounds(mb, 300)).toBeLessThanOrEqual(limit);
      expect(fillToBounds(mb, 3000)).toBeLessThanOrEqual(limit); // long statements: maxBytes holds
    }
  });
});

describe('traceBufferBudget', () => {
  it('gives half the memory limit to buffered spans at about 2 KB each', () => {
    expect(traceBufferBudget(100)).toEqual({ maxTraces: 4096, maxSpansPerTrace: 2048, maxBufferedSpans: 25_600, traceTimeoutMs: 120_000 });
  });

  it('never goes below 1000 buffered spans, and a trace never holds more than the buffer', () => {
    const small = traceBufferBudget(1);
    expect(small.maxBufferedSpans).toBe(1000);
    expect(small.maxSpansPerTrace).toBe(1000);
  });
});

describe('footprintBytes', () => {
  it('adds spans at 2 KB, statements at 512 bytes and the statistics\' own estimate', () => {
    expect(footprintBytes({ spans: 10, statements: 4, statsBytes: 1000 })).toBe(10 * 2048 + 4 * 512 + 1000);
  });
});
