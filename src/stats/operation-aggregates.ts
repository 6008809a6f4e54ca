import { stringBytes } from './footprint';
import { Histogram, HISTOGRAM_BYTES, type HistogramSummary } from './histogram';
import { RecencyList, type Linked } from './recency-list';

/** What one analyzed local trace contributes to its operation's aggregates. */
export interface OperationSample {
  durationMs: number;
  queryCount: number;
  queryTimeMs: number;
  error?: boolean;
  /** Findings on the trace. */
  findings?: number;
  /** n_plus_one findings on the trace. */
  nPlusOne?: number;
}

export interface OperationAggregatesOptions {
  /** Operations tracked at once; the least recently updated is evicted past it. */
  maxOperations: number;
  /** Width of a window, and its alignment (epoch ms multiple). Default one hour. */
  windowMs?: number;
  /** Windows kept per operation, the oldest of them possibly a rollup of everything older. */
  maxWindows: number;
}

export interface OperationSnapshot {
  operation: string;
  count: number;
  errorCount: number;
  findings: number;
  nPlusOne: number;
  duration: HistogramSummary;
  queryCount: HistogramSummary;
  queryTimeMs: HistogramSummary;
  /** Epoch ms the merged windows cover: from the start of the oldest to the end of the newest. */
  from: number;
  to: number;
}

interface Window {
  start: number;
  end: number;
  /** Holds merged older windows. */
  rollup: boolean;
  count: number;
  errorCount: number;
  findingsCount: number;
  nPlusOneCount: number;
  duration: Histogram;
  queryCount: Histogram;
  queryTimeMs: Histogram;
}

interface OperationState extends Linked<OperationState> {
  name: string;
  /** Oldest first; windows[0] may be a rollup. */
  windows: Window[];
}

/** One window: its three histograms plus the window object with its boxed start and end (about 150 bytes). */
export const WINDOW_BYTES = 3 * HISTOGRAM_BYTES + 160;
/** One operation besides its windows and name: its state object, windows array, recency links and Map slot. */
export const OPERATION_OVERHEAD_BYTES = 320;

/**
 * Per-operation statistics in time windows aligned to `windowMs`. Memory is fixed by
 * maxOperations x maxWindows x WINDOW_BYTES (plus names): past maxWindows the two oldest windows
 * are merged into one rollup window (its object reused for the new window), and past
 * maxOperations the least recently updated operation is evicted.
 */
export class OperationAggregates {
  readonly maxOperations: number;
  readonly maxWindows: number;
  readonly windowMs: number;
  private readonly ops = new Map<string, OperationState>();
  /** Least recently updated first: the one to evict. */
  private readonly recency = new RecencyList<OperationState>();
  private evicted = 0;

  constructor(options: OperationAggregatesOptions) {
    this.maxOperations = Math.max(1, Math.floor(options.maxOperations) || 1);
    this.maxWindows = Math.max(1, Math.floor(options.maxWindows) || 1);
    const windowMs = options.windowMs ?? 3_600_000;
    this.windowMs = windowMs > 0 && windowMs < Infinity ? windowMs : 3_600_000;
  }

  /** Adds one trace of `operation` ended at `now` (epoch ms). */
  record(operation: string, sample: OperationSample, now: number = Date.now()): void {
    const start = now - (((now % this.windowMs) + this.windowMs) % this.windowMs);
    let state = this.ops.get(operation);
    if (state === undefined) {
      if (this.ops.size >= this.maxOperations) {
        this.drop(this.recency.oldest as OperationState);
        this.evicted++;
      }
      state = { name: operation, windows: [], older: undefined, newer: undefined };
      this.ops.set(operation, state);
      this.recency.push(state);
    } else {
      this.recency.touch(state);
    }
    addSample(this.windowFor(state, start), sample);
  }

  /**
   * Per operation (or only `operation`), the windows that end after `sinceMs` merged into one
   * summary; most recently updated first. Operations with no such window are left out. A rollup
   * window is all or nothing, so `from` can be earlier than `sinceMs`: it says what was merged.
   */
  snapshot(operation?: string, sinceMs = -Infinity): OperationSnapshot[] {
    const states = operation === undefined ? this.newestFirst() : [this.ops.get(operation)];
    const scratch = { duration: new Histogram(), queryCount: new Histogram(), queryTimeMs: new Histogram() };
    const out: OperationSnapshot[] = [];
    for (const state of states) {
      if (state === undefined) continue;
      const snap = summarize(state, sinceMs, scratch);
      if (snap) out.push(snap);
    }
    return out;
  }

  /**
   * Drops windows that ended at or before `olderThan`, and a rollup that started before it: its
   * expired part cannot be told apart from the rest, and expired data must not be reported. An
   * operation left without windows is dropped. Returns the number of windows dropped.
   */
  prune(olderThan: number): number {
    let dropped = 0;
    for (const state of this.ops.values()) {
      const windows = state.windows;
      let expired = 0;
      while (expired < windows.length && isExpired(windows[expired], olderThan)) expired++;
      if (expired > 0) {
        windows.splice(0, expired);
        dropped += expired;
      }
      if (windows.length === 0) this.drop(state);
    }
    return dropped;
  }

  /** Operation names, most recently updated first. */
  operations(): string[] {
    return this.newestFirst().map((state) => state.name);
  }

  get size(): number {
    return this.ops.size;
  }

  /** Operations evicted to stay within maxOperations. */
  get evictions(): number {
    return this.evicted;
  }

  /** Estimated bytes held: the windows allocated now, plus a fixed overhead and the name per operation. */
  estimateBytes(): number {
    let bytes = 0;
    for (const state of this.ops.values()) {
      bytes += OPERATION_OVERHEAD_BYTES + stringBytes(state.name) + state.windows.length * WINDOW_BYTES;
    }
    return bytes;
  }

  clear(): void {
    this.ops.clear();
    this.recency.clear();
  }

  toString(): string {
    return `OperationAggregates{${this.ops.size}/${this.maxOperations} operations, ${this.maxWindows} windows of ${this.windowMs} ms}`;
  }

  private drop(state: OperationState): void {
    this.ops.delete(state.name);
    this.recency.remove(state);
  }

  private newestFirst(): OperationState[] {
    const out: OperationState[] = [];
    for (let s = this.recency.newest; s !== undefined; s = s.older) out.push(s);
    return out;
  }

  /** The window for a sample whose aligned start is `start`, opening (or recycling) one if needed. */
  private windowFor(state: OperationState, start: number): Window {
    const windows = state.windows;
    const last = windows[windows.length - 1];
    if (last !== undefined && last.start === start) return last; // the common case
    if (last === undefined || start > last.start) {
      let fresh: Window;
      if (windows.length >= this.maxWindows && windows.length >= 2) {
        mergeInto(windows[0], windows[1]);
        fresh = windows.splice(1, 1)[0];
        resetWindow(fresh);
      } else if (windows.length >= this.maxWindows) {
        // maxWindows 1: everything goes into the one window.
        windows[0].rollup = true;
        windows[0].end = start + this.windowMs;
        return windows[0];
      } else {
        fresh = newWindow();
      }
      fresh.start = start;
      fresh.end = start + this.windowMs;
      windows.push(fresh);
      return fresh;
    }
    // Late sample (the clock stepped back): the newest window starting at or before it, else the
    // oldest, widened to cover it.
    for (let i = windows.length - 1; i >= 0; i--) {
      if (windows[i].start <= start) {
        if (windows[i].end < start + this.windowMs) windows[i].end = start + this.windowMs;
        return windows[i];
      }
    }
    windows[0].start = start;
    return windows[0];
  }
}

function isExpired(w: Window, olderThan: number): boolean {
  return w.end <= olderThan || (w.rollup && w.start < olderThan);
}

function newWindow(): Window {
  return {
    start: 0,
    end: 0,
    rollup: false,
    count: 0,
    errorCount: 0,
    findingsCount: 0,
    nPlusOneCount: 0,
    duration: new Histogram(),
    queryCount: new Histogram(),
    queryTimeMs: new Histogram(),
  };
}

function resetWindow(w: Window): void {
  w.rollup = false;
  w.count = 0;
  w.errorCount = 0;
  w.findingsCount = 0;
  w.nPlusOneCount = 0;
  w.duration.reset();
  w.queryCount.reset();
  w.queryTimeMs.reset();
}

function addSample(w: Window, s: OperationSample): void {
  w.count++;
  if (s.error) w.errorCount++;
  if (s.findings) w.findingsCount += s.findings;
  if (s.nPlusOne) w.nPlusOneCount += s.nPlusOne;
  w.duration.record(s.durationMs);
  w.queryCount.record(s.queryCount);
  w.queryTimeMs.record(s.queryTimeMs);
}

function mergeInto(into: Window, from: Window): void {
  into.rollup = true;
  if (from.start < into.start) into.start = from.start;
  if (from.end > into.end) into.end = from.end;
  into.count += from.count;
  into.errorCount += from.errorCount;
  into.findingsCount += from.findingsCount;
  into.nPlusOneCount += from.nPlusOneCount;
  into.duration.merge(from.duration);
  into.queryCount.merge(from.queryCount);
  into.queryTimeMs.merge(from.queryTimeMs);
}

interface Scratch {
  duration: Histogram;
  queryCount: Histogram;
  queryTimeMs: Histogram;
}

function summarize(state: OperationState, sinceMs: number, scratch: Scratch): OperationSnapshot | undefined {
  scratch.duration.reset();
  scratch.queryCount.reset();
  scratch.queryTimeMs.reset();
  let count = 0;
  let errorCount = 0;
  let findings = 0;
  let nPlusOne = 0;
  let from = Infinity;
  let to = -Infinity;
  for (const w of state.windows) {
    if (w.end <= sinceMs) continue;
    count += w.count;
    errorCount += w.errorCount;
    findings += w.findingsCount;
    nPlusOne += w.nPlusOneCount;
    scratch.duration.merge(w.duration);
    scratch.queryCount.merge(w.queryCount);
    scratch.queryTimeMs.merge(w.queryTimeMs);
    if (w.start < from) from = w.start;
    if (w.end > to) to = w.end;
  }
  if (from === Infinity) return undefined;
  return {
    operation: state.name,
    count,
    errorCount,
    findings,
    nPlusOne,
    duration: scratch.duration.toJSON(),
    queryCount: scratch.queryCount.toJSON(),
    queryTimeMs: scratch.queryTimeMs.toJSON(),
    from,
    to,
  };
}
