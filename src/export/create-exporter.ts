import { gzipSync } from 'node:zlib';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { ConsoleSpanExporter, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { log } from '../util/log';
import { resolveOtlpOptions } from './otlp-options';
import { postSync } from './sync-post';

/** An exporter that can also deliver synchronously, for the last spans at `process.exit`. */
export interface AgentExporter {
  readonly exporter: SpanExporter;
  readonly description: string;
  /** How long one export may take: what a flush at shutdown waits for at most. */
  readonly timeoutMillis: number;
  exportSync(spans: ReadableSpan[]): boolean;
}

const SUPPORTED = ['otlp', 'console', 'none'];

/** From OTEL_TRACES_EXPORTER (`otlp` default, `console`, `none`); null when traces go nowhere. */
export function createExporter(env: NodeJS.ProcessEnv): AgentExporter | null {
  const requested = (env.OTEL_TRACES_EXPORTER ?? 'otlp')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = requested.filter((name) => !SUPPORTED.includes(name));
  if (unknown.length > 0) log.warn(`OTEL_TRACES_EXPORTER=${JSON.stringify(env.OTEL_TRACES_EXPORTER)}: ${unknown.join(', ')} not supported; expected otlp, console or none.`);
  if (requested.includes('none')) return null;
  if (requested.includes('console') && !requested.includes('otlp')) return consoleExporter();
  if (requested.includes('console')) log.warn(`OTEL_TRACES_EXPORTER=${JSON.stringify(env.OTEL_TRACES_EXPORTER)}: one exporter at a time; using otlp, not console.`);
  return otlpExporter(env);
}

function consoleExporter(): AgentExporter {
  const exporter = new ConsoleSpanExporter();
  return {
    exporter,
    description: 'console',
    timeoutMillis: 1000,
    exportSync(spans) {
      exporter.export(spans, () => undefined); // writes synchronously
      return true;
    },
  };
}

function otlpExporter(env: NodeJS.ProcessEnv): AgentExporter {
  const options = resolveOtlpOptions(env);
  const config = {
    url: options.url,
    headers: options.headers,
    compression: options.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    timeoutMillis: options.timeoutMillis,
  };
  const json = options.protocol === 'http/json';
  const exporter = json ? new OTLPJsonExporter(config) : new OTLPProtoExporter(config);
  const serializer = json ? JsonTraceSerializer : ProtobufTraceSerializer;
  return {
    exporter,
    timeoutMillis: options.timeoutMillis,
    description: `otlp ${options.protocol}${options.compression === 'gzip' ? '+gzip' : ''} to ${options.url}`,
    exportSync(spans) {
      const serialized = serializer.serializeRequest(spans);
      if (!serialized) return false;
      const headers: Record<string, string> = {
        ...options.headers,
        'content-type': json ? 'application/json' : 'application/x-protobuf',
      };
      let body: Uint8Array = serialized;
      if (options.compression === 'gzip') {
        body = gzipSync(serialized);
        headers['content-encoding'] = 'gzip';
      }
      return postSync(options.url, headers, body, options.timeoutMillis);
    },
  };
}

