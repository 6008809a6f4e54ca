import { performance } from 'node:perf_hooks';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { getRuntime, type AgentRuntime } from './runtime';
import { ATTR_MEASURE_OPERATION, ATTR_MEASURE_TARGET_ID, ATTR_MEASURE_TARGET_TYPE } from '../semconv';
import { boundString, MAX_MESSAGE_CHARS, MAX_OPERATION_CHARS } from '../stats/footprint';
import { describeError, recordFailure } from '../util/safe';
import { log } from '../util/log';
import { buildReport, type MeasurementReport } from '../stats/report';

export interface MeasureOptions<T = unknown> {
  /** What was measured, for the report: `{ type: 'member', id: 42 }`. */
  target?: { type: string; id: string | number };
  /**
   * Called with the report once `fn` settled, whether it succeeded or failed (the only way to
   * see the report of a failed run besides `GET /perf/report`). Its own errors are logged, never
   * passed on.
   */
  onReport?: (report: MeasuredReport<T>) => void;
}

/** The report measure() resolves to: `result` is `fn`'s own return value (awaited), the same object. */
export type MeasuredReport<T> = MeasurementReport & { result?: T };

/**
 * Open measurements that may hold a place in the trace buffer. A measure() whose `fn` never
 * settles holds one until the buffer gives up on its trace; past this bound further calls are
 * timed but not traced, so they can never crowd requests out of analysis.
 */
export const MAX_OPEN_MEASUREMENTS = 64;
/** After this long the trace buffer has released a trace whose root never ended (its traceTimeoutMs). */
const OPEN_MEASUREMENT_TTL_MS = 120_000;
const openSince = new Set<{ at: number }>();

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs `fn` as its own measured operation: a root span the analyzers see as a request of its own
 * (always recorded and exported, whatever the sampling rate), and resolves to the measurement
 * report, whose `result` is what `fn` returned. When `fn` throws or rejects, measure() rejects
 * with that very error; the error report is still recorded (GET /perf/report) and handed to
 * `options.onReport`. With the agent off, the report holds the timing only.
 *
 *     const report = await measure('load payment history', () => loadPayments(memberId));
 *     if (report.analysis.nPlusOne.length > 0) ...
 *     const payments = report.result;
 */
export async function measure<T>(operation: string, fn: () => T | PromiseLike<T>, options: MeasureOptions<Awaited<T>> = {}): Promise<MeasuredReport<Awaited<T>>> {
  if (typeof operation !== 'string' || operation.trim() === '') {
    throw new TypeError(`measure(operation, fn): operation must be a non-empty string, got ${boundString(String(JSON.stringify(operation)), 100)}`);
  }
  const name = boundString(operation, MAX_OPERATION_CHARS);
  if (typeof fn !== 'function') throw new TypeError(`measure(${JSON.stringify(boundString(name, 100))}, fn): fn must be a function, got ${typeof fn}`);
  const target = options.target ? { type: boundString(String(options.target.type), MAX_OPERATION_CHARS), id: boundString(String(options.target.id), MAX_OPERATION_CHARS) } : null;
  const runtime = getRuntime();
  const slot = runtime ? takeSlot() : undefined;

  let outcome: Settled<Awaited<T>>;
  let report: MeasurementReport;
  if (!runtime || !slot) {
    const started = performance.now();
    outcome = await settle(fn);
    const note = runtime ? `not traced: more than ${MAX_OPEN_MEASUREMENTS} measure() calls open at once` : 'agent not running: timing only';
    report = buildReport({ operation: name, target, executionTimeMs: performance.now() - started, error: errorOf(outcome), note });
    runtime?.recordReport(report);
  } else {
    try {
      ({ outcome, report } = await traced(runtime, name, target, fn));
    } finally {
      openSince.delete(slot);
    }
  }
  // The kept report never holds `result`: the agent must not keep the application's objects alive.
  const answer: MeasuredReport<Awaited<T>> = outcome.ok ? { ...report, result: outcome.value } : report;
  if (options.onReport) callOnReport(options.onReport, answer);
  if (!outcome.ok) throw outcome.error;
  return answer;
}

async function traced<T>(runtime: AgentRuntime, name: string, target: { type: string; id: string } | null, fn: () => T | PromiseLike<T>): Promise<{ outcome: Settled<Awaited<T>>; report: MeasurementReport }> {
  const attributes: Record<string, string> = { [ATTR_MEASURE_OPERATION]: name };
  if (target) {
    attributes[ATTR_MEASURE_TARGET_TYPE] = target.type;
    attributes[ATTR_MEASURE_TARGET_ID] = target.id;
  }
  const span = trace.getTracer('otel-perf-agent').startSpan(`measure ${name}`, { kind: SpanKind.INTERNAL, root: true, attributes });
  const traceId = span.spanContext().traceId;
  const started = performance.now();
  const outcome = await context.with(trace.setSpan(context.active(), span), () => settle(fn));
  const executionTimeMs = performance.now() - started;
  const error = errorOf(outcome);
  if (!outcome.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: boundString(describeError(error), MAX_MESSAGE_CHARS) });

  let analyzed: Parameters<Parameters<typeof runtime.expectTrace>[1]>[0] | undefined;
  runtime.expectTrace(traceId, (result) => (analyzed = result));
  try {
    span.end(); // the trace buffer analyzes the trace synchronously, in onEnding
  } finally {
    runtime.forgetTrace(traceId);
  }
  const baseline = runtime.baselines.get(name);
  const report = buildReport({
    operation: name,
    target,
    executionTimeMs,
    trace: analyzed?.trace,
    findings: analyzed?.findings,
    summary: analyzed?.summary,
    error,
    baseline,
    note: analyzed ? undefined : 'not analyzed (analysis is off or shed)',
  });
  if (outcome.ok) runtime.baselines.record(name, report.metrics.executionTimeMs, report.metrics.queryCount);
  runtime.recordReport(report);
  return { outcome, report };
}

/** A place among the open measurements, or undefined when they are all taken. */
function takeSlot(now = Date.now()): { at: number } | undefined {
  if (openSince.size >= MAX_OPEN_MEASUREMENTS) {
    // Places held past the trace buffer's timeout no longer hold anything there.
    for (const slot of openSince) if (now - slot.at > OPEN_MEASUREMENT_TTL_MS) openSince.delete(slot);
    if (openSince.size >= MAX_OPEN_MEASUREMENTS) {
      log.warnOnce('measure-open', `more than ${MAX_OPEN_MEASUREMENTS} measure() calls are open at once (functions that never settle?); further ones are timed but not traced until some settle`);
      return undefined;
    }
  }
  const slot = { at: now };
  openSince.add(slot);
  return slot;
}

/** Runs fn to completion (sync or async), keeping what it returned or threw, as it was. */
async function settle<T>(fn: () => T | PromiseLike<T>): Promise<Settled<Awaited<T>>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** For the report: what was thrown (a nullish throw still makes an error report). */
function errorOf(outcome: Settled<unknown>): unknown {
  if (outcome.ok) return undefined;
  return outcome.error ?? new Error(`measure(): the function threw ${String(outcome.error)}`);
}

function callOnReport<T>(onReport: (report: MeasuredReport<T>) => void, report: MeasuredReport<T>): void {
  try {
    const returned = onReport(report) as unknown;
    if (returned && typeof (returned as PromiseLike<unknown>).then === 'function') (returned as Promise<unknown>).then(undefined, (err: unknown) => recordFailure('measure() onReport', err));
  } catch (err) {
    recordFailure('measure() onReport', err);
  }
}
