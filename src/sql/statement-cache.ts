import type { SqlDialect } from './dialect';
import { fingerprint } from './fingerprint';
import { normalizeSql } from './normalize';
import { LruMap } from '../util/lru';

export interface NormalizedStatement {
  /** The statement with every literal replaced by `?` (`perf.query.pattern`). */
  readonly statement: string;
  /** 16 lowercase hex digits (`perf.query.fingerprint`). */
  readonly fingerprint: string;
}

/** One raw text's results, by dialect: the same text reads differently in each (see dialect.ts). */
interface Entry {
  postgresql?: NormalizedStatement;
  mysql?: NormalizedStatement;
  unknown?: NormalizedStatement;
}

/**
 * Bounded LRU memo of `normalizeSql` + `fingerprint`, keyed by the raw statement and its dialect
 * (one entry per raw text, holding a result per dialect, so a lookup hashes only the text that
 * the driver already holds, never a concatenated key). Applications
 * send the same few texts over and over (a parameterized query is the same text every time),
 * so most spans are a Map lookup instead of a scan.
 */
export class StatementCache {
  private readonly entries: LruMap<string, Entry>;
  private readonly maxEntries: number;
  private readonly maxKeyLength: number;

  /**
   * @param maxEntries most statements kept; 0 (or an invalid value) disables caching.
   * @param maxKeyLength longer statements are normalized every time: they are rarely repeated,
   *   and one of them would hold much more memory than a typical entry.
   */
  constructor(maxEntries: number, maxKeyLength = 4096) {
    this.maxEntries = nonNegativeInteger(maxEntries);
    this.maxKeyLength = nonNegativeInteger(maxKeyLength);
    this.entries = new LruMap(this.maxEntries);
  }

  /** The raw statements' own bytes (up to maxKeyLength characters each), for the footprint estimate; O(entries). */
  get keyBytes(): number {
    let bytes = 0;
    for (const [raw] of this.entries) bytes += 16 + raw.length;
    return bytes;
  }

  get size(): number {
    return this.entries.size;
  }

  get(raw: string, dialect: SqlDialect = 'postgresql'): NormalizedStatement {
    if (raw.length > this.maxKeyLength || this.maxEntries === 0) return compute(raw, dialect);
    const entry = this.entries.get(raw); // made the newest, whichever dialect is asked for
    if (entry !== undefined) {
      // Named loads: cheaper than entry[dialect] on this, the hottest path of the agent.
      const hit = dialect === 'postgresql' ? entry.postgresql : dialect === 'mysql' ? entry.mysql : entry.unknown;
      if (hit !== undefined) return hit;
    }
    const value = compute(raw, dialect);
    if (entry !== undefined) {
      entry[dialect] = value;
    } else {
      // Every entry gets the same three fields, so they all share one shape.
      const created: Entry = { postgresql: undefined, mysql: undefined, unknown: undefined };
      created[dialect] = value;
      this.entries.set(raw, created);
    }
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}

function compute(raw: string, dialect: SqlDialect): NormalizedStatement {
  const statement = normalizeSql(raw, dialect);
  // Frozen because cached results are shared by every caller.
  return Object.freeze({ statement, fingerprint: fingerprint(statement) });
}

/** Bounds come from configuration; a bad one disables the cache rather than throwing. */
function nonNegativeInteger(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
