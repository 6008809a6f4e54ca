import { SpanKind, trace, ROOT_CONTEXT } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type AgentConfig } from '../../src/config';
import { StatementCache } from '../../src/sql';
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

const skip = () => undefined;

describe('TraceBuffer.callSiteFor: few stack captures, reused per statement', () => {
  it('captures the first sighting of a statement and reuses it for its repeats', () => {
    const { buffer, active } = setup();
    const first = buffer.callSiteFor(active, 'SELECT * FROM payments WHERE invoice_id = $1', skip);
    expect(first).not.toBeNull();
    expect(buffer.callSiteFor(active, 'SELECT * FROM payments WHERE invoice_id = $1', skip)).toBe(first);
    expect(buffer.callSiteFor(active, { text: 'SELECT * FROM payments WHERE invoice_id = $1' }, skip)).toBe(first);
    const other = buffer.callSiteFor(active, 'SELECT * FROM invoices WHERE id = 7', skip);
    expect(other).not.toBe(first);
    expect(buffer.callSiteFor(active, 'SELECT * FROM invoices WHERE id = 8', skip)).toBe(other); // same statement once normalized
  });

  it('captures afresh at the repeat that makes an N+1 candidate (minRepeats), so the finding points at this request', () => {
    const { buffer, active } = setup();
    const text = 'SELECT * FROM payments WHERE invoice_id = $1';
    const holders = Array.from({ length: config.nPlusOne.minRepeats + 2 }, () => buffer.callSiteFor(active, text, skip));
    const fresh = holders[config.nPlusOne.minRepeats - 1];
    expect(fresh).not.toBe(holders[0]);
    expect(holders.slice(1, config.nPlusOne.minRepeats - 1).every((h) => h === holders[0])).toBe(true);
    expect(holders[config.nPlusOne.minRepeats]).toBe(fresh); // later repeats reuse the new capture
  });

  it('reuses the statement\'s call site in the next trace', () => {
    const a = setup();
    const b = trace.setSpan(ROOT_CONTEXT, a.tracer.startSpan('GET', { kind: SpanKind.SERVER }));
    const first = a.buffer.callSiteFor(a.active, 'SELECT 1', skip);
    expect(a.buffer.callSiteFor(b, 'SELECT 1', skip)).toBe(first);
  });

  it('gives nothing for a trace it does not collect, or with analysis off', () => {
    const { buffer } = setup();
    const stranger = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 }));
    expect(buffer.callSiteFor(stranger, 'SELECT 1', skip)).toBeNull();
    const off = setup(false);
    expect(off.buffer.callSiteFor(off.active, 'SELECT 1', skip)).toBeNull();
  });

  it('captures when it cannot tell the statement, and outside any trace', () => {
    const { buffer, active } = setup();
    const a = buffer.callSiteFor(active, undefined, skip);
    const b = buffer.callSiteFor(active, undefined, skip);
    expect(a).not.toBeNull();
    expect(b).not.toBe(a);
    expect(buffer.callSiteFor(ROOT_CONTEXT, 'SELECT 1', skip)).not.toBeNull();
  });
});
