import { OPERATION_OVERHEAD_BYTES, WINDOW_BYTES } from './operation-aggregates';

/*
 * The agent's memory budget, in one place: how PERF_AGENT_MEMORY_LIMIT_MB is shared out (half to
 * buffered spans, a quarter to the statistics) and how the agent estimates what it holds
 * (self-protection compares that estimate with the limit).
 */

/** Rough heap cost of one buffered or queued span (attributes, events, times). */
export const SPAN_BYTES = 2048;
/** Rough heap cost of one cached normalized statement. */
export const STATEMENT_BYTES = 512;
/** Share of the memory limit for the spans the trace buffer holds. */
export const TRACE_BUFFER_SHARE = 0.5;
const MIN_BUFFERED_SPANS = 1000;
const MAX_SPANS_PER_TRACE = 2048;
const MAX_TRACES = 4096;
const TRACE_TIMEOUT_MS = 120_000;

/** The trace buffer's bounds (TraceBufferLimits). */
export interface TraceBufferBudget {
  maxTraces: number;
  maxSpansPerTrace: number;
  maxBufferedSpans: number;
  traceTimeoutMs: number;
}

/** Half the memory limit for buffered spans at SPAN_BYTES each, and never fewer than 1000. */
export function traceBufferBudget(memoryLimitMb: number): TraceBufferBudget {
  const maxBufferedSpans = Math.max(MIN_BUFFERED_SPANS, Math.floor((memoryLimitMb * 1024 * 1024 * TRACE_BUFFER_SHARE) / SPAN_BYTES));
  return { maxTraces: MAX_TRACES, maxSpansPerTrace: Math.min(MAX_SPANS_PER_TRACE, maxBufferedSpans), maxBufferedSpans, traceTimeoutMs: TRACE_TIMEOUT_MS };
}

/** What the agent holds, for its own estimate of its memory. */
export interface Holdings {
  /** Spans in the trace buffer, the export queue and in flight. */
  spans: number;
  /** Entries of the statement cache. */
  statements: number;
  /** The statistics' own estimate (Insights.estimateBytes). */
  statsBytes: number;
}

export function footprintBytes(h: Holdings): number {
  return h.spans * SPAN_BYTES + h.statements * STATEMENT_BYTES + h.statsBytes;
}

/** Bounds for the pattern library and the operation aggregates, from PERF_AGENT_MEMORY_LIMIT_MB. */
export interface StatsBudget {
  /** PatternLibrary maxEntries. */
  patternEntries: number;
  /** PatternLibrary maxBytes: the hard cap when patterns run longer than assumed. */
  patternBytes: number;
  /** OperationAggregates maxOperations. */
  maxOperations: number;
  /** OperationAggregates maxWindows. */
  maxWindows: number;
}

/** Share of the memory limit for the pattern library and the aggregates together. */
export const STATS_SHARE = 0.25;
/** Of that share: 30% patterns, 70% aggregates (a window of three histograms is about 15 KB). */
const PATTERN_SHARE = 0.3;
/**
 * An entry as PatternLibrary estimates it with a ~300-character statement and one operation:
 * 350 overhead + 32 fingerprint + 316 pattern + ~64 operation name, about 760; rounded up.
 */
export const ASSUMED_PATTERN_ENTRY_BYTES = 768;
/** Operation names are assumed to be about 48 characters (16 bytes of header + 48). */
const ASSUMED_NAME_BYTES = 64;
/** Hourly windows: the last 7 hours one by one plus a rollup of everything older. */
const PREFERRED_WINDOWS = 8;

export const MIN_PATTERN_ENTRIES = 100;
export const MIN_OPERATIONS = 20;
export const MIN_WINDOWS = 2;

/**
 * Sizes the statistics so that, by their own estimates, the pattern library and the aggregates
 * together stay within 25% of the limit. With limit L bytes (memoryLimitMb * 2^20):
 *
 *   patterns:   0.25 * 0.3 * L bytes; entries = that / 768       (100 MB: 7.5 MiB, 10,240 entries)
 *   aggregates: 0.25 * 0.7 * L bytes; per operation 320 + 64 + maxWindows * WINDOW_BYTES
 *               (WINDOW_BYTES = 3 * 5,024 + 160 = 15,232), so with 8 windows 122,240 bytes
 *               per operation                                      (100 MB: 17.5 MiB, 150 operations)
 *
 * When that leaves fewer than 20 operations (limits under ~14 MB) windows are given up first, down
 * to 2; below ~4 MB the minimums (100 patterns, 20 operations, 2 windows, about 0.7 MB in all)
 * win over the 25% share. An invalid limit is read as the default, 100.
 */
export function statsBudget(memoryLimitMb: number): StatsBudget {
  const mb = memoryLimitMb > 0 && memoryLimitMb < Infinity ? memoryLimitMb : 100;
  const share = mb * 1024 * 1024 * STATS_SHARE;

  const patternEntries = Math.max(MIN_PATTERN_ENTRIES, Math.floor((share * PATTERN_SHARE) / ASSUMED_PATTERN_ENTRY_BYTES));
  const patternBytes = Math.max(Math.floor(share * PATTERN_SHARE), patternEntries * ASSUMED_PATTERN_ENTRY_BYTES);

  const aggregateBytes = share * (1 - PATTERN_SHARE);
  const perOperation = (windows: number): number => OPERATION_OVERHEAD_BYTES + ASSUMED_NAME_BYTES + windows * WINDOW_BYTES;
  let maxWindows = PREFERRED_WINDOWS;
  if (aggregateBytes / perOperation(maxWindows) < MIN_OPERATIONS) {
    const perOperationBytes = aggregateBytes / MIN_OPERATIONS - OPERATION_OVERHEAD_BYTES - ASSUMED_NAME_BYTES;
    maxWindows = Math.max(MIN_WINDOWS, Math.floor(perOperationBytes / WINDOW_BYTES));
  }
  const maxOperations = Math.max(MIN_OPERATIONS, Math.floor(aggregateBytes / perOperation(maxWindows)));

  return { patternEntries, patternBytes, maxOperations, maxWindows };
}
