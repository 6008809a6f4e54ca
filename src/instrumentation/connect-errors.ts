import { SpanKind, SpanStatusCode, trace, type Context, type Tracer } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { ATTR_DB_SYSTEM_NAME, ATTR_ERROR_TYPE } from '../semconv';
import { recordFailure } from '../util/safe';

type Callback = (...args: unknown[]) => unknown;

/** How a pool's failed connection attempt is reported: the span it leaves under the request. */
export interface ConnectFailureSpan {
  /** `pg-pool.connect`, as the pg instrumentation names its own connect spans. */
  name: string;
  /** db.system.name */
  system: string;
}

/**
 * A query whose pool cannot get a connection fails before the driver instrumentation starts a
 * query span, and with pg connect spans off (the default) or on mysql2 (which has none) the
 * request would keep no trace of why it failed: an app that answers 200 from a fallback would
 * show a healthy trace. This wraps the callback of a pool's connect (pg-pool `connect`, mysql2
 * `getConnection`; a pool's query goes through it) so that a connection error leaves one error
 * span under the request, from the connect call to the failure. The trace buffer keeps a trace
 * with an error span like one with a finding (perf.sampling.reason=error).
 */
export function watchConnect(tracer: Tracer, what: ConnectFailureSpan, callback: Callback, parent: Context): Callback {
  const startTime = performance.now();
  return function connected(this: unknown, ...args: unknown[]) {
    if (args[0] !== undefined && args[0] !== null) report(tracer, what, args[0], parent, startTime);
    return callback.apply(this, args);
  };
}

function report(tracer: Tracer, what: ConnectFailureSpan, err: unknown, parent: Context, startTime: number): void {
  try {
    const e = err as { code?: unknown; name?: unknown; message?: unknown };
    const type = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'Error';
    const span = tracer.startSpan(what.name, { kind: SpanKind.CLIENT, startTime, attributes: { [ATTR_DB_SYSTEM_NAME]: what.system, [ATTR_ERROR_TYPE]: type } }, parent);
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e?.message === 'string' ? e.message : String(err) });
    span.end();
  } catch (failure) {
    recordFailure('connect error span', failure);
  }
}

/** Only under a request that records: a connect outside any request has no trace to join. */
export function recordingParent(active: Context): boolean {
  return trace.getSpan(active)?.isRecording() === true;
}
