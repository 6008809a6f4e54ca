import { context, trace, type Context, type Tracer } from '@opentelemetry/api';
import { InstrumentationBase, type InstrumentationConfig, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { CALL_SITE_KEY, captureStack } from '../analysis/call-site';
import type { CallSiteRef } from '../analysis/call-site-cache';
import type { SqlDialect } from '../sql/dialect';
import { bindContext } from './bind-context';
import { recordingParent, watchConnect, type ConnectFailureSpan } from './connect-errors';
import { mysqlShadowPath, takeMysqlFormat } from './mysql-shadow-path';
import { mysqlConnectionPrototype, mysqlFastPath, NOT_TAKEN, pgFastPath, pgShadowPath, type FastPath, type ShadowPath } from './unsampled-fast-path';

type Callback = (...args: unknown[]) => unknown;
type Prototype = Record<string, unknown>;
interface PoolModule {
  prototype: Prototype;
}

/**
 * Gives the call site of a query about to run (the trace buffer's answer: captured now, reused
 * from an earlier capture of the same statement, or null when no analysis will want it). Without
 * a policy every query is captured.
 */
export type CallSitePolicy = (
  active: Context,
  statement: unknown,
  skipAbove: (...args: never[]) => unknown,
  /** The statement's fingerprint depends on its dialect. */
  dialect: SqlDialect,
) => CallSiteRef | null;

/**
 * What the contrib database instrumentations leave to us, on the connection pools:
 * - `Pool#query` (pg-pool, mysql2) runs the query on a later tick, when the application's frames
 *   are gone, so the call site is captured here, where the application calls it, and carried in
 *   the context to the query span;
 * - with connect spans off, the pg instrumentation does not bind `Pool#connect` callbacks to the
 *   caller's context (nor does mysql2's bind `getConnection`); a request waiting for a pooled
 *   client would otherwise run its query in the context of whichever request released the
 *   client, and its span would join the wrong trace;
 * - a connect that fails there (no connection, pool ended) leaves no span of the driver's: the
 *   same wrapper leaves an error span under the request (see connect-errors.ts);
 * - mysql2's `Pool#query`/`execute` call back from the socket of the pooled connection, i.e. in
 *   the context of whichever request opened or last used it: their callback is bound to the
 *   caller's context too (mysql2/promise resolves through that callback).
 */
export interface CallSiteInstrumentationConfig extends InstrumentationConfig {
  /** The pg instrumentation makes no connect spans: a failed pg-pool connect gets an error span from us. */
  pgConnectErrorSpans?: boolean;
}

export class CallSiteInstrumentation extends InstrumentationBase<CallSiteInstrumentationConfig> {
  constructor(private readonly policy?: CallSitePolicy, config: CallSiteInstrumentationConfig = {}) {
    super('otel-perf-agent-call-site', '0.1.0', config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    // init() runs inside super(), before `policy` is set: the wrappers read it when a query runs.
    const wrapQuery = (dialect: SqlDialect) => (original: Method): Method => queryWrapper(original, dialect, () => this.policy);
    const tracer = (): Tracer => this.tracer;
    const pgConnect: ConnectFailureSpan | undefined = this.getConfig().pgConnectErrorSpans ? { name: 'pg-pool.connect', system: 'postgresql' } : undefined;
    const mysqlConnect: ConnectFailureSpan = { name: 'mysql2.getConnection', system: 'mysql' };
    const patchPool = (dialect: SqlDialect, methods: string[], binders: string[], failure?: ConnectFailureSpan, bindQueryCallbacks = false) => (moduleExports: PoolModule): PoolModule => {
      const query = bindQueryCallbacks ? (original: Method): Method => bindLastCallback(wrapQuery(dialect)(original)) : wrapQuery(dialect);
      for (const name of methods) stack(moduleExports.prototype, name, query);
      for (const name of binders) stack(moduleExports.prototype, name, (original) => wrapCallbackBinding(original, failure, tracer));
      return moduleExports;
    };
    const unpatchPool = (names: string[]) => (moduleExports: PoolModule | undefined): void => {
      if (moduleExports) for (const name of names) unstack(moduleExports.prototype, name);
    };
    return [
      // Client#query too: a query on a checked-out client starts its span before pg sets the
      // statement on it, so the decision is taken here, where the text is at hand.
      new InstrumentationNodeModuleDefinition(
        'pg',
        ['>=8.0.3 <9'],
        (moduleExports: { Client?: PoolModule }) => {
          if (moduleExports.Client) {
            stack(moduleExports.Client.prototype, 'query', (original) => queryWrapper(original, 'postgresql', () => this.policy, pgFastPath(original), pgShadowPath(original)));
          }
          return moduleExports;
        },
        (moduleExports: { Client?: PoolModule } | undefined) => {
          if (moduleExports?.Client) unstack(moduleExports.Client.prototype, 'query');
        },
      ),
      new InstrumentationNodeModuleDefinition('pg-pool', ['>=2.0.0 <4'], patchPool('postgresql', ['query'], ['connect'], pgConnect), unpatchPool(['query', 'connect'])),
      // Shadow queries format their statement with the `format` instrumentation-mysql2 takes from these modules.
      new InstrumentationNodeModuleDefinition('mysql2', ['>=2.0.0 <4'], takeMysqlFormat, undefined, [
        new InstrumentationNodeModuleFile('mysql2/promise.js', ['>=2.0.0 <4'], takeMysqlFormat, () => undefined),
        // Where instrumentation-mysql2 wraps query/execute: under a non-recording span, skip it;
        // under one recorded for keep-findings, keep a shadow query instead of its span.
        new InstrumentationNodeModuleFile(
          'mysql2/lib/connection.js',
          ['>=2.0.0 <4'],
          (moduleExports: PoolModule) => {
            const proto = mysqlConnectionPrototype(moduleExports);
            for (const name of ['query', 'execute']) stack(proto, name, (original) => mysqlFastPath(original, mysqlShadowPath(original)));
            return moduleExports;
          },
          (moduleExports: PoolModule | undefined) => {
            if (!moduleExports) return;
            const proto = mysqlConnectionPrototype(moduleExports);
            for (const name of ['query', 'execute']) unstack(proto, name);
          },
        ),
        // mysql2 3.11 moved the pool methods to a base class; older versions keep them on Pool.
        new InstrumentationNodeModuleFile('mysql2/lib/base/pool.js', ['>=3.11.0 <4'], patchPool('mysql', ['query', 'execute'], ['getConnection'], mysqlConnect, true), unpatchPool(['query', 'execute', 'getConnection'])),
        new InstrumentationNodeModuleFile('mysql2/lib/pool.js', ['>=2.0.0 <3.11.0'], patchPool('mysql', ['query', 'execute'], ['getConnection'], mysqlConnect, true), unpatchPool(['query', 'execute', 'getConnection'])),
      ]),
    ];
  }
}

const ORIGINAL = Symbol('otel-perf-agent original');
type Method = ((...args: unknown[]) => unknown) & { [ORIGINAL]?: (...args: unknown[]) => unknown };

/*
 * Not InstrumentationBase#_wrap: it unwraps a method that is already wrapped, which would remove
 * the contrib instrumentation's own wrapper (of Pool#connect, say). Ours goes on top of whatever is there
 * and is not marked as a shimmer wrapper, so neither instrumentation undoes the other.
 */
function stack(proto: Prototype, name: string, wrapper: (original: Method) => Method): void {
  const original = proto[name] as Method;
  if (typeof original !== 'function') return;
  const wrapped = wrapper(original);
  if (wrapped === original) return;
  wrapped[ORIGINAL] = original;
  proto[name] = wrapped;
}

function unstack(proto: Prototype, name: string): void {
  const current = proto[name] as Method;
  if (current && current[ORIGINAL]) proto[name] = current[ORIGINAL];
}

function queryWrapper(original: Method, dialect: SqlDialect, policyOf: () => CallSitePolicy | undefined, fast?: FastPath, shadow?: ShadowPath): Method {
  return function query(this: unknown, ...args: unknown[]) {
    const active = context.active();
    const span = trace.getSpan(active);
    // A query under a span that records nothing will record nothing: no stack to capture.
    if (span && !span.isRecording()) return fast ? fast(this, args, active) : original.apply(this, args);
    if (span && shadow) {
      const result = shadow(this, args, active, span, query);
      if (result !== NOT_TAKEN) return result;
    }
    if (active.getValue(CALL_SITE_KEY) !== undefined) return original.apply(this, args);
    // null tells the span's start that the decision was taken: no capture there either.
    const policy = policyOf();
    const holder = policy ? policy(active, args[0], query, dialect) : captureStack(query);
    return context.with(active.setValue(CALL_SITE_KEY, holder), original, this, ...args);
  };
}

/**
 * Outside the call-site wrapper on purpose: the callback gets the caller's context without this
 * query's call site, so a query it runs captures its own.
 */
function bindLastCallback(inner: Method): Method {
  return function bindQueryCallback(this: unknown, ...args: unknown[]) {
    const last = args.length - 1;
    if (last >= 0 && typeof args[last] === 'function') args[last] = bindContext(context.active(), args[last] as Callback);
    return inner.apply(this, args);
  };
}

function wrapCallbackBinding(original: Method, failure: ConnectFailureSpan | undefined, tracer: () => Tracer): Method {
  return function bindCallback(this: unknown, ...args: unknown[]) {
    const last = args.length - 1;
    if (last >= 0 && typeof args[last] === 'function') {
      const active = context.active();
      let callback = args[last] as Callback;
      if (failure !== undefined && recordingParent(active)) callback = watchConnect(tracer(), failure, callback, active);
      args[last] = bindContext(active, callback);
    }
    return original.apply(this, args);
  };
}
