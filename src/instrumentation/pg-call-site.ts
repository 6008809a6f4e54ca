import { context, trace } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { CALL_SITE_KEY, captureStack } from '../processing/call-site';

type Callback = (...args: unknown[]) => unknown;
interface PgPoolPrototype {
  query: (...args: unknown[]) => unknown;
  connect: (...args: unknown[]) => unknown;
}

/**
 * What the contrib pg instrumentation leaves to us, on `pg-pool`:
 * - `Pool#query` runs the query on a later tick, when the application's frames are gone, so the
 *   call site is captured here, where the application calls it, and carried in the context;
 * - with connect spans off, that instrumentation does not bind `Pool#connect` callbacks to the
 *   caller's context; a request waiting for a pooled client would otherwise run its query in the
 *   context of whichever request released the client, and its span would join the wrong trace.
 */
export class PgCallSiteInstrumentation extends InstrumentationBase {
  constructor() {
    super('otel-perf-agent-pg-call-site', '0.1.0', {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'pg-pool',
        ['>=2.0.0 <4'],
        (moduleExports: { prototype: PgPoolPrototype }) => {
          stack(moduleExports.prototype, 'query', wrapQuery);
          stack(moduleExports.prototype, 'connect', wrapConnect);
          return moduleExports;
        },
        (moduleExports: { prototype: PgPoolPrototype }) => {
          unstack(moduleExports.prototype, 'query');
          unstack(moduleExports.prototype, 'connect');
        },
      ),
    ];
  }
}

const ORIGINAL = Symbol('otel-perf-agent original');
type Method = ((...args: unknown[]) => unknown) & { [ORIGINAL]?: (...args: unknown[]) => unknown };

/*
 * Not InstrumentationBase#_wrap: it unwraps a method that is already wrapped, which would remove
 * the contrib instrumentation's own wrapper of Pool#connect. Ours goes on top of whatever is there
 * and is not marked as a shimmer wrapper, so neither instrumentation undoes the other.
 */
function stack(proto: PgPoolPrototype, name: keyof PgPoolPrototype, wrapper: (original: Method) => Method): void {
  const original = proto[name] as Method;
  if (typeof original !== 'function') return;
  const wrapped = wrapper(original);
  wrapped[ORIGINAL] = original;
  proto[name] = wrapped;
}

function unstack(proto: PgPoolPrototype, name: keyof PgPoolPrototype): void {
  const current = proto[name] as Method;
  if (current && current[ORIGINAL]) proto[name] = current[ORIGINAL];
}

function wrapQuery(original: PgPoolPrototype['query']): PgPoolPrototype['query'] {
  return function query(this: unknown, ...args: unknown[]) {
    const active = context.active();
    const span = trace.getSpan(active);
    // A query under a span that records nothing will record nothing: no stack to capture.
    if ((span && !span.isRecording()) || active.getValue(CALL_SITE_KEY) !== undefined) return original.apply(this, args);
    const holder = captureStack(query);
    return context.with(active.setValue(CALL_SITE_KEY, holder), () => original.apply(this, args));
  };
}

function wrapConnect(original: PgPoolPrototype['connect']): PgPoolPrototype['connect'] {
  return function connect(this: unknown, ...args: unknown[]) {
    const last = args.length - 1;
    if (last >= 0 && typeof args[last] === 'function') args[last] = context.bind(context.active(), args[last] as Callback);
    return original.apply(this, args);
  };
}
