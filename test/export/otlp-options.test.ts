import { diag, DiagLogLevel } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import { parseHeaders, resolveOtlpOptions } from '../../src/export/otlp-options';

let warn: Mock<(message: string) => void>;

beforeEach(() => {
  warn = vi.fn();
  diag.setLogger({ warn, error: vi.fn(), info: vi.fn(), debug: vi.fn(), verbose: vi.fn() }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
});

afterEach(() => {
  diag.disable();
});

const warnings = (): string[] => warn.mock.calls.map(([m]) => String(m));

describe('resolveOtlpOptions', () => {
  it('defaults to protobuf with gzip to http://localhost:4318/v1/traces, 10 s, no headers', () => {
    expect(resolveOtlpOptions({})).toEqual({
      url: 'http://localhost:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      compression: 'gzip',
      timeoutMillis: 10_000,
    });
    expect(warnings()).toEqual([]);
  });

  describe('endpoint', () => {
    it('appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT', () => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).url).toBe('http://collector:4318/v1/traces');
    });

    it('does not double the slash when the base ends with one', () => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).url).toBe('http://collector:4318/v1/traces');
    });

    it('keeps a path prefix of the base', () => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gateway.example.com/otlp' }).url).toBe('https://gateway.example.com/otlp/v1/traces');
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gateway.example.com/otlp/' }).url).toBe('https://gateway.example.com/otlp/v1/traces');
    });

    it('uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, before the general one', () => {
      const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom/path', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
      expect(resolveOtlpOptions(env).url).toBe('http://traces:9999/custom/path');
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/' }).url).toBe('http://traces:4318/');
    });

    it('trims whitespace and ignores blank values', () => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '  ', OTEL_EXPORTER_OTLP_ENDPOINT: ' http://collector:4318 ' }).url).toBe(
        'http://collector:4318/v1/traces',
      );
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).url).toBe('http://localhost:4318/v1/traces');
    });
  });

  describe('protocol', () => {
    it.each(['http/protobuf', 'http/json'])('accepts %s', (protocol) => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_PROTOCOL: protocol }).protocol).toBe(protocol);
    });

    it('prefers the traces-specific variable', () => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).protocol).toBe('http/json');
    });

    it('falls back to http/protobuf for grpc, naming the variable', () => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).protocol).toBe('http/protobuf');
      expect(warnings()).toEqual([
        'otel-perf-agent: OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported; expected http/protobuf or http/json. Using http/protobuf.',
      ]);
    });
  });

  describe('compression', () => {
    it('is gzip by default (the agent deviates from the specification default none)', () => {
      expect(resolveOtlpOptions({}).compression).toBe('gzip');
    });

    it.each(['gzip', 'none'])('accepts %s', (value) => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_COMPRESSION: value }).compression).toBe(value);
    });

    it('prefers the traces-specific variable', () => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }).compression).toBe('none');
    });

    it('falls back to gzip for an unknown value, naming the variable', () => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'brotli' }).compression).toBe('gzip');
      expect(warnings()).toEqual(['otel-perf-agent: OTEL_EXPORTER_OTLP_TRACES_COMPRESSION="brotli" is not supported; expected gzip or none. Using gzip.']);
    });
  });

  describe('timeout', () => {
    it('reads milliseconds, the traces-specific variable first', () => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).timeoutMillis).toBe(2500);
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '700', OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).timeoutMillis).toBe(700);
    });

    it.each(['0', '-1', 'ten', 'Infinity'])('falls back to 10000 for %j', (value) => {
      expect(resolveOtlpOptions({ OTEL_EXPORTER_OTLP_TIMEOUT: value }).timeoutMillis).toBe(10_000);
      expect(warnings()).toEqual([`otel-perf-agent: OTEL_EXPORTER_OTLP_TIMEOUT=${JSON.stringify(value)} is not a positive number of milliseconds. Using 10000.`]);
    });
  });

  describe('headers', () => {
    it('merges general and traces-specific headers, the traces-specific value winning', () => {
      const options = resolveOtlpOptions({
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=general,x-tenant=acme',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'api-key=traces',
      });
      expect(options.headers).toEqual({ 'api-key': 'traces', 'x-tenant': 'acme' });
    });

    it('lets a traces-specific header override a general one spelled in another case', () => {
      const options = resolveOtlpOptions({ OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer general', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer traces' });
      expect(Object.values(options.headers)).toEqual(['Bearer traces']);
    });
  });
});

describe('parseHeaders', () => {
  const NAME = 'OTEL_EXPORTER_OTLP_HEADERS';

  it('is empty for an unset or empty value', () => {
    expect(parseHeaders(undefined, NAME)).toEqual({});
    expect(parseHeaders('', NAME)).toEqual({});
  });

  it('reads key=value pairs separated by commas, trimming blanks', () => {
    expect(parseHeaders(' api-key = secret , x-tenant=acme ', NAME)).toEqual({ 'api-key': 'secret', 'x-tenant': 'acme' });
  });

  it('URL-decodes values', () => {
    expect(parseHeaders('Authorization=Basic%20dXNlcjpwYXNz,x-note=a%2Cb%3Dc', NAME)).toEqual({ authorization: 'Basic dXNlcjpwYXNz', 'x-note': 'a,b=c' });
  });

  it('splits at the first = only, so base64 padding survives', () => {
    expect(parseHeaders('authorization=Basic abc==', NAME)).toEqual({ authorization: 'Basic abc==' });
  });

  it('keeps a value that is not valid percent-encoding as written', () => {
    expect(parseHeaders('x-raw=100%', NAME)).toEqual({ 'x-raw': '100%' });
  });

  it('keeps an empty value', () => {
    expect(parseHeaders('x-empty=', NAME)).toEqual({ 'x-empty': '' });
  });

  it('ignores malformed entries with a warning naming the variable, and keeps the good ones', () => {
    expect(parseHeaders('novalue,=orphan,good=1,,  ', NAME)).toEqual({ good: '1' });
    expect(warnings()).toEqual([
      'otel-perf-agent: OTEL_EXPORTER_OTLP_HEADERS has an entry without key=value ("novalue"); it was ignored.',
      'otel-perf-agent: OTEL_EXPORTER_OTLP_HEADERS has an entry without key=value ("=orphan"); it was ignored.',
    ]);
  });

  it('lets a later entry with the same key win', () => {
    expect(parseHeaders('k=1,k=2', NAME)).toEqual({ k: '2' });
  });
});
