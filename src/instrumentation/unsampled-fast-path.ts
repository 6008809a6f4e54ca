import { context, trace, type Context, type Span } from '@opentelemetry/api';
import { bindContext } from './bind-context';
import { endShadowQuery, type ShadowDb, type ShadowQuery } from '../processing/shadow-record';
import type { SqlDialect } from '../sql/dialect';

/**
 * Queries under a span that records nothing skip the contrib driver instrumentations.
 *
 * Whatever the parent's sampling, instrumentation-pg 0.76 builds attributes, parses the operation
 * name, starts a (non-recording) span, wraps and binds the callback and records a duration metric
 * for every query; instrumentation-mysql2 0.69 builds attributes, formats the statement and starts
 * a span. None of it leaves a trace when the active span does not record, yet on the N+1 load it
 * was a large share of plain OpenTelemetry's 0% floor. The agent's wrapper sits on top of theirs,
 * so it calls the function they wrapped (shimmer's `__original`) directly and keeps the one thing
 * that matters for correctness: a callback runs in the caller's context, bound where
 * instrumentation-pg would have bound it (it always does when a span is active). Promises need
 * nothing: their continuations follow the awaiting context.
 *
 * A span that records (sampled, or recorded for keep-findings) takes the shadow record below or
 * the full path: sampled traces do not change.
 */

type Fn = (...args: unknown[]) => unknown;
interface ShimmerWrapped {
  __wrapped?: boolean;
  __original?: Fn;
}

let enabled = true;
let skipped = 0;

/** Tests compare the traces made with and without it. */
export function setUnsampledFastPath(on: boolean): void {
  enabled = on;
}

/** Queries that skipped the contrib instrumentation since start. */
export function unsampledFastPathCount(): number {
  return skipped;
}

/** The function below a shimmer wrapper (a contrib instrumentation's), or undefined when there is none. */
export function unwrapped(fn: Fn): Fn | undefined {
  const w = fn as Fn & ShimmerWrapped;
  return w.__wrapped === true && typeof w.__original === 'function' ? w.__original : undefined;
}

/** True when a query under `active` leaves no trace: some span is active and it does not record. */
export function skipsTracing(active: Context): boolean {
  if (!enabled) return false;
  const span = trace.getSpan(active);
  return span !== undefined && !span.isRecording();
}

/**
 * pg `Client#query` without instrumentation-pg: `client.query(text, [values], cb)` and
 * `client.query({ text, callback })` bind the callback to `active`, as the contrib does under a
 * parent span (it too assigns the bound callback back onto the query object).
 */
export function pgQueryUnwrapped(raw: Fn, self: unknown, args: unknown[], active: Context): unknown {
  skipped++;
  const last = args.length - 1;
  if (last >= 0) {
    if (typeof args[last] === 'function') {
      args[last] = bindContext(active, args[last] as Fn);
    } else {
      const config = args[0] as { text?: unknown; callback?: unknown } | null;
      if (typeof config === 'object' && config !== null && typeof config.text === 'string' && typeof config.callback === 'function') {
        config.callback = bindContext(active, config.callback as Fn);
      }
    }
  }
  return raw.apply(self, args);
}

/** mysql2 `Connection#query`/`#execute` without instrumentation-mysql2 (which binds nothing). */
export function mysqlQueryUnwrapped(raw: Fn, self: unknown, args: unknown[]): unknown {
  skipped++;
  return raw.apply(self, args);
}

/** Called by the agent's wrapper when the active span does not record. */
export type FastPath = (self: unknown, args: unknown[], active: Context) => unknown;

/** For pg `Client#query` wrapped by instrumentation-pg; undefined when it is not (contrib off). */
export function pgFastPath(contribWrapper: Fn): FastPath | undefined {
  const raw = unwrapped(contribWrapper);
  if (!raw) return undefined;
  return (self, args, active) => (enabled ? pgQueryUnwrapped(raw, self, args, active) : contribWrapper.apply(self, args));
}

/**
 * A thin wrapper over instrumentation-mysql2's `query`/`execute`: nothing of the agent's own
 * runs here (the pool wrapper captures call sites), only the skip, or the shadow record of a
 * query under a span that records (`shadow`, see mysql-shadow-path.ts).
 */
export function mysqlFastPath(contribWrapper: Fn, shadow?: ShadowPath): Fn {
  const raw = unwrapped(contribWrapper);
  if (!raw) return contribWrapper;
  return function query(this: unknown, ...args: unknown[]) {
    const active = context.active();
    const span = trace.getSpan(active);
    if (span !== undefined) {
      if (!span.isRecording()) {
        if (enabled) return mysqlQueryUnwrapped(raw, this, args);
      } else if (shadow !== undefined) {
        const result = shadow(this, args, active, span, query);
        if (result !== NOT_TAKEN) return result;
      }
    }
    return contribWrapper.apply(this, args);
  };
}

/**
 * The prototype instrumentation-mysql2 wraps: mysql2 3.11 moved query/execute to a base class
 * of Connection; older versions keep them on Connection (whose base is EventEmitter).
 */
export function mysqlConnectionPrototype(moduleExports: { prototype: Record<string, unknown> }): Record<string, unknown> {
  const proto = moduleExports.prototype;
  const base = Object.getPrototypeOf(proto) as Record<string, unknown> | null;
  return base && typeof base.query === 'function' && typeof base.execute === 'function' ? base : proto;
}

/*
 * Queries without spans: a pg or mysql2 query under a span that records (sampled, or recorded
 * only in case a finding keeps the trace) leaves a shadow query in the trace buffer instead of a
 * span (see processing/shadow-record.ts); the spans are built from it when the trace is exported.
 * Shapes the shadow cannot reproduce exactly
 * (pg: prepared statements by name, submittables such as cursors; mysql2: see
 * mysql-shadow-path.ts) take the full path.
 */
export type ShadowPolicy = (
  active: Context,
  traceId: string,
  parentSpanId: string,
  query: { raw: string; dialect: SqlDialect; name: string; db: ShadowDb },
  skipAbove: (...args: never[]) => unknown,
) => ShadowQuery | undefined;
let shadowPolicy: ShadowPolicy | undefined;
let shadowEnabled = true;
let shadowed = 0;

export function setShadowPolicy(next: ShadowPolicy | undefined): void {
  shadowPolicy = next;
}

/** Tests compare the traces kept from a shadow record with those kept from full recording. */
export function setShadowRecord(on: boolean): void {
  shadowEnabled = on;
}

/** The policy to ask for a shadow query, or undefined when shadow records are off. */
export function shadowPolicyInForce(): ShadowPolicy | undefined {
  return shadowEnabled ? shadowPolicy : undefined;
}

/** Asks the policy for a shadow of this query under `span` (the query's parent), and counts it. */
export function startShadowQuery(
  policy: ShadowPolicy,
  active: Context,
  span: Span,
  query: Parameters<ShadowPolicy>[3],
  skipAbove: (...args: never[]) => unknown,
): ShadowQuery | undefined {
  const spanContext = span.spanContext();
  const shadow = policy(active, spanContext.traceId, spanContext.spanId, query, skipAbove);
  if (shadow) shadowed++;
  return shadow;
}

export const NOT_TAKEN = Symbol('shadow path not taken');
export type ShadowPath = (self: unknown, args: unknown[], active: Context, span: Span, skipAbove: (...args: never[]) => unknown) => unknown;

interface PgClient {
  connectionParameters?: { database?: string; host?: string; port?: unknown };
}

/** instrumentation-pg 0.76's span name: `pg.query:<first word, upper-case, no ;> <database>`. */
function pgSpanName(text: string, database: string | undefined): string {
  const trimmed = text.trim();
  const space = trimmed.indexOf(' ');
  let command = (space === -1 ? trimmed : trimmed.slice(0, space)).toUpperCase();
  if (command.endsWith(';')) command = command.slice(0, -1);
  return `pg.query:${command}${database ? ` ${database}` : ''}`;
}

export function pgShadowPath(contribWrapper: Fn): ShadowPath | undefined {
  const raw = unwrapped(contribWrapper);
  if (!raw) return undefined;
  return (self, args, active, span, skipAbove) => {
    const policy = shadowPolicyInForce();
    if (!policy) return NOT_TAKEN;
    const arg0 = args[0] as { text?: unknown; name?: unknown; submit?: unknown; callback?: unknown } | string | null | undefined;
    let text: string;
    if (typeof arg0 === 'string') text = arg0;
    else if (typeof arg0 === 'object' && arg0 !== null && typeof arg0.text === 'string' && arg0.name === undefined && typeof arg0.submit !== 'function') text = arg0.text;
    else return NOT_TAKEN;
    const params = (self as PgClient).connectionParameters ?? {};
    const db: ShadowDb = {
      system: 'postgresql',
      namespace: params.database,
      address: params.host,
      port: Number.isInteger(params.port) ? (params.port as number) : undefined,
    };
    const query = startShadowQuery(policy, active, span, { raw: text, dialect: 'postgresql', name: pgSpanName(text, params.database), db }, skipAbove);
    if (!query) return NOT_TAKEN;
    const last = args.length - 1;
    if (typeof args[last] === 'function') args[last] = endingShadow(query, active, args[last] as Fn);
    else if (typeof arg0 === 'object' && arg0 !== null && typeof arg0.callback === 'function') arg0.callback = endingShadow(query, active, arg0.callback as Fn);
    let result: unknown;
    try {
      result = raw.apply(self, args);
    } catch (err) {
      endShadowQuery(query, err);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => {
          endShadowQuery(query);
          return value;
        },
        (err: unknown) => {
          endShadowQuery(query, err);
          throw err;
        },
      );
    }
    return result;
  };
}

/**
 * A driver callback that ends its shadow query first, bound to the caller's context: drivers call
 * back from the socket, in the context of whichever request opened it.
 */
export function endingShadow(query: ShadowQuery, active: Context, callback: Fn): Fn {
  return bindContext(active, function (this: unknown, err: unknown, ...rest: unknown[]) {
    endShadowQuery(query, err);
    return callback.call(this, err, ...rest);
  });
}

/** Queries kept as shadows since start. */
export function shadowQueryCount(): number {
  return shadowed;
}
