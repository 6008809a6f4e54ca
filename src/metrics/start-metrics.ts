import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { defaultResource, detectResources, envDetector } from '@opentelemetry/resources';
import { parseHeaders } from '../export/otlp-options';
import { log } from '../util/log';
import { describeError } from '../util/safe';
import { AgentMetrics, type AnalyzedRequest } from './agent-metrics';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type JsonExporter = typeof import('@opentelemetry/exporter-metrics-otlp-http');
type ProtoExporter = typeof import('@opentelemetry/exporter-metrics-otlp-proto');

const METER_NAME = 'otel-perf-agent';
const DEFAULT_INTERVAL_MS = 60_000;

export interface MetricsHandle {
  readonly description: string;
  record(request: AnalyzedRequest): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Starts the agent's metrics when OTEL_METRICS_EXPORTER=otlp (off by default: the agent's
 * tracing setup starts no metrics of its own). Its own MeterProvider, not the global one: only the
 * agent's three instruments leave the process, with the same service resource as the traces.
 */
export function startMetrics(env: NodeJS.ProcessEnv): MetricsHandle | undefined {
  const requested = (env.OTEL_METRICS_EXPORTER ?? 'none').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = requested.filter((name) => name !== 'otlp' && name !== 'none');
  if (unknown.length > 0) {
    log.warn(`OTEL_METRICS_EXPORTER=${JSON.stringify(env.OTEL_METRICS_EXPORTER)}: ${unknown.join(', ')} not supported; expected otlp or none. Metrics stay off unless otlp is named.`);
  }
  if (!requested.includes('otlp') || requested.includes('none')) return undefined;

  const options = resolveMetricsOptions(env);
  const config = {
    url: options.url,
    headers: options.headers,
    compression: options.gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    timeoutMillis: options.timeoutMillis,
  };
  // The metrics SDK and its exporter are loaded only here: metrics are off by default, and
  // loading them costs memory in every process.
  const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics') as SdkMetrics;
  const exporter = options.json
    ? new (require('@opentelemetry/exporter-metrics-otlp-http') as JsonExporter).OTLPMetricExporter(config)
    : new (require('@opentelemetry/exporter-metrics-otlp-proto') as ProtoExporter).OTLPMetricExporter(config);
  const provider = new MeterProvider({
    resource: defaultResource().merge(detectResources({ detectors: [envDetector] })),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: options.intervalMillis, exportTimeoutMillis: Math.min(options.timeoutMillis, options.intervalMillis) })],
  });
  const recorder = new AgentMetrics(provider.getMeter(METER_NAME));
  let failed = false;
  return {
    description: `otlp ${options.json ? 'http/json' : 'http/protobuf'} every ${options.intervalMillis} ms to ${options.url}`,
    record(request) {
      try {
        recorder.record(request);
      } catch (err) {
        if (!failed) log.warn(`metrics: a request was not recorded: ${describeError(err)}`);
        failed = true;
      }
    },
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

interface MetricsOptions {
  url: string;
  json: boolean;
  gzip: boolean;
  headers: Record<string, string>;
  timeoutMillis: number;
  intervalMillis: number;
}

/** The standard variables, metrics-specific first, then general; gzip by default like the traces. */
function resolveMetricsOptions(env: NodeJS.ProcessEnv): MetricsOptions {
  const pick = (names: string[]): string | undefined => names.map((n) => env[n]?.trim()).find((v) => v);
  const signalUrl = pick(['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']);
  const base = pick(['OTEL_EXPORTER_OTLP_ENDPOINT']) ?? 'http://localhost:4318';
  const protocol = pick(['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') log.warn(`OTLP metrics protocol ${JSON.stringify(protocol)} is not supported; expected http/protobuf or http/json. Using http/protobuf.`);
  const compression = pick(['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION']) ?? 'gzip';
  return {
    url: signalUrl ?? (base.endsWith('/') ? `${base}v1/metrics` : `${base}/v1/metrics`),
    json: protocol === 'http/json',
    gzip: compression !== 'none',
    headers: { ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'), ...parseHeaders(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS') },
    timeoutMillis: positive(env, ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'], 10_000),
    intervalMillis: positive(env, ['OTEL_METRIC_EXPORT_INTERVAL'], DEFAULT_INTERVAL_MS),
  };
}

function positive(env: NodeJS.ProcessEnv, names: string[], fallback: number): number {
  for (const name of names) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const value = Number(raw);
    if (Number.isFinite(value) && value > 0) return value;
    log.warn(`${name}=${JSON.stringify(raw)} is not a positive number of milliseconds. Using ${fallback}.`);
    return fallback;
  }
  return fallback;
}
