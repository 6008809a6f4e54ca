import { boundString, MAX_OPERATION_CHARS, MAX_PATTERN_CHARS, stringBytes } from './footprint';
import { RecencyList, type Linked } from './recency-list';

/** What the library knows about one query pattern (normalized statement). */
export interface PatternEntry {
  /** perf.query.fingerprint */
  fingerprint: string;
  /** The normalized statement, stored once per fingerprint (the first one seen). */
  pattern: string;
  count: number;
  totalMs: number;
  maxMs: number;
  /** Epoch milliseconds. */
  firstSeen: number;
  lastSeen: number;
  /** Up to MAX_OPERATIONS_PER_PATTERN distinct operations that issued it, first seen first. */
  operations: string[];
}

export interface PatternLibraryOptions {
  /** Estimated bytes the library may hold; least recently seen patterns are evicted past it. Default unbounded (maxEntries only). */
  maxBytes?: number;
}

export interface PatternLibraryJSON {
  size: number;
  maxEntries: number;
  evictions: number;
  estimatedBytes: number;
  /** Every pattern, largest totalMs first. */
  patterns: PatternEntry[];
}

export type PatternOrder = 'count' | 'totalMs' | 'maxMs';

export const MAX_OPERATIONS_PER_PATTERN = 5;

/**
 * Bytes of one entry besides its strings: the entry object with its number fields (timestamps and
 * float sums are boxed doubles), a one-slot operations array, and the Map slot with its share of
 * the Map's hash table, and the two recency links. Measured at about 350 on 64-bit Node 20; see
 * memory.test.ts.
 */
export const PATTERN_ENTRY_OVERHEAD_BYTES = 350;
/** The operations array growing from 1 slot to V8's next capacity (17) on a second operation. */
const OPERATIONS_GROWTH_BYTES = 136;

interface Entry extends PatternEntry, Linked<Entry> {
  /** This entry's estimate, kept so eviction can subtract it. */
  bytes: number;
}

/**
 * The library of query patterns seen by this process: per fingerprint, how often, how long and
 * from which operations. Bounded by entry count (and optionally by estimated bytes); when full, the
 * least recently seen pattern is evicted. A Map finds entries; a recency list through the entries
 * orders them, so a record and an eviction each cost O(1).
 */
export class PatternLibrary {
  readonly maxEntries: number;
  readonly maxBytes: number;
  private readonly entries = new Map<string, Entry>();
  private readonly recency = new RecencyList<Entry>();
  private bytes = 0;
  private evicted = 0;

  constructor(maxEntries: number, options: PatternLibraryOptions = {}) {
    this.maxEntries = Math.max(1, Math.floor(maxEntries) || 1);
    const maxBytes = options.maxBytes;
    this.maxBytes = maxBytes !== undefined && maxBytes > 0 ? maxBytes : Infinity;
  }

  /** Counts one execution of `pattern` (by `operation`) that took `durationMs`. */
  record(fingerprint: string, pattern: string, durationMs: number, operation: string, now: number = Date.now()): void {
    operation = boundString(operation, MAX_OPERATION_CHARS);
    const ms = durationMs >= 0 && durationMs < Infinity ? durationMs : 0;
    let entry = this.entries.get(fingerprint);
    if (entry === undefined) entry = this.insert(fingerprint, pattern, operation, now);
    else this.recency.touch(entry);
    entry.count++;
    entry.totalMs += ms;
    if (ms > entry.maxMs) entry.maxMs = ms;
    if (now > entry.lastSeen) entry.lastSeen = now;
    if (operation && entry.operations.length < MAX_OPERATIONS_PER_PATTERN && !entry.operations.includes(operation)) {
      entry.operations.push(operation);
      const added = stringBytes(operation) + (entry.operations.length === 2 ? OPERATIONS_GROWTH_BYTES : 0);
      entry.bytes += added;
      this.bytes += added;
    }
  }

  /** A copy of the entry for `fingerprint`; does not count as seeing it. */
  get(fingerprint: string): PatternEntry | undefined {
    const entry = this.entries.get(fingerprint);
    return entry && copy(entry);
  }

  /** The `n` patterns with the largest `by`, largest first (copies). */
  top(n: number, by: PatternOrder = 'totalMs'): PatternEntry[] {
    const all = [...this.entries.values()];
    all.sort((a, b) => b[by] - a[by]);
    return all.slice(0, Math.max(0, n)).map(copy);
  }

  /** Drops the patterns last seen before `olderThan` (epoch ms); returns how many. */
  prune(olderThan: number): number {
    let dropped = 0;
    for (const entry of this.entries.values()) {
      if (entry.lastSeen < olderThan) {
        this.remove(entry);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Patterns evicted to stay within the bounds (not counting prune). */
  get evictions(): number {
    return this.evicted;
  }

  /** Estimated bytes held: a fixed overhead per entry plus its strings. */
  estimateBytes(): number {
    return this.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.recency.clear();
    this.bytes = 0;
  }

  toJSON(): PatternLibraryJSON {
    return {
      size: this.entries.size,
      maxEntries: this.maxEntries,
      evictions: this.evicted,
      estimatedBytes: this.bytes,
      patterns: this.top(this.entries.size, 'totalMs'),
    };
  }

  toString(): string {
    return `PatternLibrary{${this.entries.size}/${this.maxEntries}}`;
  }

  private insert(fingerprint: string, rawPattern: string, operation: string, now: number): Entry {
    const pattern = boundString(rawPattern, MAX_PATTERN_CHARS);
    let bytes = PATTERN_ENTRY_OVERHEAD_BYTES + stringBytes(fingerprint) + stringBytes(pattern);
    if (operation) bytes += stringBytes(operation);
    while (this.entries.size > 0 && (this.entries.size >= this.maxEntries || this.bytes + bytes > this.maxBytes)) {
      this.remove(this.recency.oldest as Entry);
      this.evicted++;
    }
    const entry: Entry = {
      fingerprint,
      pattern,
      count: 0,
      totalMs: 0,
      maxMs: 0,
      firstSeen: now,
      lastSeen: now,
      // Most patterns come from one operation: an exact-size array until a second one shows up.
      operations: operation ? [operation] : [],
      bytes,
      older: undefined,
      newer: undefined,
    };
    this.entries.set(fingerprint, entry);
    this.recency.push(entry);
    this.bytes += bytes;
    return entry;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.fingerprint);
    this.recency.remove(entry);
    this.bytes -= entry.bytes;
  }
}

function copy(entry: Entry): PatternEntry {
  return {
    fingerprint: entry.fingerprint,
    pattern: entry.pattern,
    count: entry.count,
    totalMs: entry.totalMs,
    maxMs: entry.maxMs,
    firstSeen: entry.firstSeen,
    lastSeen: entry.lastSeen,
    operations: [...entry.operations],
  };
}
