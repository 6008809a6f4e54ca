import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { annotateRoot, findingAttributes, summarize } from '../../src/analysis/annotate';
import type { TraceSummary } from '../../src/analysis/types';
import * as semconv from '../../src/semconv';

const FINDING_EVENT = semconv.FINDING_EVENT;
import type { Finding } from '../../src/analysis/types';
import { traceBuilder } from '../support/trace-builder';

const FULL: Finding = {
  type: 'n_plus_one',
  severity: 'critical',
  message: 'N+1 in GET /members/:id/payments: 60x SELECT ...',
  recommendation: 'Load all rows in one query',
  fingerprint: 'a1b2c3d4e5f60718',
  pattern: 'SELECT id FROM payments WHERE invoice_id = $1',
  repeatCount: 60,
  totalMs: 93.45678,
  maxMs: 4.2,
  callSite: {
    filepath: '/srv/app/routes/payments.js',
    lineno: 9,
    function: 'paymentsFor',
    stack: 'at paymentsFor (/srv/app/routes/payments.js:9)\nat listPayments (/srv/app/routes/payments.js:40)',
  },
  spanIds: ['0000000000000001'],
};

const MINIMAL: Finding = { type: 'execution_time', severity: 'warning', message: 'slow request', recommendation: '' };

/** Runs annotateRoot where the agent does, in onEnding of the root, and returns the exported root. */
async function annotated(summary: TraceSummary, findings: Finding[], withChild = false): Promise<ReadableSpan> {
  const memory = new InMemorySpanExporter();
  const annotator: SpanProcessor = {
    onStart: () => undefined,
    onEnding: (span: Span) => {
      if (!span.parentSpanContext) annotateRoot(span, summary, findings);
    },
    onEnd: () => undefined,
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  const provider = new BasicTracerProvider({ spanProcessors: [annotator, new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('annotate-test');
  const root = tracer.startSpan('GET /members/:id/payments', { attributes: { 'http.route': '/members/:id/payments' } });
  if (withChild) tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root)).end();
  root.addEvent('earlier');
  root.end();
  await provider.forceFlush();
  const exported = memory.getFinishedSpans().find((s) => s.parentSpanContext === undefined);
  await provider.shutdown();
  if (!exported) throw new Error('root not exported');
  return exported;
}

describe('semconv', () => {
  it('names the root attributes and the finding event of the public contract', () => {
    expect([
      semconv.ATTR_QUERY_COUNT,
      semconv.ATTR_QUERY_TIME_MS,
      semconv.ATTR_HEALTH_SCORE,
      semconv.ATTR_HEALTH,
      semconv.ATTR_FINDINGS_COUNT,
      semconv.ATTR_N_PLUS_ONE_COUNT,
      semconv.ATTR_SAMPLING_REASON,
      semconv.ATTR_SAMPLING_RATE,
    ]).toEqual([
      'perf.query_count',
      'perf.query_time_ms',
      'perf.health_score',
      'perf.health',
      'perf.findings.count',
      'perf.n_plus_one.count',
      'perf.sampling.reason',
      'perf.sampling.rate',
    ]);
    expect(FINDING_EVENT).toBe('perf.finding');
  });

  it('reads the stable database attributes first, then the older ones', () => {
    expect(semconv.dbSystemOf({ 'db.system.name': 'postgresql', 'db.system': 'mysql' })).toBe('postgresql');
    expect(semconv.dbSystemOf({ 'db.system': 'mysql' })).toBe('mysql');
    expect(semconv.isDbSpan({ 'http.route': '/x' })).toBe(false);
    expect(semconv.statementOf({ 'db.query.text': 'SELECT 1', 'db.statement': 'SELECT 2' })).toBe('SELECT 1');
    expect(semconv.statementOf({ 'db.statement': 'SELECT 2' })).toBe('SELECT 2');
    expect(semconv.dbNamespaceOf({ 'db.name': 'shop' })).toBe('shop');
  });
});

describe('summarize', () => {
  it('counts the database spans and adds up their time, rounded to a microsecond', () => {
    const t = traceBuilder({ duration: 50 });
    t.db('SELECT 1', { duration: 1.0004 });
    t.db('SELECT 2', { duration: 2.0002 });
    t.span({ name: 'render', duration: 10 });
    const summary = summarize(t.build(), { score: 85, health: 'good' });
    expect(summary).toEqual({ queryCount: 2, queryTimeMs: 3.001, healthScore: 85, health: 'good' });
  });

  it('is zero queries for a trace without database spans', () => {
    const t = traceBuilder();
    t.span({ name: 'render' });
    expect(summarize(t.build(), { score: 100, health: 'excellent' })).toEqual({ queryCount: 0, queryTimeMs: 0, healthScore: 100, health: 'excellent' });
  });
});

describe('findingAttributes', () => {
  it('maps every field of a finding to its perf.* or code.* attribute', () => {
    expect(findingAttributes(FULL)).toEqual({
      'perf.finding.type': 'n_plus_one',
      'perf.finding.severity': 'critical',
      'perf.finding.message': FULL.message,
      'perf.finding.recommendation': 'Load all rows in one query',
      'perf.query.fingerprint': 'a1b2c3d4e5f60718',
      'perf.query.pattern': 'SELECT id FROM payments WHERE invoice_id = $1',
      'perf.finding.repeat_count': 60,
      'perf.finding.total_ms': 93.457,
      'code.filepath': '/srv/app/routes/payments.js',
      'code.lineno': 9,
      'code.function': 'paymentsFor',
      'perf.finding.call_stack': 'at paymentsFor (/srv/app/routes/payments.js:9)\nat listPayments (/srv/app/routes/payments.js:40)',
    });
  });

  it('leaves out what the finding does not have', () => {
    expect(findingAttributes(MINIMAL)).toEqual({
      'perf.finding.type': 'execution_time',
      'perf.finding.severity': 'warning',
      'perf.finding.message': 'slow request',
      'perf.finding.recommendation': '',
    });
  });

  it('keeps zero counts and times, and a call site without a function', () => {
    const attributes = findingAttributes({ ...MINIMAL, repeatCount: 0, totalMs: 0, callSite: { filepath: '/srv/app/x.js', lineno: 3 } });
    expect(attributes).toMatchObject({ 'perf.finding.repeat_count': 0, 'perf.finding.total_ms': 0, 'code.filepath': '/srv/app/x.js', 'code.lineno': 3 });
    expect('code.function' in attributes).toBe(false);
    expect('perf.finding.call_stack' in attributes).toBe(false);
  });
});

describe('annotateRoot', () => {
  it('sets the summary attributes and counts findings and N+1 findings', async () => {
    const second: Finding = { ...FULL, fingerprint: 'ffffffffffffffff', severity: 'warning' };
    const root = await annotated({ queryCount: 61, queryTimeMs: 120.5, healthScore: 35, health: 'critical' }, [FULL, MINIMAL, second]);
    expect(root.attributes).toMatchObject({
      'http.route': '/members/:id/payments',
      'perf.query_count': 61,
      'perf.query_time_ms': 120.5,
      'perf.health_score': 35,
      'perf.health': 'critical',
      'perf.findings.count': 3,
      'perf.n_plus_one.count': 2,
    });
  });

  it('adds one perf.finding event per finding, in order, at the end time of the root', async () => {
    const root = await annotated({ queryCount: 1, queryTimeMs: 1, healthScore: 90, health: 'excellent' }, [FULL, MINIMAL]);
    const findings = root.events.filter((e) => e.name === FINDING_EVENT);
    expect(findings.map((e) => e.attributes)).toEqual([findingAttributes(FULL), findingAttributes(MINIMAL)]);
    for (const event of findings) expect(event.time).toEqual(root.endTime);
    expect(root.events[0].name).toBe('earlier'); // events the application added stay first
  });

  it('with no findings sets zero counts and adds no event', async () => {
    const root = await annotated({ queryCount: 0, queryTimeMs: 0, healthScore: 100, health: 'excellent' }, [], true);
    expect(root.attributes).toMatchObject({ 'perf.findings.count': 0, 'perf.n_plus_one.count': 0, 'perf.query_count': 0 });
    expect(root.events.map((e) => e.name)).toEqual(['earlier']);
  });
});
