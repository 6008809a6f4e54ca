'use strict';
// The sampler decision for a new trace (the path every incoming request takes), against
// OpenTelemetry's ParentBased(TraceIdRatioBased), the sampler plain OpenTelemetry uses.

const { ROOT_CONTEXT, SpanKind } = require('@opentelemetry/api');
const { ParentBasedSampler, TraceIdRatioBasedSampler } = require('@opentelemetry/sdk-trace-base');

const ids = Array.from({ length: 1024 }, (_, i) => (i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(4));
const attributes = { 'http.request.method': 'GET', 'url.path': '/members/1/payments' };
let i = 0;
const nextId = () => ids[(i = (i + 1) & 1023)];

module.exports = [
  {
    name: 'sampler: OpenTelemetry ParentBased(TraceIdRatio 0.1), new trace',
    setup: () => new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }),
    fn: (sampler) => sampler.shouldSample(ROOT_CONTEXT, nextId(), 'GET', SpanKind.SERVER, attributes, []).decision,
  },
  {
    name: 'sampler: PerfSampler rate 0.1, 2 critical globs, new trace',
    requires: { sampling: ['PerfSampler'] },
    setup: (deps) => new deps.sampling.PerfSampler({ rate: 0.1, criticalOperations: ['POST /payments*', 'checkout'], keepFindings: true, maxTracesPerSecond: 1e9 }),
    fn: (sampler) => sampler.shouldSample(ROOT_CONTEXT, nextId(), 'GET', SpanKind.SERVER, attributes, []).decision,
    baseline: 'sampler: OpenTelemetry ParentBased(TraceIdRatio 0.1), new trace',
  },
];
