import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { diag, DiagLogLevel, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, ConsoleSpanExporter, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import type { DecodedSpan, ReceivedRequest } from '../../collector/receiver';
import { createExporter, type AgentExporter } from '../../src/export/create-exporter';

const RECEIVER = resolve(__dirname, '../../collector/receiver/index.js');

let warn: Mock<(message: string) => void>;
const exporters: AgentExporter[] = [];

beforeEach(() => {
  warn = vi.fn();
  diag.setLogger({ warn, error: vi.fn(), info: vi.fn(), debug: vi.fn(), verbose: vi.fn() }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
});

afterEach(async () => {
  diag.disable();
  for (const e of exporters.splice(0)) await e.exporter.shutdown();
});

function create(env: NodeJS.ProcessEnv): AgentExporter | null {
  const exporter = createExporter(env);
  if (exporter) exporters.push(exporter);
  return exporter;
}

async function makeSpans(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'members-api' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('create-exporter-test');
  const root = tracer.startSpan('GET /members/:id', { kind: SpanKind.SERVER });
  const attributes = { 'db.system.name': 'postgresql', 'perf.query.fingerprint': '0123456789abcdef' };
  tracer.startSpan('pg.query', { kind: SpanKind.CLIENT, attributes }, trace.setSpan(ROOT_CONTEXT, root)).end();
  root.setAttribute('perf.query_count', 1);
  root.addEvent('perf.finding', { 'perf.finding.type': 'slow_query' });
  root.end();
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/*
 * exportSync posts from a child process and blocks this thread until it is done, so a receiver on
 * this thread's event loop could never answer. The receiver runs on a worker thread instead, with
 * its own event loop, and reports what it decoded.
 */
interface WorkerReceiver {
  url: string;
  waitFor(count: number): Promise<{ spans: DecodedSpan[]; requests: ReceivedRequest[] }>;
  close(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { startOtlpReceiver } = require(workerData.receiver);
startOtlpReceiver().then((receiver) => {
  parentPort.postMessage({ type: 'ready', url: receiver.url });
  parentPort.on('message', async (message) => {
    if (message.type === 'close') {
      await receiver.close();
      parentPort.close();
      return;
    }
    try {
      const spans = await receiver.waitFor((all) => all.length >= message.count, 10000);
      const requests = receiver.requests.map((r) => ({ ...r, headers: { ...r.headers } }));
      parentPort.postMessage({ type: 'spans', spans, requests });
    } catch (err) {
      parentPort.postMessage({ type: 'error', message: String(err) });
    }
  });
});
`;

async function startWorkerReceiver(): Promise<WorkerReceiver> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { receiver: RECEIVER } });
  const url = await new Promise<string>((ok, fail) => {
    worker.once('error', fail);
    worker.once('message', (m: { url: string }) => ok(m.url));
  });
  return {
    url,
    waitFor(count) {
      return new Promise((ok, fail) => {
        worker.once('message', (m: { type: string; spans: DecodedSpan[]; requests: ReceivedRequest[]; message: string }) =>
          m.type === 'spans' ? ok({ spans: m.spans, requests: m.requests }) : fail(new Error(m.message)),
        );
        worker.postMessage({ type: 'wait', count });
      });
    },
    async close() {
      worker.postMessage({ type: 'close' });
      await new Promise((ok) => worker.once('exit', ok));
    },
  };
}

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  await new Promise((ok) => server.close(ok));
  return port;
}

describe('createExporter', () => {
  it('is OTLP protobuf with gzip to the default endpoint when OTEL_TRACES_EXPORTER is unset', () => {
    const exporter = create({});
    expect(exporter?.exporter).toBeInstanceOf(OTLPProtoExporter);
    expect(exporter?.description).toBe('otlp http/protobuf+gzip to http://localhost:4318/v1/traces');
    expect(warn).not.toHaveBeenCalled();
  });

  it('is OTLP for otlp, with the resolved endpoint, protocol and compression in its description', () => {
    expect(create({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })?.description).toBe(
      'otlp http/protobuf+gzip to http://collector:4318/v1/traces',
    );
    const json = create({ OTEL_TRACES_EXPORTER: ' otlp ', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_COMPRESSION: 'none' });
    expect(json?.exporter).toBeInstanceOf(OTLPJsonExporter);
    expect(json?.description).toBe('otlp http/json to http://localhost:4318/v1/traces');
  });

  it('is the console exporter for console, and its exportSync writes at once', async () => {
    const exporter = create({ OTEL_TRACES_EXPORTER: 'console' });
    expect(exporter?.exporter).toBeInstanceOf(ConsoleSpanExporter);
    expect(exporter?.description).toBe('console');
    const dir = vi.spyOn(console, 'dir').mockImplementation(() => undefined);
    try {
      const spans = await makeSpans();
      expect(exporter?.exportSync(spans)).toBe(true);
      expect(dir).toHaveBeenCalledTimes(spans.length);
      expect(dir.mock.calls.map(([info]) => (info as { name: string }).name).sort()).toEqual(['GET /members/:id', 'pg.query']);
    } finally {
      dir.mockRestore();
    }
  });

  it('is null for none, also when listed with others', () => {
    expect(createExporter({ OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    expect(createExporter({ OTEL_TRACES_EXPORTER: 'otlp,none' })).toBeNull();
    expect(warn).not.toHaveBeenCalled();
  });

  it('prefers otlp when both otlp and console are listed', () => {
    expect(create({ OTEL_TRACES_EXPORTER: 'console, otlp' })?.exporter).toBeInstanceOf(OTLPProtoExporter);
  });

  it('warns about an unknown exporter, naming it and what is supported, and uses OTLP', () => {
    const exporter = create({ OTEL_TRACES_EXPORTER: 'zipkin' });
    expect(exporter?.exporter).toBeInstanceOf(OTLPProtoExporter);
    expect(warn.mock.calls.map(([m]) => m)).toEqual(['otel-perf-agent: OTEL_TRACES_EXPORTER="zipkin": zipkin not supported; expected otlp, console or none.']);
  });

  it('honours none even next to an unknown name', () => {
    expect(createExporter({ OTEL_TRACES_EXPORTER: 'jaeger,none' })).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('createExporter: exportSync of the OTLP exporter', () => {
  it('delivers a gzip protobuf request the receiver decodes, with the configured headers', async () => {
    const receiver = await startWorkerReceiver();
    try {
      const spans = await makeSpans();
      const exporter = create({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s%20ecret' });
      expect(exporter?.exportSync(spans)).toBe(true);
      const { spans: received, requests } = await receiver.waitFor(spans.length);

      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ path: '/v1/traces', contentType: 'application/x-protobuf', contentEncoding: 'gzip', spanCount: 2 });
      expect(requests[0].wireBytes).toBeLessThan(requests[0].rawBytes);
      expect(requests[0].headers['x-api-key']).toBe('s ecret');

      expect(received.map((s) => s.spanId).sort()).toEqual(spans.map((s) => s.spanContext().spanId).sort());
      const root = received.find((s) => s.name === 'GET /members/:id');
      const query = received.find((s) => s.name === 'pg.query');
      expect(root?.parentSpanId).toBe('');
      expect(root?.kind).toBe(2);
      expect(root?.attributes['perf.query_count']).toBe(1);
      expect(root?.events.map((e) => [e.name, e.attributes['perf.finding.type']])).toEqual([['perf.finding', 'slow_query']]);
      expect(query?.parentSpanId).toBe(root?.spanId);
      expect(query?.attributes['perf.query.fingerprint']).toBe('0123456789abcdef');
      expect(query?.resource.attributes['service.name']).toBe('members-api');
    } finally {
      await receiver.close();
    }
  });

  it('delivers JSON without compression when told so', async () => {
    const receiver = await startWorkerReceiver();
    try {
      const spans = await makeSpans();
      const exporter = create({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
      });
      expect(exporter?.exportSync(spans)).toBe(true);
      const { spans: received, requests } = await receiver.waitFor(spans.length);
      expect(requests[0]).toMatchObject({ contentType: 'application/json', contentEncoding: 'identity' });
      expect(requests[0].wireBytes).toBe(requests[0].rawBytes);
      expect(received.map((s) => s.name).sort()).toEqual(['GET /members/:id', 'pg.query']);
    } finally {
      await receiver.close();
    }
  });

  it('returns false when the receiver answers with an error status', async () => {
    const receiver = await startWorkerReceiver();
    try {
      const exporter = create({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/not-otlp` });
      expect(exporter?.exportSync(await makeSpans())).toBe(false);
    } finally {
      await receiver.close();
    }
  });

  it('returns false when nobody listens', async () => {
    const port = await closedPort();
    const exporter = create({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_TIMEOUT: '2000' });
    expect(exporter?.exportSync(await makeSpans())).toBe(false);
  });
});
