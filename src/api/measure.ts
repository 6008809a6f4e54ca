import { performance } from 'node:perf_hooks';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { getRuntime } from './runtime';
import { ATTR_MEASURE_OPERATION, ATTR_MEASURE_TARGET_ID, ATTR_MEASURE_TARGET_TYPE } from '../semconv';
import { buildReport, type MeasurementReport } from '../stats/report';

export interface MeasureOptions {
  /** What was measured, for the report: `{ type: 'member', id: 42 }`. */
  target?: { type: string; id: string | number };
}

/**
 * Runs `fn` as its own measured operation: a root span the analyzers see as a request of its own
 * (always recorded and exported, whatever the sampling rate), and resolves to the measurement
 * report. An error thrown by `fn` is reported (status `error`), not rethrown; with the agent off,
 * the report holds the timing only.
 *
 *     const report = await measure('load payment history', () => loadPayments(memberId));
 *     if (report.analysis.nPlusOne.length > 0) ...
 */
export async function measure(operation: string, fn: () => unknown, options: MeasureOptions = {}): Promise<MeasurementReport> {
  if (typeof operation !== 'string' || operation.trim() === '') {
    throw new TypeError(`measure(operation, fn): operation must be a non-empty string, got ${JSON.stringify(operation)}`);
  }
  if (typeof fn !== 'function') throw new TypeError(`measure(${JSON.stringify(operation)}, fn): fn must be a function, got ${typeof fn}`);
  const target = options.target ? { type: String(options.target.type), id: String(options.target.id) } : null;
  const runtime = getRuntime();

  if (!runtime) {
    const started = performance.now();
    const error = await settle(fn);
    return buildReport({ operation, target, executionTimeMs: performance.now() - started, error, note: 'agent not running: timing only' });
  }

  const attributes: Record<string, string> = { [ATTR_MEASURE_OPERATION]: operation };
  if (target) {
    attributes[ATTR_MEASURE_TARGET_TYPE] = target.type;
    attributes[ATTR_MEASURE_TARGET_ID] = target.id;
  }
  const span = trace.getTracer('otel-perf-agent').startSpan(`measure ${operation}`, { kind: SpanKind.INTERNAL, root: true, attributes });
  const traceId = span.spanContext().traceId;
  const started = performance.now();
  const error = await context.with(trace.setSpan(context.active(), span), () => settle(fn));
  const executionTimeMs = performance.now() - started;
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });

  let analyzed: Parameters<Parameters<typeof runtime.expectTrace>[1]>[0] | undefined;
  runtime.expectTrace(traceId, (result) => (analyzed = result));
  try {
    span.end(); // the trace buffer analyzes the trace synchronously, in onEnding
  } finally {
    runtime.forgetTrace(traceId);
  }
  const baseline = runtime.baselines.get(operation);
  const report = buildReport({
    operation,
    target,
    executionTimeMs,
    trace: analyzed?.trace,
    findings: analyzed?.findings,
    summary: analyzed?.summary,
    error,
    baseline,
    note: analyzed ? undefined : 'not analyzed (analysis is off or shed)',
  });
  if (error === undefined) runtime.baselines.record(operation, report.metrics.executionTimeMs, report.metrics.queryCount);
  runtime.recordReport(report);
  return report;
}

/** Runs fn to completion; returns what it threw, or undefined. */
async function settle(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (err) {
    return err ?? new Error('measure(): the function threw a nullish value');
  }
}
