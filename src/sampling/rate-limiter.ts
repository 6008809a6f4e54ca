import { log } from '../util/log';

/** Milliseconds from a monotonic clock. */
export type Clock = () => number;

const defaultClock: Clock = () => performance.now();

/**
 * A token bucket: up to `perSecond` takes per second on average, bursts of up to
 * max(1, perSecond). Tokens refill continuously; the bucket starts full.
 * `Infinity` means no limit; 0 (or a negative or NaN rate, with a warning) refuses everything.
 */
export class RateLimiter {
  private perMs = 0;
  private capacity = 1;
  private tokens = 1;
  private last: number;
  private refusedCount = 0;

  constructor(
    perSecond: number,
    private readonly now: Clock = defaultClock,
  ) {
    this.last = now();
    this.setRate(perSecond);
    this.tokens = this.capacity;
  }

  /** Takes one token if there is one; otherwise counts a refusal. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refusedCount++;
    return false;
  }

  /** Changes the rate from now on; tokens already earned stay, up to the new capacity. */
  setRate(perSecond: number): void {
    let rate = perSecond;
    if (typeof rate !== 'number' || Number.isNaN(rate) || rate < 0) {
      log.warn(`rate limit ${String(perSecond)} per second is not a non-negative number; refusing everything`);
      rate = 0;
    }
    this.refill();
    this.perMs = rate / 1000;
    this.capacity = rate === 0 ? 0 : Math.max(1, rate);
    if (this.tokens > this.capacity) this.tokens = this.capacity;
  }

  /** Takes refused since the limiter was made. */
  get refused(): number {
    return this.refusedCount;
  }

  toString(): string {
    return `RateLimiter{${this.perMs * 1000}/s}`;
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.last;
    this.last = t;
    // A clock that steps back (tests, a fake clock) earns nothing.
    if (elapsed > 0 && this.tokens < this.capacity) {
      this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perMs);
    }
  }
}
