import { context, type Context } from '@opentelemetry/api';

/**
 * `context.bind(ctx, fn)` for a callback, at a fraction of its cost: the context manager's bind
 * also redefines the wrapper's `length` (0.4 µs per bind on Node 20 against 0.02 µs here), and the
 * query paths bind one or two callbacks per query. None of the callbacks bound here (driver query
 * and connect callbacks) is inspected for its arity.
 */
export function bindContext<F extends (...args: never[]) => unknown>(ctx: Context, fn: F): F {
  return function bound(this: unknown, ...args: unknown[]) {
    return context.with(ctx, fn as unknown as (...a: unknown[]) => unknown, this, ...args);
  } as unknown as F;
}
