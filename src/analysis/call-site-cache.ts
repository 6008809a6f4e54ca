import { captureStack, type StackHolder } from './call-site';
import { LruMap } from '../util/lru';

/** A statement's call site is captured again after this long: code changes, callers vary. */
const REFRESH_MS = 30_000;

/**
 * Where each statement was last seen issued, process-wide. A stack capture costs about ten
 * microseconds here, far more than the rest of a query's analysis, so most queries reuse the
 * call site captured for their statement in an earlier request. Two captures are still taken
 * fresh: the first sighting of a statement (then every REFRESH_MS), and the query that makes a
 * statement an N+1 candidate in its trace (its minRepeats-th repeat), so an N+1 finding points at
 * the loop of this very request.
 */
export class CallSiteCache {
  private readonly entries: LruMap<string, { holder: StackHolder; capturedAt: number }>;

  constructor(maxEntries: number) {
    this.entries = new LruMap(maxEntries);
  }

  /**
   * The call site to attach to a query of `fingerprint` that is the `repeat`-th of its statement
   * in its trace; `skipAbove` is the wrapper the stack is captured from.
   */
  holderFor(fingerprint: string, repeat: number, minRepeats: number, skipAbove: (...args: never[]) => unknown, now = Date.now()): StackHolder {
    const cached = this.entries.peek(fingerprint);
    if (repeat === minRepeats) return this.capture(fingerprint, skipAbove, now);
    if (cached && now - cached.capturedAt < REFRESH_MS) return cached.holder;
    return this.capture(fingerprint, skipAbove, now);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private capture(fingerprint: string, skipAbove: (...args: never[]) => unknown, now: number): StackHolder {
    const holder = captureStack(skipAbove);
    this.entries.set(fingerprint, { holder, capturedAt: now });
    return holder;
  }
}
