'use strict';
// Plain OpenTelemetry, set up the way its documentation shows: NodeSDK with the official http and
// pg instrumentations, a BatchSpanProcessor with its defaults and the OTLP/HTTP protobuf exporter
// with gzip. Traces only (no metrics or logs exporters). The endpoint comes from
// OTEL_EXPORTER_OTLP_ENDPOINT, as for any OpenTelemetry SDK.
//
//   node --require ./bench/preload/plain-otel.js app.js
//
// Knobs used by the benchmark's configurations (unset = the plain defaults above):
//   BENCH_OTEL_RATIO=0.1              ParentBased(TraceIdRatioBased(0.1)) instead of always-on
//   BENCH_OTEL_PG_CONNECT_SPANS=false instrumentation-pg `ignoreConnectSpans: true`
//   BENCH_OTEL_EXPORTER=none          spans are sampled and batched, then dropped (no serialization, no HTTP)
//   BENCH_OTEL_COMPRESSION=none       protobuf without gzip
//   BENCH_OTEL_INSTRUMENTATIONS=http  only these instrumentations (comma-separated: http, pg)

const { NodeSDK } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg');
const { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { CompressionAlgorithm } = require('@opentelemetry/otlp-exporter-base');

const env = process.env;

function createExporter() {
  if (env.BENCH_OTEL_EXPORTER === 'none') {
    return {
      export: (_spans, done) => done({ code: 0 }),
      shutdown: () => Promise.resolve(),
      forceFlush: () => Promise.resolve(),
    };
  }
  const gzip = env.BENCH_OTEL_COMPRESSION !== 'none';
  return new OTLPTraceExporter({ compression: gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE });
}

const ratio = env.BENCH_OTEL_RATIO;
const only = env.BENCH_OTEL_INSTRUMENTATIONS ? env.BENCH_OTEL_INSTRUMENTATIONS.split(',').map((s) => s.trim()) : ['http', 'pg'];
const instrumentations = [];
if (only.includes('http')) instrumentations.push(new HttpInstrumentation());
if (only.includes('pg')) instrumentations.push(new PgInstrumentation({ ignoreConnectSpans: env.BENCH_OTEL_PG_CONNECT_SPANS === 'false' }));
const sdk = new NodeSDK({
  instrumentations,
  spanProcessors: [new BatchSpanProcessor(createExporter())],
  ...(ratio === undefined ? {} : { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(Number(ratio)) }) }),
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();

// Flush the last batch on SIGTERM. This listener is added before the application's own, and
// both run: the application still closes its server and exits the way it always does.
process.on('SIGTERM', () => {
  sdk.shutdown().catch((err) => process.stderr.write(`plain-otel: shutdown failed: ${err && err.message}\n`));
});
