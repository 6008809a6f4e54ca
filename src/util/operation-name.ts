import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_HTTP_METHOD as HTTP_METHOD,
  ATTR_HTTP_REQUEST_METHOD as HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL as HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_ROUTE as HTTP_ROUTE,
  ATTR_HTTP_TARGET as HTTP_TARGET,
  ATTR_URL_FULL as URL_FULL,
  ATTR_URL_PATH as URL_PATH,
} from '../semconv';

/*
 * What an operation is, in one place: the sampler's keep-findings budget (at span start), the
 * analyzers, the per-operation statistics and the findings (at span end) must agree on it.
 *
 * At start an incoming span of instrumentation-http 0.223 carries `http.request.method` (`_OTHER`
 * for an unknown method, then `http.request.method_original`), `url.path`, never `http.route`; an
 * outgoing one `url.full`. A framework's route (`http.route`) is known only once the framework
 * matched it, so it names the operation at the end. `http.method` and `http.target` are the old
 * semantic conventions, still read for other instrumentations.
 */
const ID_SEGMENT = /\/(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{24,})(?=\/|$)/gi;

/** `/members/42/payments?x=1` -> `/members/:id/payments`: few operations however many ids. */
export function templatePath(path: string): string {
  const query = path.indexOf('?');
  const bare = query >= 0 ? path.slice(0, query) : path;
  return bare.replace(ID_SEGMENT, '/:id');
}

/**
 * `GET /members/:slug/payments`: method and the framework's route when one was reported, else
 * method and the path with its ids replaced (bare node:http), else the span's own name (a root
 * that is not HTTP: a job, a measure() call).
 */
export function operationName(spanName: string, attributes: Attributes): string {
  const route = attributes[HTTP_ROUTE];
  if (typeof route === 'string' && route !== '') {
    const method = methodOf(attributes);
    if (method !== undefined) return `${method} ${route}`;
  }
  return startOperationName(spanName, attributes);
}

/**
 * The operation as named at span start, before a framework reported its route. At a span's end it
 * still gives the name its start had (the method and path attributes do not change), so a finding
 * reaches the keep-findings budget its request was charged to (see PerfSampler.noteFinding).
 */
export function startOperationName(spanName: string, attributes: Attributes): string {
  const method = methodOf(attributes);
  if (method === undefined) return spanName;
  const path = pathOf(attributes);
  return path === undefined ? spanName : `${method} ${templatePath(path)}`;
}

/** The URL path known at span start, without query string or fragment. */
export function pathOf(attributes: Attributes): string | undefined {
  const path = attributes[URL_PATH];
  if (typeof path === 'string') return path;
  const target = attributes[HTTP_TARGET];
  if (typeof target === 'string') return target.charCodeAt(0) === 47 /* / */ ? stripQuery(target, 0) : pathOfUrl(target);
  const full = attributes[URL_FULL];
  if (typeof full === 'string') return pathOfUrl(full);
  return undefined;
}

/** The request method; an unknown method (`_OTHER`) keeps its original spelling. */
export function methodOf(attributes: Attributes): string | undefined {
  const method = attributes[HTTP_REQUEST_METHOD];
  if (typeof method === 'string') {
    const original = attributes[HTTP_REQUEST_METHOD_ORIGINAL];
    return method === '_OTHER' && typeof original === 'string' ? original : method;
  }
  const old = attributes[HTTP_METHOD];
  return typeof old === 'string' ? old : undefined;
}

/** `s` from `start` up to the first `?` or `#`. */
function stripQuery(s: string, start: number): string {
  let end = start;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** The path of an absolute URL (`https://host:8443/a/b?q` -> `/a/b`); `/` when it has none. */
function pathOfUrl(url: string): string | undefined {
  const scheme = url.indexOf('://');
  if (scheme < 0) return undefined;
  let i = scheme + 3;
  while (i < url.length) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */) return stripQuery(url, i);
    if (c === 63 /* ? */ || c === 35 /* # */) break;
    i++;
  }
  return '/';
}
