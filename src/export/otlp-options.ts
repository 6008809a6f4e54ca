import { log } from '../util/log';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpOptions {
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  timeoutMillis: number;
}

const DEFAULT_BASE = 'http://localhost:4318';

/**
 * Resolves the OTLP trace exporter settings from the standard variables, in one place, as the
 * specification orders them: the traces-specific variable first, then the general one, then the
 * default. The agent's only deviation: gzip unless told otherwise.
 */
export function resolveOtlpOptions(env: NodeJS.ProcessEnv): OtlpOptions {
  return {
    url: resolveUrl(env),
    protocol: resolveProtocol(env),
    headers: { ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'), ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    compression: resolveCompression(env),
    timeoutMillis: resolveTimeout(env),
  };
}

function first(env: NodeJS.ProcessEnv, names: string[]): [string, string] | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return [name, value];
  }
  return undefined;
}

function resolveUrl(env: NodeJS.ProcessEnv): string {
  const signal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (signal) return signal; // used as is, by the specification
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || DEFAULT_BASE;
  return base.endsWith('/') ? `${base}v1/traces` : `${base}/v1/traces`;
}

function resolveProtocol(env: NodeJS.ProcessEnv): OtlpProtocol {
  const found = first(env, ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']);
  if (!found) return 'http/protobuf';
  const [name, value] = found;
  if (value === 'http/protobuf' || value === 'http/json') return value;
  log.warn(`${name}=${JSON.stringify(value)} is not supported; expected http/protobuf or http/json. Using http/protobuf.`);
  return 'http/protobuf';
}

function resolveCompression(env: NodeJS.ProcessEnv): 'gzip' | 'none' {
  const found = first(env, ['OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION']);
  if (!found) return 'gzip';
  const [name, value] = found;
  if (value === 'gzip' || value === 'none') return value;
  log.warn(`${name}=${JSON.stringify(value)} is not supported; expected gzip or none. Using gzip.`);
  return 'gzip';
}

function resolveTimeout(env: NodeJS.ProcessEnv): number {
  const found = first(env, ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT']);
  if (!found) return 10_000;
  const [name, value] = found;
  const ms = Number(value);
  if (Number.isFinite(ms) && ms > 0) return ms;
  log.warn(`${name}=${JSON.stringify(value)} is not a positive number of milliseconds. Using 10000.`);
  return 10_000;
}

/** `key=value,key2=value2`, values URL-encoded (W3C baggage style), as the specification says. */
export function parseHeaders(raw: string | undefined, name: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!raw) return headers;
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    if (!key) {
      if (pair.trim()) log.warn(`${name} has an entry without key=value ("${pair.trim()}"); it was ignored.`);
      continue;
    }
    // Header names are case-insensitive: a traces-specific one must replace a general one.
    const header = key.toLowerCase();
    try {
      headers[header] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      headers[header] = pair.slice(at + 1).trim();
    }
  }
  return headers;
}
