import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';
import { addHrTimes, hrTimeToMilliseconds, millisToHrTime } from '@opentelemetry/core';
import { performance } from 'node:perf_hooks';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { InstrumentationScope } from '@opentelemetry/core';
import { resolveCallSite } from '../analysis/call-site';
import { holderOf, type CallSiteRef } from '../analysis/call-site-cache';
import type { CallSite, SpanView } from '../analysis/types';
import { scrubbedQueryError } from './db-error-scrubber';
import { ATTR_DB_RESPONSE_STATUS_CODE, ATTR_ERROR_TYPE, ATTR_DB_NAMESPACE, ATTR_DB_QUERY_TEXT, ATTR_DB_SYSTEM_NAME, ATTR_QUERY_FINGERPRINT, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '../semconv';

/*
 * The shadow record of a request recorded only for keep-findings (recording, not sampled).
 *
 * Such a request used to be recorded like a sampled one: a span per query from the contrib
 * instrumentation, every processor on every span, all of it thrown away unless a finding kept the
 * trace. Now its PostgreSQL queries skip the contrib instrumentation and leave only what the
 * analyzers need (raw text, parent, start, end, call site, error); the root stays a real span.
 * When the root ends the analyzers see the shadow queries as spans; when a finding keeps the
 * trace, the query spans are built from the shadow record with the name, attributes, status and
 * exception event instrumentation-pg 0.76 would have given them, so a kept trace looks as before.
 */

/** What instrumentation-pg would have put on the query span at its start. */
export interface ShadowDb {
  system: string;
  namespace: string | undefined;
  address: string | undefined;
  port: number | undefined;
}

export interface ShadowQuery {
  raw: string;
  name: string;
  db: ShadowDb;
  parentSpanId: string;
  /**
   * The SDK's clock (sdk-trace 2.12 SpanImpl): start at Date.now() (whole milliseconds), end and
   * event times at the start plus the performance.now() delta. The same clock gives the
   * analyzers the same overlaps (sequential or concurrent) as real spans would.
   */
  startWallMs: number;
  startPerfMs: number;
  /** performance.now() at the end; undefined while the query runs. */
  endPerfMs: number | undefined;
  /**
   * Set when the query failed: the status message (scrubbed of the values the server quoted, as
   * db-error-scrubber.ts scrubs real spans; the raw one is never kept), the exception event's
   * message and the error's code (SQLSTATE).
   */
  error: { message: string; exception: string; code: string | undefined } | undefined;
  site: CallSiteRef | undefined;
  /** The trace's order clock of database span starts and ends (analysis/trace-view.ts QueryMark). */
  order: { events: number };
  startOrder: number;
  endOrder: number | undefined;
}

export function shadowClock(): { startWallMs: number; startPerfMs: number } {
  return { startWallMs: Date.now(), startPerfMs: performance.now() };
}

export function endShadowQuery(query: ShadowQuery, error?: unknown): void {
  if (query.endPerfMs !== undefined) return;
  query.endPerfMs = performance.now();
  query.endOrder = query.order.events++;
  if (error) {
    const e = error as { name?: unknown; code?: unknown; message?: unknown };
    // instrumentation-pg's sanitizedErrorMessage: no statement or value in the event.
    const exception = `PostgreSQL error of type '${String(e.name ?? 'PostgreSQLError')}' occurred (code: ${String(e.code ?? 'UNKNOWN')})`;
    const scrubbed = scrubbedQueryError(String(e.message ?? error), [exception]);
    query.error = { message: scrubbed.message, exception, code: scrubbed.code };
  }
}

let scope: InstrumentationScope = { name: '@opentelemetry/instrumentation-pg' };

/** The contrib instrumentation's name and version, for the spans built from shadow queries. */
export function setShadowScope(next: InstrumentationScope): void {
  scope = next;
}

export interface Normalized {
  statement: string;
  fingerprint: string;
}

/** A shadow query as the analyzers see a database span. */
export class ShadowSpanView implements SpanView {
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind = SpanKind.CLIENT;
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
  readonly isDb = true;
  readonly statement: string;
  readonly fingerprint: string;
  readonly dbSystem: string;
  readonly error: boolean;
  readonly attributes: Attributes;
  readonly startOrder: number;
  readonly endOrder?: number;

  readonly start: HrTime;
  readonly duration: HrTime;
  readonly end: HrTime;

  constructor(readonly query: ShadowQuery, normalized: Normalized) {
    this.spanId = randomSpanId();
    this.parentSpanId = query.parentSpanId;
    this.name = query.name;
    this.start = millisToHrTime(query.startWallMs);
    this.duration = millisToHrTime((query.endPerfMs ?? query.startPerfMs) - query.startPerfMs);
    this.end = addHrTimes(this.start, this.duration);
    this.startMs = hrTimeToMilliseconds(this.start);
    this.durationMs = hrTimeToMilliseconds(this.duration);
    this.endMs = this.startMs + this.durationMs;
    this.statement = normalized.statement;
    this.fingerprint = normalized.fingerprint;
    this.dbSystem = query.db.system;
    this.error = query.error !== undefined;
    this.startOrder = query.startOrder;
    this.endOrder = query.endOrder;
    // instrumentation-pg's start attributes, then the statement processor's normalized text and fingerprint.
    this.attributes = {
      [ATTR_DB_SYSTEM_NAME]: query.db.system,
      [ATTR_DB_NAMESPACE]: query.db.namespace,
      [ATTR_SERVER_ADDRESS]: query.db.address,
      [ATTR_SERVER_PORT]: query.db.port,
      [ATTR_DB_QUERY_TEXT]: normalized.statement,
      [ATTR_QUERY_FINGERPRINT]: normalized.fingerprint,
    };
    // What db-error-scrubber.ts adds to a failed real span.
    if (query.error?.code !== undefined) {
      this.attributes[ATTR_DB_RESPONSE_STATUS_CODE] = query.error.code;
      this.attributes[ATTR_ERROR_TYPE] = query.error.code;
    }
    for (const key of Object.keys(this.attributes)) if (this.attributes[key] === undefined) delete this.attributes[key];
  }

  callSite(): CallSite | undefined {
    return resolveCallSite(holderOf(this.query.site));
  }
}

/** The shadow queries that ended before the root, as span views. */
export function shadowViews(queries: readonly ShadowQuery[], normalize: (raw: string) => Normalized): ShadowSpanView[] {
  const views: ShadowSpanView[] = [];
  for (const q of queries) if (q.endPerfMs !== undefined) views.push(new ShadowSpanView(q, normalize(q.raw)));
  return views;
}

/** The exported spans of a kept trace's shadow queries, children of spans of `root`'s trace. */
export function shadowSpans(views: readonly ShadowSpanView[], root: ReadableSpan): ReadableSpan[] {
  const rootContext = root.spanContext();
  return views.map((view) => {
    const q = view.query;
    const context: SpanContext = { traceId: rootContext.traceId, spanId: view.spanId, traceFlags: rootContext.traceFlags & TraceFlags.SAMPLED, traceState: rootContext.traceState };
    const parent: SpanContext = { traceId: rootContext.traceId, spanId: view.parentSpanId, traceFlags: context.traceFlags, traceState: rootContext.traceState, isRemote: false };
    const events: TimedEvent[] = q.error ? [{ name: 'exception', attributes: { 'exception.message': q.error.exception }, time: view.end, droppedAttributesCount: 0 }] : [];
    return {
      name: view.name,
      kind: SpanKind.CLIENT,
      spanContext: () => context,
      parentSpanContext: parent,
      startTime: view.start,
      endTime: view.end,
      duration: view.duration,
      status: q.error ? { code: SpanStatusCode.ERROR, message: q.error.message } : { code: SpanStatusCode.UNSET },
      attributes: view.attributes,
      links: [],
      events,
      ended: true,
      resource: root.resource,
      instrumentationScope: scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

const HEX = '0123456789abcdef';

/** 16 hex digits, never all zero (an invalid span id). */
function randomSpanId(): string {
  let id = '';
  for (let i = 0; i < 16; i++) id += HEX[(Math.random() * 16) | 0];
  return id === '0000000000000000' ? '0000000000000001' : id;
}
