import { describe, expect, it } from 'vitest';
import { FINDING_MEMORY_MS, OperationBudget } from '../../src/sampling/operation-budget';

/** How many of `attempts` takes, spread evenly over one second from `clock.t`, succeed. */
function takesInOneSecond(budget: OperationBudget, operation: string, clock: { t: number }, attempts = 20): number {
  let taken = 0;
  for (let i = 0; i < attempts; i++) {
    if (budget.tryTake(operation)) taken++;
    clock.t += 1000 / attempts;
  }
  return taken;
}

/** Takes in three seconds after one second that spends what was saved up. */
function steadyTakesIn3s(budget: OperationBudget, operation: string, clock: { t: number }): number {
  takesInOneSecond(budget, operation, clock);
  return takesInOneSecond(budget, operation, clock) + takesInOneSecond(budget, operation, clock) + takesInOneSecond(budget, operation, clock);
}

describe('OperationBudget: keep-findings recording follows the findings', () => {
  it('records a new operation\'s first burst, then without findings at the quiet rate', () => {
    const clock = { t: 0 };
    const budget = new OperationBudget(10, () => clock.t, 1);
    expect(budget.isQuiet('GET /health')).toBe(true);
    // Its first requests, all at once: the full burst (what a concurrent first wave needs).
    const burst = Array.from({ length: 12 }, () => budget.tryTake('GET /health')).filter(Boolean).length;
    expect(burst).toBe(10);
    const quiet = steadyTakesIn3s(budget, 'GET /health', clock);
    expect(quiet).toBeGreaterThanOrEqual(2);
    expect(quiet).toBeLessThanOrEqual(4); // about one a second
  });

  it('gives an operation the full rate from its first finding, until a minute passes without one', () => {
    const clock = { t: 0 };
    const budget = new OperationBudget(10, () => clock.t, 1);
    budget.tryTake('GET /orders');
    budget.noteFinding('GET /orders');
    expect(budget.isQuiet('GET /orders')).toBe(false);
    const full = steadyTakesIn3s(budget, 'GET /orders', clock);
    expect(full).toBeGreaterThanOrEqual(28);
    expect(full).toBeLessThanOrEqual(31);
    clock.t = FINDING_MEMORY_MS - 1000;
    expect(budget.isQuiet('GET /orders')).toBe(false);
    clock.t = FINDING_MEMORY_MS + 1000;
    expect(budget.isQuiet('GET /orders')).toBe(true);
    expect(steadyTakesIn3s(budget, 'GET /orders', clock)).toBeLessThanOrEqual(4);
    budget.noteFinding('GET /orders'); // a new finding: full rate again
    expect(steadyTakesIn3s(budget, 'GET /orders', clock)).toBeGreaterThanOrEqual(28);
  });

  it('keeps each operation apart, and a finding of one does not wake another', () => {
    const clock = { t: 0 };
    const budget = new OperationBudget(10, () => clock.t, 1);
    budget.tryTake('GET /a');
    budget.tryTake('GET /b');
    budget.noteFinding('GET /a');
    budget.noteFinding('GET /never-recorded'); // no budget to wake: nothing is kept for it
    expect(budget.isQuiet('GET /a')).toBe(false);
    expect(budget.isQuiet('GET /b')).toBe(true);
    expect(budget.size).toBe(2);
  });

  it('never records a quiet operation more often than a busy one (quiet rate above the full rate)', () => {
    const clock = { t: 0 };
    const budget = new OperationBudget(2, () => clock.t, 50);
    expect(budget.isQuiet('GET /x')).toBe(false);
    const n = steadyTakesIn3s(budget, 'GET /x', clock);
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThanOrEqual(7);
  });
});
