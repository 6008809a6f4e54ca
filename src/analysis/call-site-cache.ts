import { captureStack, type StackHolder } from './call-site';
import { LruMap } from '../util/lru';

/** A statement's call site is captured again after this long: code changes, callers vary. */
const REFRESH_MS = 30_000;

type SkipAbove = (...args: never[]) => unknown;

/**
 * Where each statement was last seen issued, process-wide. A stack capture costs about ten
 * microseconds here, far more than the rest of a query's analysis, so a query usually borrows
 * the call site captured for its statement earlier, possibly by another route. That is good
 * enough for a first guess; a finding that needs the line of its own request asks its
 * QuerySite to capture one.
 */
export class CallSiteCache {
  private readonly entries: LruMap<string, { holder: StackHolder; capturedAt: number }>;

  constructor(maxEntries: number) {
    this.entries = new LruMap(maxEntries);
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
  }
}

/**
 * The call site of one statement under one parent span within one request (the analyzer's N+1
 * group): every query of that statement there carries the same QuerySite. It starts out borrowing the statement's shared call site;
 * the query that makes the statement an N+1 candidate in this request (its minRepeats-th) captures
 * this request's own stack, and from then on every query of the group answers with it, including
 * the ones issued before: with Promise.all, all of them are issued before any of them ends, and
 * the spans' start order says nothing about which query was which. One capture per N+1, none for
 * statements issued fewer times.
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

  /** Counts a query; captures this request's call site once `minRepeats` queries were issued. */
  issue(fingerprint: string, minRepeats: number, cache: CallSiteCache, skipAbove: SkipAbove): void {
    this.issued++;
    if (this.own === undefined && this.issued >= minRepeats) this.own = cache.capture(fingerprint, skipAbove);
  }

  /** The call site is this request's own (captured in it), not borrowed from an earlier one. */
  get isOwn(): boolean {
    return this.own !== undefined;
  }
}

/** What the driver wrappers put in the context for a query: a request's QuerySite, or a stack of its own. */
export type CallSiteRef = StackHolder | QuerySite;

export function holderOf(ref: CallSiteRef | undefined): StackHolder | undefined {
  return ref instanceof QuerySite ? ref.holder : ref;
}
