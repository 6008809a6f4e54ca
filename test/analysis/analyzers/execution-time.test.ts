import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { dbShare, executionTimeAnalyzer } from '../../../src/analysis/analyzers/execution-time';
import type { Finding, TraceView } from '../../../src/analysis/types';
import { loadConfig, type AgentConfig } from '../../../src/config';
import { traceBuilder } from '../../support/trace-builder';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const config = loaded.config; // bands 50 / 500 / 2000 / 5000 ms

function analyze(trace: TraceView, cfg: AgentConfig = config): Finding | undefined {
  const result = executionTimeAnalyzer.analyze(trace, { config: cfg });
  return result == null ? undefined : Array.isArray(result) ? result[0] : result;
}

function lasting(duration: number): TraceView {
  const t = traceBuilder({ operation: 'GET /slow', duration });
  t.db('SELECT 1', { duration: 1 });
  return t.build();
}

describe('execution_time', () => {
  it('is named execution_time', () => {
    expect(executionTimeAnalyzer.name).toBe('execution_time');
  });

  it.each([
    [10, undefined],
    [500, undefined],
    [500.1, 'info'],
    [2000, 'info'],
    [2001, 'warning'],
    [5000, 'warning'],
    [5001, 'critical'],
  ])('%d ms -> %s', (duration, severity) => {
    expect(analyze(lasting(duration))?.severity).toBe(severity);
  });

  it('names the duration, the band and the share of database time', () => {
    const t = traceBuilder({ operation: 'GET /members/:id/payments', duration: 800 });
    t.repeat(20, 'SELECT id FROM payments WHERE invoice_id = $1', { duration: 30 });
    const finding = analyze(t.build());
    expect(finding).toMatchObject({ type: 'execution_time', severity: 'info', totalMs: 800, maxMs: 800 });
    expect(finding?.message).toBe(
      'GET /members/:id/payments took 800.0 ms: above good (500 ms), in the warning band (up to 2000 ms); 75% of it in 20 database queries (600.0 ms)',
    );
    expect(finding?.recommendation).toBe(
      'Most of the time is spent in the database. The largest share is 20x SELECT id FROM payments WHERE invoice_id = $1 (600.0 ms). ' +
        "See this trace's n_plus_one and slow_query findings: batch repeated queries, index what slow ones filter on, and run independent queries concurrently",
    );
  });

  it('caps the share at 100% when concurrent queries overlap', () => {
    const t = traceBuilder({ operation: 'GET /dashboard', duration: 600 });
    t.repeat(4, 'SELECT count(*) FROM invoices WHERE status = $1', { concurrent: true, duration: 550 });
    const finding = analyze(t.build());
    expect(finding?.message).toBe(
      'GET /dashboard took 600.0 ms: above good (500 ms), in the warning band (up to 2000 ms); 100% of it in 4 database queries (2200.0 ms, partly concurrent)',
    );
    expect(dbShare(2200, 600)).toBe(1);
    expect(dbShare(10, 0)).toBe(0);
  });

  it('points outside the database when queries are a small share, naming the longest leaf span', () => {
    const t = traceBuilder({ operation: 'POST /checkout', duration: 3000 });
    const handler = t.span({ name: 'request handler', duration: 2990 });
    t.db('SELECT id FROM carts WHERE id = $1', { parent: handler, start: 0, duration: 10 });
    t.http('POST', 'https://payments.example/charge', { parent: handler, start: 10, duration: 2400, name: 'POST payments.example' });
    const finding = analyze(t.build());
    expect(finding?.severity).toBe('warning');
    expect(finding?.message).toContain('0% of it in 1 database query (10.0 ms)');
    expect(finding?.recommendation).toBe(
      'Most of the time (2990.0 ms) is spent outside the database. The longest other operation is POST payments.example (2400.0 ms). ' +
        'Profile the handler (node --cpu-prof) for CPU work such as large JSON serialization or synchronous crypto, and look at ' +
        'outgoing HTTP calls, timers and waits on the request path; run independent calls concurrently',
    );
  });

  it('leaves out a short other span', () => {
    const t = traceBuilder({ operation: 'GET /cpu', duration: 1000 });
    t.span({ name: 'tiny', kind: SpanKind.INTERNAL, duration: 5 });
    expect(analyze(t.build())?.recommendation).toMatch(/^Most of the time \(1000\.0 ms\) is spent outside the database\. Profile/);
  });

  it('follows thresholds.executionTimeMs from the configuration', () => {
    const strict: AgentConfig = {
      ...config,
      thresholds: { ...config.thresholds, executionTimeMs: { excellent: 1, good: 2, warning: 3, critical: 4 } },
    };
    expect(analyze(lasting(10), strict)?.severity).toBe('critical');
  });
});
