import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';
import { addHrTimes, hrTimeToMilliseconds, millisToHrTime } from '@opentelemetry/core';
import { performance } from 'node:perf_hooks';
import { RandomIdGenerator, type ReadableSpan, type TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { InstrumentationScope } from '@opentelemetry/core';
import { resolveCallSite } from '../analysis/call-site';
import { holderOf, type CallSiteRef } from '../analysis/call-site-cache';
import type { CallSite, SpanView } from '../analysis/types';
import type { SqlDialect } from '../sql/dialect';
import { scrubbedQueryError } from './db-error-scrubber';
import { FinishedSpan } from '../util/finished-span';
import {
  ATTR_DB_NAMESPACE, ATTR_DB_QUERY_TEXT, ATTR_DB_RESPONSE_STATUS_CODE, ATTR_DB_SYSTEM_NAME, ATTR_ERROR_TYPE, ATTR_EXCEPTION_MESSAGE,
  ATTR_QUERY_FINGERPRINT, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, EXCEPTION_EVENT,
} from '../semconv';

/*
 * The shadow record of a recorded request: sampled, or recorded for keep-findings.
 *
 * Such a request used to get a span per query from the contrib instrumentation, every processor
 * on every span, and the trace buffer held those span objects until the root ended (long enough
 * for the young generation to promote them); for keep-findings all of it was thrown away unless a
 * finding kept the trace. Now its PostgreSQL queries skip the contrib instrumentation and leave
 * only what the analyzers need (raw text, parent, start, end, call site, error); the root stays a
 * real span. When the root ends the analyzers see the shadow queries as spans; when the trace is
 * exported (sampled, or kept for a finding or an error), the query spans are built from the
 * shadow record with the name, attributes, status and exception event instrumentation-pg 0.76
 * would have given them, so an exported trace looks as before.
 * mysql2 queries on a connection do the same, as instrumentation-mysql2 0.69 would have made them
 * (its own attribute order, an error status and no exception event). The statement processor's
 * work on a real span is done here too: the error scrubbed when the query ends, the statement
 * normalized and fingerprinted when the view is built.
 */

/** What the contrib instrumentation would have put on the query span at its start. */
export interface ShadowDb {
  system: string;
  namespace: string | undefined;
  address: string | undefined;
  port: number | undefined;
}

export interface ShadowQuery {
  /** The statement as the contrib instrumentation would have set it (mysql2: values formatted in). */
  raw: string;
  /** The rules `raw` is normalized with. */
  dialect: SqlDialect;
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
   * Set when the query failed: the status message and the exception event's message (pg only),
   * both scrubbed of the values the server quoted, as db-error-scrubber.ts scrubs real spans (the
   * raw messages are never kept), and the code they carry (SQLSTATE, MySQL errno).
   */
  error: { message: string | undefined; exception: string | undefined; code: string | undefined } | undefined;
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
  if (!error) return;
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  if (query.dialect === 'mysql') {
    // instrumentation-mysql2: `setStatus({ code: ERROR, message: err.message })`, nothing else.
    if (typeof e.message !== 'string') {
      query.error = { message: undefined, exception: undefined, code: undefined };
      return;
    }
    const scrubbed = scrubbedQueryError(e.message, []);
    query.error = { message: scrubbed.message, exception: undefined, code: scrubbed.code };
    return;
  }
  // instrumentation-pg's sanitizedErrorMessage: no statement or value in the event (the scrubber
  // still takes the quoted error name out of it, as it does on a real span's event).
  const exception = `PostgreSQL error of type '${String(e.name ?? 'PostgreSQLError')}' occurred (code: ${String(e.code ?? 'UNKNOWN')})`;
  const scrubbed = scrubbedQueryError(String(e.message ?? error), [exception]);
  query.error = { message: scrubbed.message, exception: scrubbedQueryError(exception, []).message, code: scrubbed.code };
}

const scopes: { postgresql: InstrumentationScope; mysql: InstrumentationScope } = {
  postgresql: { name: '@opentelemetry/instrumentation-pg' },
  mysql: { name: '@opentelemetry/instrumentation-mysql2' },
};

/** The contrib instrumentation's name and version, for the spans built from shadow queries of its dialect. */
export function setShadowScope(dialect: 'postgresql' | 'mysql', next: InstrumentationScope): void {
  scopes[dialect] = next;
}

export interface Normalized {
  statement: string;
  fingerprint: string;
}

/** A shadow query as the analyzers see a database span. */
export class ShadowSpanView implements SpanView {
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
  private id: string | undefined = undefined;

  constructor(readonly query: ShadowQuery, normalized: Normalized) {
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
    // The contrib instrumentation's start attributes in its order (the SDK drops undefined
    // values), then the statement processor's normalized text and fingerprint.
    const db = query.db;
    const attributes: Attributes = {};
    if (query.dialect === 'mysql') {
      if (db.namespace !== undefined) attributes[ATTR_DB_NAMESPACE] = db.namespace;
      if (db.address !== undefined) attributes[ATTR_SERVER_ADDRESS] = db.address;
      if (db.port !== undefined) attributes[ATTR_SERVER_PORT] = db.port;
      attributes[ATTR_DB_SYSTEM_NAME] = db.system;
    } else {
      attributes[ATTR_DB_SYSTEM_NAME] = db.system;
      if (db.namespace !== undefined) attributes[ATTR_DB_NAMESPACE] = db.namespace;
      if (db.address !== undefined) attributes[ATTR_SERVER_ADDRESS] = db.address;
      if (db.port !== undefined) attributes[ATTR_SERVER_PORT] = db.port;
    }
    attributes[ATTR_DB_QUERY_TEXT] = normalized.statement;
    attributes[ATTR_QUERY_FINGERPRINT] = normalized.fingerprint;
    // What db-error-scrubber.ts adds to a failed real span.
    if (query.error?.code !== undefined) {
      attributes[ATTR_DB_RESPONSE_STATUS_CODE] = query.error.code;
      attributes[ATTR_ERROR_TYPE] = query.error.code;
    }
    this.attributes = attributes;
  }

  /** Made when first asked for (a finding's span ids, an exported span): most views never are. */
  get spanId(): string {
    this.id ??= randomSpanId();
    return this.id;
  }

  callSite(): CallSite | undefined {
    return resolveCallSite(holderOf(this.query.site));
  }
}

/** The shadow queries that ended before the root, as span views. */
export function shadowViews(queries: readonly ShadowQuery[], normalize: (raw: string, dialect: SqlDialect) => Normalized): ShadowSpanView[] {
  const views: ShadowSpanView[] = [];
  for (const q of queries) if (q.endPerfMs !== undefined) views.push(new ShadowSpanView(q, normalize(q.raw, q.dialect)));
  return views;
}

/** The exported spans of a kept trace's shadow queries, children of spans of `root`'s trace. */
export function shadowSpans(views: readonly ShadowSpanView[], root: ReadableSpan): ReadableSpan[] {
  // A loop, not views.map(arrow): see FinishedSpan on closures that live for one call.
  const spans: ReadableSpan[] = new Array(views.length);
  const rootContext = root.spanContext();
  for (let i = 0; i < views.length; i++) spans[i] = shadowSpan(views[i], root, rootContext);
  return spans;
}

function shadowSpan(view: ShadowSpanView, root: ReadableSpan, rootContext: SpanContext): ReadableSpan {
  const q = view.query;
  const context: SpanContext = { traceId: rootContext.traceId, spanId: view.spanId, traceFlags: rootContext.traceFlags & TraceFlags.SAMPLED, traceState: rootContext.traceState };
  const parent: SpanContext = { traceId: rootContext.traceId, spanId: view.parentSpanId, traceFlags: context.traceFlags, traceState: rootContext.traceState, isRemote: false };
  const events: TimedEvent[] =
    q.error?.exception !== undefined ? [{ name: EXCEPTION_EVENT, attributes: { [ATTR_EXCEPTION_MESSAGE]: q.error.exception }, time: view.end, droppedAttributesCount: 0 }] : [];
  return new FinishedSpan({
    name: view.name,
    kind: SpanKind.CLIENT,
    context,
    parentSpanContext: parent,
    startTime: view.start,
    endTime: view.end,
    duration: view.duration,
    status: q.error ? { code: SpanStatusCode.ERROR, message: q.error.message } : { code: SpanStatusCode.UNSET },
    attributes: view.attributes,
    links: [],
    events,
    resource: root.resource,
    instrumentationScope: q.dialect === 'mysql' ? scopes.mysql : scopes.postgresql,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  });
}

/** The SDK's own span ids (never all zero), as the contrib's spans get them. */
const ids = new RandomIdGenerator();
const randomSpanId = (): string => ids.generateSpanId();
