import { SpanKind, trace, ROOT_CONTEXT } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type AgentConfig } from '../../src/config';
import { StatementCache } from '../../src/processing/sql';
import { TraceBuffer } from '../../src/processing/trace-buffer';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('config');
const config: AgentConfig = loaded.config;

const buffers: TraceBuffer[] = [];
afterEach(async () => {
  for (const b of buffers.splice(0)) await b.shutdown();
});

function setup(analysisEnabled = true) {
  const statements = new StatementCache(100);
  const buffer = new TraceBuffer({
    config: () => ({ ...config, analysis: { enabled: analysisEnabled } }),
    analysis: { analyze: () => [], health: () => ({ score: 100, health: 'excellent' }) },
    sink: { add: () => undefined },
    limits: { maxTraces: 10, maxSpansPerTrace: 100, maxBufferedSpans: 1000, traceTimeoutMs: 60_000 },
    fingerprintOf: (text) => statements.get(text).fingerprint,
  });
  buffers.push(buffer);
  const tracer = new BasicTracerProvider({ spanProcessors: [buffer] }).getTracer('t');
  const root = tracer.startSpan('GET', { kind: SpanKind.SERVER });
  return { buffer, tracer, root, active: trace.setSpan(ROOT_CONTEXT, root) };
}

describe('TraceBuffer.wantsCallSite: one stack capture per statement and trace', () => {
  it('captures the first query of a statement, not its repeats (literals differing or not)', () => {
    const { buffer, active } = setup();
    expect(buffer.wantsCallSite(active, 'SELECT * FROM payments WHERE invoice_id = $1')).toBe(true);
    expect(buffer.wantsCallSite(active, 'SELECT * FROM payments WHERE invoice_id = $1')).toBe(false);
    expect(buffer.wantsCallSite(active, { text: 'SELECT * FROM payments WHERE invoice_id = $1' })).toBe(false);
    expect(buffer.wantsCallSite(active, 'SELECT * FROM invoices WHERE id = 7')).toBe(true);
    expect(buffer.wantsCallSite(active, 'SELECT * FROM invoices WHERE id = 8')).toBe(false);
  });

  it('starts over in another trace', () => {
    const a = setup();
    const b = a.tracer.startSpan('GET', { kind: SpanKind.SERVER });
    const other = trace.setSpan(ROOT_CONTEXT, b);
    expect(a.buffer.wantsCallSite(a.active, 'SELECT 1')).toBe(true);
    expect(a.buffer.wantsCallSite(other, 'SELECT 1')).toBe(true);
  });

  it('captures nothing for a trace it does not collect, or with analysis off', () => {
    const { buffer, tracer } = setup();
    const stranger = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 }));
    expect(buffer.wantsCallSite(stranger, 'SELECT 1')).toBe(false);
    void tracer;
    const off = setup(false);
    expect(off.buffer.wantsCallSite(off.active, 'SELECT 1')).toBe(false);
  });

  it('captures when it cannot tell the statement, and outside any trace', () => {
    const { buffer, active } = setup();
    expect(buffer.wantsCallSite(active, undefined)).toBe(true);
    expect(buffer.wantsCallSite(active, undefined)).toBe(true);
    expect(buffer.wantsCallSite(ROOT_CONTEXT, 'SELECT 1')).toBe(true);
  });
});
