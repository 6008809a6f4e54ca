import { captureStack, type StackHolder } from './call-site';
import { fingerprint as hash64 } from '../sql/fingerprint';
import { LruMap } from '../util/lru';

/** A statement's call site is captured again after this long: code changes, callers vary. */
const REFRESH_MS = 30_000;

type SkipAbove = (...args: never[]) => unknown;

/**
 * Where each statement was last seen issued, process-wide, and where each N+1 group (statement,
 * operation, parent span) was. A stack capture is costly: 30-60 microseconds in a warm app
 * under load (Node 20 and 24, measured with the members example; V8 walks optimized, inlined
 * frames), against about 4 in a micro-benchmark, and resolving it to the application's line
 * costs as much again. So a query usually borrows the call site captured for its statement
 * earlier, possibly by another route; that is good enough for a first guess. A statement that
 * becomes an N+1 candidate gets the call site of its own group: captured in the first request
 * of that operation to repeat it, then reused (capture and resolution) by the operation's later
 * requests until it is REFRESH_MS old.
 */
export class CallSiteCache {
  private readonly entries: LruMap<string, { holder: StackHolder; capturedAt: number }>;
  private readonly groups: LruMap<string, { holder: StackHolder; capturedAt: number }>;

  constructor(maxEntries: number) {
    this.entries = new LruMap(maxEntries);
    this.groups = new LruMap(maxEntries);
  }

  /**
   * The call site of an N+1 group: `group` names the operation and the parent span, and the
   * statement's fingerprint is added to it. Captured now on the group's first N+1, or when stale.
   * Kept by a hash of the name: the names come from requests and may be long.
   */
  forGroup(group: string, fingerprint: string, skipAbove: SkipAbove, now = Date.now()): StackHolder {
    const key = hash64(group) + fingerprint;
    const cached = this.groups.peek(key);
    if (cached && now - cached.capturedAt < REFRESH_MS) return cached.holder;
    const holder = this.capture(fingerprint, skipAbove, now);
    this.groups.set(key, { holder, capturedAt: now });
    return holder;
  }

  /** The statement's last captured call site, captured now on its first sighting or when stale. */
  shared(fingerprint: string, skipAbove: SkipAbove, now = Date.now()): StackHolder {
    const cached = this.entries.peek(fingerprint);
    if (cached && now - cached.capturedAt < REFRESH_MS) return cached.holder;
    return this.capture(fingerprint, skipAbove, now);
  }

  /** A call site captured now; it also becomes the statement's shared one. */
  capture(fingerprint: string, skipAbove: SkipAbove, now = Date.now()): StackHolder {
    const holder = captureStack(skipAbove);
    this.entries.set(fingerprint, { holder, capturedAt: now });
    return holder;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.groups.clear();
  }
}

/**
 * The call site of one statement under one parent span within one request (the analyzer's N+1
 * group): every query of that statement there carries the same QuerySite. It starts out borrowing
 * the statement's shared call site; the query that makes the statement an N+1 candidate in this
 * request (its minRepeats-th) takes the call site of its group (this operation, this parent span,
 * this statement; see CallSiteCache.forGroup), captured now if the group has none that is recent,
 * and from then on every query of the group answers with it, including the ones issued before:
 * with Promise.all, all of them are issued before any of them ends, and the spans' start order
 * says nothing about which query was which. At most one capture per N+1 group and refresh
 * period, none for statements issued fewer times.
 */
export class QuerySite {
  /** Queries of the statement issued so far in the request. */
  issued = 0;
  private own: StackHolder | undefined;

  /** `parentId`: the span the queries run under. */
  constructor(private readonly shared: StackHolder, readonly parentId?: string) {}

  /** The request's own call site once captured, else the borrowed one. */
  get holder(): StackHolder {
    return this.own ?? this.shared;
  }

  /**
   * Counts a query; takes the group's call site once `minRepeats` queries were issued. `group`
   * names the operation and parent span (asked only then: it costs a path template).
   */
  issue(fingerprint: string, minRepeats: number, cache: CallSiteCache, skipAbove: SkipAbove, group: () => string): void {
    this.issued++;
    if (this.own === undefined && this.issued >= minRepeats) this.own = cache.forGroup(group(), fingerprint, skipAbove);
  }

  /** The call site is its group's (this operation's, under this parent), not borrowed from the statement's. */
  get isOwn(): boolean {
    return this.own !== undefined;
  }
}

/** What the driver wrappers put in the context for a query: a request's QuerySite, or a stack of its own. */
export type CallSiteRef = StackHolder | QuerySite;

export function holderOf(ref: CallSiteRef | undefined): StackHolder | undefined {
  return ref instanceof QuerySite ? ref.holder : ref;
}
