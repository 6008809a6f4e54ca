import { TraceFlags } from '@opentelemetry/api';
import { bindContext } from './bind-context';
import { endShadowQuery, type ShadowDb } from '../processing/shadow-record';
import { countShadow, NOT_TAKEN, shadowPolicyInForce, unwrapped, type ShadowPath } from './unsampled-fast-path';

/*
 * The shadow record of a mysql2 `Connection#query`/`#execute` (see processing/shadow-record.ts):
 * what instrumentation-mysql2 0.69 would have put on the span, taken the way it takes it (utils.js
 * getConnectionAttributes, getQueryText, getSpanName), so that a kept trace built from shadows is
 * the trace full recording would have kept. The agent runs that instrumentation with its default
 * configuration (no statement masking, no response hook, no SQL commenter).
 *
 * Only the shapes the contrib ends from a callback (second or third argument) are shadowed: a
 * string, or a plain options object with a string `sql`. The rest take the full path: a call
 * without a callback (the contrib ends the span on stream events), and command objects such as
 * the Query that mysql2's `Pool#query` and its promise wrapper hand to the connection.
 */

type Fn = (...args: unknown[]) => unknown;
type Format = (sql: string, values: unknown) => string;

let format: Format | undefined;

/** mysql2's `format`, from the first of its modules that exports one, as instrumentation-mysql2 takes it. */
export function takeMysqlFormat<T>(moduleExports: T): T {
  const candidate = (moduleExports as { format?: unknown } | undefined)?.format;
  if (!format && typeof candidate === 'function') format = candidate as Format;
  return moduleExports;
}

const UNFORMATTABLE = 'Could not determine the query due to an error in masking or formatting';

/** instrumentation-mysql2's getQueryText without masking: values formatted into the text by mysql2's `format`. */
export function mysqlQueryText(sql: string, values: unknown): string {
  try {
    return format && values ? format(sql, values) : sql;
  } catch {
    return UNFORMATTABLE;
  }
}

/** instrumentation-mysql2's getSpanName: the text up to its first space, as it is (not trimmed, case kept). */
export function mysqlSpanName(sql: string): string {
  const space = sql.indexOf(' ');
  return space === -1 ? sql : sql.substring(0, space);
}

export interface ConnectionConfig {
  host?: unknown;
  port?: unknown;
  database?: unknown;
  connectionConfig?: ConnectionConfig;
}

/** instrumentation-mysql2's getConnectionAttributes; undefined for values an attribute could not hold as they are. */
export function mysqlConnectionDb(config: ConnectionConfig | undefined): ShadowDb | undefined {
  const { host, port, database } = (config && config.connectionConfig) || config || {};
  if ((host !== undefined && typeof host !== 'string') || (database !== undefined && typeof database !== 'string')) return undefined;
  const portNumber = parseInt(port as string, 10);
  return { system: 'mysql', namespace: database, address: host, port: isNaN(portNumber) ? undefined : portNumber };
}

interface OptionsObject {
  sql?: unknown;
  values?: unknown;
  on?: unknown;
  onResult?: unknown;
}

export function mysqlShadowPath(contribWrapper: Fn): ShadowPath | undefined {
  const raw = unwrapped(contribWrapper);
  if (!raw) return undefined;
  return (self, args, active, span, skipAbove) => {
    const policy = shadowPolicyInForce();
    if (!policy) return NOT_TAKEN;
    const spanContext = span.spanContext();
    if ((spanContext.traceFlags & TraceFlags.SAMPLED) !== 0) return NOT_TAKEN;
    const at = typeof args[1] === 'function' ? 1 : typeof args[2] === 'function' ? 2 : -1;
    if (at === -1) return NOT_TAKEN;
    // The contrib's reading of the arguments: an array is the values; anything else in the
    // second place is one value when a third argument follows.
    let values: unknown = Array.isArray(args[1]) ? args[1] : args[2] ? [args[1]] : undefined;
    const arg0 = args[0] as OptionsObject | string | null | undefined;
    let sql: string;
    if (typeof arg0 === 'string') {
      sql = arg0;
    } else if (typeof arg0 === 'object' && arg0 !== null && typeof arg0.sql === 'string' && typeof arg0.on !== 'function' && arg0.onResult === undefined) {
      sql = arg0.sql;
      if ('values' in arg0) values = values || arg0.values;
    } else {
      return NOT_TAKEN;
    }
    const db = mysqlConnectionDb((self as { config?: ConnectionConfig }).config);
    if (!db) return NOT_TAKEN;
    const query = policy(active, spanContext.traceId, spanContext.spanId, { raw: mysqlQueryText(sql, values), dialect: 'mysql', name: mysqlSpanName(sql), db }, skipAbove);
    if (!query) return NOT_TAKEN;
    countShadow();
    const callback = args[at] as Fn;
    // The contrib binds nothing here; the shadow does, as the fast path's pg callbacks are bound:
    // mysql2 calls back from the socket, in the context of whichever request opened it.
    args[at] = bindContext(active, function (this: unknown, err: unknown, ...rest: unknown[]) {
      endShadowQuery(query, err);
      return callback.call(this, err, ...rest);
    });
    // A call that throws leaves the shadow unended, as it leaves the contrib's span: not exported.
    return raw.apply(self, args);
  };
}
