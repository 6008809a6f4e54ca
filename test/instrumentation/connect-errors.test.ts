import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { recordingParent, watchConnect } from '../../src/instrumentation/connect-errors';

function setup() {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('connect-errors-test');
  const request = tracer.startSpan('GET');
  return { memory, tracer, request, parent: trace.setSpan(ROOT_CONTEXT, request) };
}

const PG = { name: 'pg-pool.connect', system: 'postgresql' };

describe('watchConnect', () => {
  it('hands the callback its arguments and this, and leaves no span when the connect succeeded', () => {
    const { memory, tracer, parent } = setup();
    const seen: unknown[] = [];
    const callback = function (this: unknown, ...args: unknown[]) {
      seen.push(this, ...args);
      return 'returned';
    };
    const self = { pool: true };
    const watched = watchConnect(tracer, PG, callback, parent);
    expect(watched.call(self, undefined, 'client', 'done')).toBe('returned');
    expect(seen).toEqual([self, undefined, 'client', 'done']);
    expect(memory.getFinishedSpans()).toEqual([]);
  });

  it('leaves one error span under the request when the connect failed, then calls back with the same error', () => {
    const { memory, tracer, request, parent } = setup();
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    let got: unknown;
    watchConnect(tracer, PG, (e) => (got = e), parent)(err);
    expect(got).toBe(err);
    const [span] = memory.getFinishedSpans();
    expect(span.name).toBe('pg-pool.connect');
    expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'connect ECONNREFUSED 127.0.0.1:1' });
    expect(span.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'error.type': 'ECONNREFUSED' });
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('names the error type by its name when it has no code, and survives a non-Error', () => {
    const { memory, tracer, parent } = setup();
    watchConnect(tracer, PG, () => undefined, parent)(new TypeError('bad'));
    watchConnect(tracer, PG, () => undefined, parent)('pool is closed');
    expect(memory.getFinishedSpans().map((s) => [s.attributes['error.type'], s.status.message])).toEqual([
      ['TypeError', 'bad'],
      ['Error', 'pool is closed'],
    ]);
  });
});

describe('recordingParent', () => {
  it('is true only under a span that records', () => {
    const { parent } = setup();
    expect(recordingParent(parent)).toBe(true);
    expect(recordingParent(ROOT_CONTEXT)).toBe(false);
    expect(recordingParent(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 0 })))).toBe(false);
  });
});
