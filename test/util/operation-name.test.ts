import { ROOT_CONTEXT, SpanKind, type Attributes } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { BufferedTraceView } from '../../src/analysis/trace-view';
import { PerfSampler } from '../../src/sampling/perf-sampler';
import { operationName, templatePath } from '../../src/util/operation-name';

/** [span name, attributes, operation]: the one table both the sampler and the analysis follow. */
const TABLE: [string, Attributes, string][] = [
  ['GET', { 'http.request.method': 'GET', 'http.route': '/members/:id/payments', 'url.path': '/members/42/payments' }, 'GET /members/:id/payments'],
  ['GET /members/:slug/payments', { 'http.request.method': 'GET', 'http.route': '/members/:slug/payments', 'url.path': '/members/ada/payments' }, 'GET /members/:slug/payments'],
  ['GET', { 'http.request.method': 'GET', 'url.path': '/members/42/payments' }, 'GET /members/:id/payments'],
  ['GET', { 'http.request.method': 'GET', 'http.route': '', 'url.path': '/members/3' }, 'GET /members/:id'],
  ['HTTP POST', { 'http.method': 'POST', 'http.target': '/members/7/notes' }, 'POST /members/:id/notes'],
  ['HTTP GET', { 'http.method': 'GET', 'http.route': '/health' }, 'GET /health'],
  ['HTTP GET', { 'http.method': 'GET', 'http.target': '/members/9?expand=payments' }, 'GET /members/:id'],
  ['GET', { 'http.request.method': 'GET', 'url.path': '/members?page=2&size=50' }, 'GET /members'],
  // An unknown method keeps its own spelling: `_OTHER` would merge PURGE and LINK into one operation.
  ['HTTP', { 'http.request.method': '_OTHER', 'http.request.method_original': 'PURGE', 'url.path': '/cache/12' }, 'PURGE /cache/:id'],
  ['HTTP', { 'http.request.method': '_OTHER', 'url.path': '/cache' }, '_OTHER /cache'],
  // An outgoing request's root (a job calling an API) has url.full only.
  ['GET', { 'http.request.method': 'GET', 'url.full': 'https://api.example.test:8443/v1/orders/17?x=1' }, 'GET /v1/orders/:id'],
  ['GET', { 'http.request.method': 'GET', 'url.full': 'http://host?q=1' }, 'GET /'],
  ['GET', { 'http.request.method': 'GET' }, 'GET'],
  ['nightly-report', { 'db.system.name': 'postgresql' }, 'nightly-report'],
  ['process order', { 'http.request.method': 42 }, 'process order'],
  ['import', { 'url.path': '/imports/5' }, 'import'],
];

describe('operationName', () => {
  it.each(TABLE)('%s %o is %s', (name, attributes, expected) => {
    expect(operationName(name, attributes)).toBe(expected);
  });

  it('is what the trace view names the operation (analysis, statistics, findings)', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const tracer = provider.getTracer('t');
    for (const [name, attributes] of TABLE) tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, ROOT_CONTEXT).end();
    await provider.forceFlush();
    const operations = memory.getFinishedSpans().map((span) => new BufferedTraceView(span, [], undefined).operation);
    expect(operations).toEqual(TABLE.map(([, , expected]) => expected));
  });

  it('is the key of the sampler keep-findings budget', () => {
    // A budget of 1 per operation and second: a request is recorded exactly when no earlier
    // request of the table had the same operation.
    const sampler = new PerfSampler({ rate: 0, criticalOperations: [], keepFindings: true, keepFindingsMaxPerSecond: 1, maxTracesPerSecond: 100 }, { now: () => 0 });
    const seen = new Set<string>();
    for (const [name, attributes, expected] of TABLE) {
      const decision = sampler.shouldSample(ROOT_CONTEXT, 'a'.repeat(32), name, SpanKind.SERVER, attributes, []).decision;
      expect(decision, expected).toBe(seen.has(expected) ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD);
      seen.add(expected);
    }
  });
});

describe('templatePath', () => {
  it.each([
    ['/members/42', '/members/:id'],
    ['/members/42/payments', '/members/:id/payments'],
    ['/members/42/payments/7', '/members/:id/payments/:id'],
    ['/orders/3f2b8c1e-1234-4abc-9def-0123456789ab', '/orders/:id'],
    ['/orders/3F2B8C1E-1234-4ABC-9DEF-0123456789AB/items', '/orders/:id/items'],
    ['/docs/507f1f77bcf86cd799439011', '/docs/:id'],
    ['/v2/members', '/v2/members'],
    ['/files/deadbeef', '/files/deadbeef'],
    ['/members/42abc', '/members/42abc'],
    ['/members/ada/payments', '/members/ada/payments'],
    ['/', '/'],
  ])('replaces id segments of %s', (path, expected) => {
    expect(templatePath(path)).toBe(expected);
  });
});

