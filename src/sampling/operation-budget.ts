import { performance } from 'node:perf_hooks';
import { LruMap } from '../util/lru';

/** Operations tracked at once; past it the least recently added is forgotten (and starts full again). */
const MAX_OPERATIONS = 1000;

interface Bucket {
  tokens: number;
  last: number;
}

/**
 * Token buckets per operation for keep-findings: how many requests the sampler did not keep may
 * still be recorded for analysis, per operation and second. A quiet operation is always analyzed;
 * a busy one has a steady sample of its requests analyzed instead of all of them, so recording
 * stops costing what 100% sampling costs while recurring problems are still found every second.
 */
export class OperationBudget {
  private readonly buckets = new LruMap<string, Bucket>(MAX_OPERATIONS);
  private perSecond: number;

  constructor(perSecond: number, private readonly now: () => number = () => performance.now()) {
    this.perSecond = perSecond;
  }

  setRate(perSecond: number): void {
    this.perSecond = perSecond;
  }

  tryTake(operation: string): boolean {
    if (this.perSecond === Infinity) return true;
    const now = this.now();
    const capacity = Math.max(1, this.perSecond);
    let bucket = this.buckets.peek(operation);
    if (!bucket) {
      bucket = { tokens: capacity, last: now };
      this.buckets.set(operation, bucket);
    } else if (now > bucket.last) {
      bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.last) * this.perSecond) / 1000);
      bucket.last = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}
