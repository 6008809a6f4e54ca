import { endShadowQuery, type ShadowDb } from '../processing/shadow-record';
import { endingShadow, NOT_TAKEN, shadowPolicyInForce, startShadowQuery, unwrapped, type ShadowPath } from './unsampled-fast-path';

/*
 * The shadow record of a mysql2 `Connection#query`/`#execute` (see processing/shadow-record.ts):
 * what instrumentation-mysql2 0.69 would have put on the span, taken the way it takes it (utils.js
 * getConnectionAttributes, getQueryText, getSpanName), so that a kept trace built from shadows is
 * the trace full recording would have kept. The agent runs that instrumentation with its default
 * configuration (no statement masking, no response hook, no SQL commenter).
 *
 * Shadowed: a string or a plain options object with a string `sql` and a callback (second or
 * third argument), and the Query command with a callback that mysql2's `Pool#query` and its
 * promise wrapper hand to the connection. The rest take the full path: streams (no callback; the
 * contrib ends the span at the first row) and whatever else is not plainly one of those.
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
  once?: unknown;
  onResult?: unknown;
}

interface Emitter {
  once(event: string, listener: (...args: unknown[]) => void): Emitter;
}

/** What the shadow is made of, read from the arguments as the contrib reads them; undefined: full path. */
interface Shape {
  sql: string;
  values: unknown;
  /** Where the callback is: an argument's index, or the Query command's `onResult`. */
  callback: number | 'onResult';
}

function shapeOf(args: unknown[]): Shape | undefined {
  const arg0 = args[0] as OptionsObject | string | null | undefined;
  if (args.length === 1) {
    // A Query command with its callback (mysql2's Pool#query and its promise wrapper): the
    // contrib ends at its onResult, or at its first `result` or `error` event.
    if (typeof arg0 !== 'object' || arg0 === null || typeof arg0.sql !== 'string' || typeof arg0.onResult !== 'function' || typeof arg0.once !== 'function') return undefined;
    return { sql: arg0.sql, values: 'values' in arg0 ? arg0.values : undefined, callback: 'onResult' };
  }
  const at = typeof args[1] === 'function' ? 1 : typeof args[2] === 'function' ? 2 : -1;
  if (at === -1) return undefined;
  // The contrib's reading of the arguments: an array is the values; anything else in the
  // second place is one value when a third argument follows.
  let values: unknown = Array.isArray(args[1]) ? args[1] : args[2] ? [args[1]] : undefined;
  if (typeof arg0 === 'string') return { sql: arg0, values, callback: at };
  if (typeof arg0 !== 'object' || arg0 === null || typeof arg0.sql !== 'string' || typeof arg0.on === 'function' || arg0.onResult !== undefined) return undefined;
  if ('values' in arg0) values = values || arg0.values;
  return { sql: arg0.sql, values, callback: at };
}

export function mysqlShadowPath(contribWrapper: Fn): ShadowPath | undefined {
  const raw = unwrapped(contribWrapper);
  if (!raw) return undefined;
  return (self, args, active, span, skipAbove) => {
    const policy = shadowPolicyInForce();
    if (!policy) return NOT_TAKEN;
    const shape = shapeOf(args);
    if (!shape) return NOT_TAKEN;
    const db = mysqlConnectionDb((self as { config?: ConnectionConfig }).config);
    if (!db) return NOT_TAKEN;
    const query = startShadowQuery(policy, active, span, { raw: mysqlQueryText(shape.sql, shape.values), dialect: 'mysql', name: mysqlSpanName(shape.sql), db }, skipAbove);
    if (!query) return NOT_TAKEN;
    // The contrib binds nothing here; the shadow does, as the fast path's pg callbacks are bound.
    if (shape.callback !== 'onResult') {
      args[shape.callback] = endingShadow(query, active, args[shape.callback] as Fn);
      // A call that throws leaves the shadow unended, as it leaves the contrib's span: not exported.
      return raw.apply(self, args);
    }
    const command = args[0] as { onResult: Fn };
    command.onResult = endingShadow(query, active, command.onResult);
    const emitter = raw.apply(self, args) as Emitter;
    // The contrib's listeners, for the same end (an INSERT's `result` comes before its onResult)
    // and the same handling of an `error` event.
    emitter.once('error', (err: unknown) => endShadowQuery(query, err)).once('result', () => endShadowQuery(query));
    return emitter;
  };
}
