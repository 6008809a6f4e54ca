import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_REQUEST_METHOD_ORIGINAL, ATTR_URL_PATH } from '../semconv';
import { unwrapped } from './unsampled-fast-path';

/*
 * Incoming requests the sampler will not record skip instrumentation-http.
 *
 * For every request, whatever the sampling, instrumentation-http 0.223 parses the URL, builds a
 * dozen attributes, starts a span, adds 'close' and error listeners to the response and records a
 * duration metric on end. The decision those attributes feed needs three of them (method, path,
 * parent), which are cheap to read here. So this wrapper, on top of the contrib's `emit`, asks the
 * sampler first:
 * - not recorded: it gives the request what propagation needs and nothing else. A non-recording
 *   span with a fresh span id in the parent's trace (or a new one), active while the request runs,
 *   and the request and response emitters bound to it, as the contrib binds them. Downstream calls
 *   still carry `traceparent` with sampled=0; queries see a span that does not record and take
 *   their own fast path.
 * - recorded (sampled, critical, or kept for keep-findings): the contrib runs as always. Its
 *   sampler call must not decide again (the budgets were already charged, and a new trace id
 *   would give a new ratio draw), so the decision and the trace id are handed over: the sampler
 *   returns the decision it gave for that trace id, and the id generator gives the trace id the
 *   decision was made for. Sampled traces are the same as without this path.
 * Requests whose path the URL parser could read differently than a plain scan (dot segments,
 * backslashes, absolute or protocol-relative targets, characters outside RFC 3986's path set) go
 * to the contrib untouched.
 */

export interface IncomingRequestDecision {
  /** Decides for a server span; true when the span will record. `attributes` are the ones the sampler reads. */
  decide(parent: Context, traceId: string, spanName: string, attributes: Record<string, string>): boolean;
  /**
   * Makes the next span start of this trace id (inside the contrib's emit) take that decision; for
   * a new trace (no parent), the tracer's next new trace id is this one.
   */
  handOver(traceId: string, newTrace: boolean): void;
  /** Ends a hand-over that was not taken (the contrib did not start a span). */
  clearHandOver(): void;
  newTraceId(): string;
  newSpanId(): string;
}

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;
interface ServerModule {
  Server: { prototype: { emit: Emit } };
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);
const WRAPPED = Symbol('otel-perf-agent http fast path');
type Wrapped = Emit & { [WRAPPED]?: Emit };

let enabled = true;
let skipped = 0;

/** Tests compare the traces made with and without it. */
export function setHttpServerFastPath(on: boolean): void {
  enabled = on;
}

/** Incoming requests that skipped instrumentation-http since start. */
export function httpServerFastPathCount(): number {
  return skipped;
}

/**
 * The path of a request target when a plain scan reads it as the WHATWG URL parser does (origin
 * form, path characters of RFC 3986 only, no dot segment), up to `?` or `#`; otherwise undefined.
 */
export function plainPath(target: string | undefined): string | undefined {
  if (target === undefined || target.charCodeAt(0) !== 47 /* / */ || target.charCodeAt(1) === 47) return undefined;
  let i = 0;
  for (; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) break;
    if (c === 46 /* . */ && target.charCodeAt(i - 1) === 47) {
      const next = target.charCodeAt(i + 1);
      // `/.`, `/..`, `/./`, `/../`, `/.?`: the parser removes dot segments.
      if (Number.isNaN(next) || next === 47 || next === 63 || next === 35 || (next === 46 && isSegmentEnd(target.charCodeAt(i + 2)))) return undefined;
    }
    if (!isPathChar(c)) return undefined;
  }
  return i === target.length ? target : target.slice(0, i);
}

function isSegmentEnd(c: number): boolean {
  return Number.isNaN(c) || c === 47 || c === 63 || c === 35;
}

/** unreserved, sub-delims, `:`, `@`, `/` and `%` (kept as is by the parser). */
function isPathChar(c: number): boolean {
  if (c >= 97 && c <= 122) return true; // a-z
  if (c >= 65 && c <= 90) return true; // A-Z
  if (c >= 38 && c <= 59) return true; // & ' ( ) * + , - . / 0-9 : ;
  return c === 33 || c === 36 || c === 37 || c === 61 || c === 64 || c === 95 || c === 126; // ! $ % = @ _ ~
}

/** The attributes the sampler reads of an incoming span, as instrumentation-http sets them. */
export function samplerAttributes(method: string, path: string): Record<string, string> {
  const upper = method.toUpperCase();
  if (KNOWN_METHODS.has(upper)) return { [ATTR_HTTP_REQUEST_METHOD]: upper, [ATTR_URL_PATH]: path };
  return { [ATTR_HTTP_REQUEST_METHOD]: '_OTHER', [ATTR_HTTP_REQUEST_METHOD_ORIGINAL]: method, [ATTR_URL_PATH]: path };
}

/** The propagator's header names, read once the SDK has set it; a propagator without fields is always asked. */
let traceHeaders: readonly string[] | undefined;

function carriesTraceContext(headers: IncomingMessage['headers']): boolean {
  traceHeaders ??= propagation.fields();
  if (traceHeaders.length === 0) return true;
  for (const name of traceHeaders) if (headers[name] !== undefined) return true;
  return false;
}

export function fastPathEmit(contribEmit: Emit, decision: IncomingRequestDecision): Emit | undefined {
  const raw = unwrapped(contribEmit as (...args: unknown[]) => unknown) as Emit | undefined;
  if (!raw) return undefined;
  return function emit(this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request' || !enabled) return contribEmit.call(this, event, ...args);
    const request = args[0] as IncomingMessage;
    const path = plainPath(request.url);
    if (path === undefined) return contribEmit.call(this, event, ...args);
    const method = request.method || 'GET';
    const parentContext = carriesTraceContext(request.headers) ? propagation.extract(ROOT_CONTEXT, request.headers) : ROOT_CONTEXT;
    const parent = trace.getSpanContext(parentContext);
    const hasParent = parent !== undefined && trace.isSpanContextValid(parent);
    const traceId = hasParent ? parent.traceId : decision.newTraceId();
    if (decision.decide(parentContext, traceId, method, samplerAttributes(method, path))) {
      decision.handOver(traceId, !hasParent);
      try {
        return contribEmit.call(this, event, ...args);
      } finally {
        decision.clearHandOver();
      }
    }
    skipped++;
    const spanContext: SpanContext = { traceId, spanId: decision.newSpanId(), traceFlags: TraceFlags.NONE, traceState: hasParent ? parent.traceState : undefined };
    const active = trace.setSpan(parentContext, trace.wrapSpanContext(spanContext));
    return context.with(active, serveUntraced, this, raw, active, event, args);
  };
}

/**
 * Runs Node's own `emit` for a request that records nothing, inside its context. A function of its
 * own, not an arrow made per request: see util/finished-span.ts on closures that live for one call.
 */
function serveUntraced(this: unknown, raw: Emit, active: Context, event: string | symbol, args: unknown[]): boolean {
  context.bind(active, args[0] as IncomingMessage);
  context.bind(active, args[1] as ServerResponse);
  return raw.call(this, event, ...args);
}

/**
 * Goes on top of instrumentation-http's `Server#emit` (registered after it, as the call-site
 * instrumentation goes on top of the drivers'); without the contrib wrapper underneath it does
 * nothing.
 */
export class HttpServerFastPath extends InstrumentationBase {
  constructor(private readonly decision?: IncomingRequestDecision) {
    super('otel-perf-agent-http-server', '0.1.0', {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    // init() runs inside super(), before `decision` is set: read it when a module loads.
    const patch = (moduleExports: ServerModule): ServerModule => {
      const proto = moduleExports?.Server?.prototype;
      const current = proto?.emit as Wrapped | undefined;
      if (!proto || typeof current !== 'function' || current[WRAPPED] || !this.decision) return moduleExports;
      const wrapped = fastPathEmit(current, this.decision) as Wrapped | undefined;
      if (!wrapped) return moduleExports;
      wrapped[WRAPPED] = current;
      proto.emit = wrapped;
      return moduleExports;
    };
    const unpatch = (moduleExports: ServerModule | undefined): void => {
      const proto = moduleExports?.Server?.prototype;
      const original = (proto?.emit as Wrapped | undefined)?.[WRAPPED];
      if (proto && original) proto.emit = original;
    };
    return [new InstrumentationNodeModuleDefinition('http', ['*'], patch, unpatch), new InstrumentationNodeModuleDefinition('https', ['*'], patch, unpatch)];
  }
}
