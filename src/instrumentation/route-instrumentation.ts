import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

/*
 * Names each request's operation by the route the framework matched (`GET /members/:slug`), so
 * operations, budgets and findings stay few however many members there are. It only tells
 * instrumentation-http: the route goes into the request's RPC metadata, from which that
 * instrumentation sets `http.route` and renames the server span when the response ends.
 *
 * Lighter than the contrib framework instrumentations, which add a span per middleware (and, for
 * instrumentation-fastify 0.57, a second copy of @opentelemetry/instrumentation): one assignment
 * per request.
 * - Express 5 (its `router` 2.x): `Route#dispatch` runs once the route matched; wrapped.
 * - Fastify 5: publishes `tracing:fastify.request.handler:start` with the route's URL before the
 *   handler; subscribed, nothing patched. Fastify builds the event only while someone listens.
 */

const FASTIFY_HANDLER_START = 'tracing:fastify.request.handler:start';

interface RouterModule {
  Route?: { prototype: { dispatch?: Dispatch } };
}
type Dispatch = ((this: { path?: unknown }, req: { baseUrl?: unknown }, ...rest: unknown[]) => unknown) & { [WRAPPED]?: Dispatch };
const WRAPPED = Symbol('otel-perf-agent route');

/** The route of the request whose context is active, for instrumentation-http to report. */
export function setRoute(route: string): void {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
}

/** Express: the router's mount path (already concrete) and the route's own template. */
export function expressRoute(baseUrl: unknown, path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined; // a RegExp or an array: no single template
  return typeof baseUrl === 'string' && baseUrl !== '' && baseUrl !== '/' ? baseUrl + path : path;
}

function onFastifyHandler(message: unknown): void {
  const url = (message as { route?: { url?: unknown } } | undefined)?.route?.url;
  if (typeof url === 'string' && url !== '') setRoute(url);
}

// Process-wide, as channels are (and InstrumentationBase enables from its constructor, before
// an instance field would be initialized).
let subscribed = false;

export class RouteInstrumentation extends InstrumentationBase {
  constructor() {
    super('otel-perf-agent-routes', '0.1.0', {});
  }

  override enable(): void {
    super.enable();
    if (!subscribed) subscribe(FASTIFY_HANDLER_START, onFastifyHandler);
    subscribed = true;
  }

  override disable(): void {
    super.disable();
    if (subscribed) unsubscribe(FASTIFY_HANDLER_START, onFastifyHandler);
    subscribed = false;
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'router',
        ['>=2.0.0 <3'],
        (moduleExports: RouterModule) => {
          const proto = moduleExports.Route?.prototype;
          const original = proto?.dispatch;
          if (proto && typeof original === 'function' && !original[WRAPPED]) {
            const dispatch: Dispatch = function dispatch(this: { path?: unknown }, req, ...rest) {
              const route = expressRoute(req?.baseUrl, this.path);
              if (route !== undefined) setRoute(route);
              return original.call(this, req, ...rest);
            };
            dispatch[WRAPPED] = original;
            proto.dispatch = dispatch;
          }
          return moduleExports;
        },
        (moduleExports: RouterModule | undefined) => {
          const proto = moduleExports?.Route?.prototype;
          const original = proto?.dispatch?.[WRAPPED];
          if (proto && original) proto.dispatch = original;
        },
      ),
    ];
  }
}
