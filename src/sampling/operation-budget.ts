import { performance } from 'node:perf_hooks';
import { LruMap } from '../util/lru';

/** Operations tracked at once; past it the least recently added is forgotten (and starts full again). */
const MAX_OPERATIONS = 1000;

/** An operation that had no finding for this long is quiet again: it is recorded at the quiet rate. */
export const FINDING_MEMORY_MS = 60_000;

interface Bucket {
  tokens: number;
  last: number;
  /** When the operation last had a finding; -Infinity before its first. */
  findingAt: number;
}

/**
 * Token buckets per operation for keep-findings: how many requests the sampler did not keep may
 * still be recorded for analysis, per operation and second. A little-used operation is always analyzed;
 * a busy one has a steady sample of its requests analyzed instead of all of them, so recording
 * stops costing what 100% sampling costs while recurring problems are still found every second.
 *
 * Recording follows the findings: an operation with a finding in the last FINDING_MEMORY_MS is
 * recorded at `perSecond`, any other at `quietPerSecond` (at most `perSecond`), new ones included.
 * A service with fifty clean endpoints would otherwise record up to fifty times `perSecond`
 * requests a second to find nothing. The first requests of an operation are recorded (the full
 * burst), the quiet rate and the sampled traces (analyzed whatever this budget says) bring a
 * problem to light later, and its first finding gives the operation the full rate and burst.
 */
export class OperationBudget {
  private readonly buckets = new LruMap<string, Bucket>(MAX_OPERATIONS);
  private perSecond: number;
  private quietPerSecond: number;

  constructor(perSecond: number, private readonly now: () => number = () => performance.now(), quietPerSecond = perSecond) {
    this.perSecond = perSecond;
    this.quietPerSecond = quietPerSecond;
  }

  setRate(perSecond: number): void {
    this.perSecond = perSecond;
  }

  setQuietRate(perSecond: number): void {
    this.quietPerSecond = perSecond;
  }

  tryTake(operation: string): boolean {
    if (this.perSecond === Infinity) return true;
    const now = this.now();
    let bucket = this.buckets.peek(operation);
    if (!bucket) {
      // A new operation starts with the full burst, so its first requests are analyzed, and then
      // earns tokens at the rate its findings say.
      bucket = { tokens: Math.max(1, this.perSecond), last: now, findingAt: -Infinity };
      this.buckets.set(operation, bucket);
    } else if (now > bucket.last) {
      const rate = now - bucket.findingAt < FINDING_MEMORY_MS ? this.perSecond : this.quietRate();
      const capacity = Math.max(1, rate);
      // Tokens above a quiet operation's capacity (its first burst) are spent, not taken away.
      if (bucket.tokens < capacity) bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.last) * rate) / 1000);
      bucket.last = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /**
   * The operation had a finding (in any analyzed trace, sampled or recorded): full rate again, and
   * a quiet operation gets the full burst at once, as an operation with findings always had.
   */
  noteFinding(operation: string): void {
    const bucket = this.buckets.peek(operation);
    if (!bucket) return;
    const now = this.now();
    if (now - bucket.findingAt >= FINDING_MEMORY_MS) bucket.tokens = Math.max(bucket.tokens, Math.max(1, this.perSecond));
    bucket.findingAt = now;
  }

  /** True when the operation is recorded at the quiet rate now (an unknown one would be). */
  isQuiet(operation: string): boolean {
    const bucket = this.buckets.peek(operation);
    return (bucket === undefined || this.now() - bucket.findingAt >= FINDING_MEMORY_MS) && this.quietPerSecond < this.perSecond;
  }

  private quietRate(): number {
    return Math.min(this.perSecond, this.quietPerSecond);
  }

  get size(): number {
    return this.buckets.size;
  }
}
