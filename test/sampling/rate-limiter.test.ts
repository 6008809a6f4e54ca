import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/sampling/rate-limiter';

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function takeAll(limiter: RateLimiter, attempts: number): number {
  let passed = 0;
  for (let i = 0; i < attempts; i++) if (limiter.tryTake()) passed++;
  return passed;
}

describe('RateLimiter', () => {
  it('starts full and lets a burst of perSecond pass, then refuses and counts', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(10, clock.now);
    expect(takeAll(limiter, 25)).toBe(10);
    expect(limiter.refused).toBe(15);
  });

  it('refills continuously', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(10, clock.now);
    takeAll(limiter, 10);
    clock.advance(99);
    expect(limiter.tryTake()).toBe(false);
    clock.advance(1);
    expect(limiter.tryTake()).toBe(true);
    clock.advance(500);
    expect(takeAll(limiter, 100)).toBe(5);
  });

  it('never holds more than its capacity', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(10, clock.now);
    clock.advance(60_000);
    expect(takeAll(limiter, 100)).toBe(10);
  });

  it('lets at most N per second pass over a long run', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(50, clock.now);
    let passed = 0;
    // 10 s of attempts every millisecond: a burst of 50 plus 50 per second.
    for (let ms = 0; ms < 10_000; ms++) {
      if (limiter.tryTake()) passed++;
      clock.advance(1);
    }
    expect(passed).toBeLessThanOrEqual(50 + 50 * 10);
    expect(passed).toBeGreaterThanOrEqual(50 * 10);
  });

  it('has a capacity of one below one per second', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(0.5, clock.now);
    expect(takeAll(limiter, 5)).toBe(1);
    clock.advance(1_000);
    expect(limiter.tryTake()).toBe(false);
    clock.advance(1_000);
    expect(limiter.tryTake()).toBe(true);
  });

  it('changes the rate without losing or inventing tokens beyond the new capacity', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(100, clock.now);
    limiter.setRate(5);
    expect(takeAll(limiter, 100)).toBe(5);
    limiter.setRate(1_000);
    clock.advance(10);
    expect(takeAll(limiter, 100)).toBe(10);
  });

  it('treats Infinity as no limit and 0 as none at all', () => {
    const clock = fakeClock();
    expect(takeAll(new RateLimiter(Infinity, clock.now), 10_000)).toBe(10_000);
    const none = new RateLimiter(0, clock.now);
    clock.advance(10_000);
    expect(takeAll(none, 10)).toBe(0);
  });

  it('refuses everything on a nonsense rate instead of throwing', () => {
    const clock = fakeClock();
    expect(takeAll(new RateLimiter(Number.NaN, clock.now), 10)).toBe(0);
    expect(takeAll(new RateLimiter(-3, clock.now), 10)).toBe(0);
  });

  it('earns nothing when the clock steps back', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(1, clock.now);
    expect(limiter.tryTake()).toBe(true);
    clock.advance(-5_000);
    expect(limiter.tryTake()).toBe(false);
    clock.advance(1_000);
    expect(limiter.tryTake()).toBe(true);
  });

  it('uses performance.now by default', () => {
    const limiter = new RateLimiter(2);
    expect(takeAll(limiter, 3)).toBe(2);
  });
});
