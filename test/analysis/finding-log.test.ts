import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FindingLog, summaryOf } from '../../src/analysis/finding-log';
import type { Finding } from '../../src/analysis/types';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const OPERATION = 'GET /members/:id/payments';

function nPlusOne(overrides: Partial<Finding> = {}): Finding {
  return {
    type: 'n_plus_one',
    severity: 'warning',
    message: `N+1 in ${OPERATION}: 20x SELECT id FROM payments WHERE invoice_id = $1 (31.2 ms)`,
    recommendation: 'use invoice_id = ANY($1)',
    fingerprint: 'a1b2c3d4e5f60718',
    pattern: 'SELECT id FROM payments WHERE invoice_id = $1',
    repeatCount: 20,
    totalMs: 31.24,
    callSite: { filepath: join(process.cwd(), 'routes', 'payments.js'), lineno: 9, function: 'paymentsFor' },
    ...overrides,
  };
}

function capture(): { lines: string[]; log: FindingLog } {
  const lines: string[] = [];
  return { lines, log: new FindingLog((line) => lines.push(line)) };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('summaryOf', () => {
  it('is the message, the call site relative to the working directory, and the advice', () => {
    expect(summaryOf(nPlusOne())).toBe(
      `N+1 in ${OPERATION}: 20x SELECT id FROM payments WHERE invoice_id = $1 (31.2 ms) at ${join('routes', 'payments.js')}:9 -> use invoice_id = ANY($1)`,
    );
  });

  it('names the application callers of the call site (the loop above a query helper)', () => {
    const file = join(process.cwd(), 'routes', 'payments.js');
    const stack = [`at findPayments (${file}:9)`, `at paymentsNPlusOne (${file}:50)`, 'at /srv/server.js:46'].join('\n');
    const finding = nPlusOne({ callSite: { filepath: file, lineno: 9, function: 'findPayments', stack } });
    expect(summaryOf(finding)).toContain(` at ${join('routes', 'payments.js')}:9 (called from ${join('routes', 'payments.js')}:50, /srv/server.js:46) -> `);
    const { lines, log } = capture();
    log.log(finding, OPERATION, TRACE_ID);
    expect(JSON.parse(lines[0]).call_stack).toBe(stack);
  });

  it('keeps a call site outside the working directory absolute', () => {
    expect(summaryOf(nPlusOne({ callSite: { filepath: '/elsewhere/app.js', lineno: 3 } }))).toContain(' at /elsewhere/app.js:3 -> ');
  });

  it('leaves out what the finding does not have', () => {
    expect(summaryOf({ type: 'slow_query', severity: 'info', message: 'slow', recommendation: '' })).toBe('slow');
    expect(summaryOf(nPlusOne({ callSite: undefined }))).toBe(`${nPlusOne().message} -> use invoice_id = ANY($1)`);
  });
});

describe('FindingLog', () => {
  it('writes one JSON line per finding, summary first, with every field', () => {
    const { lines, log } = capture();
    log.log(nPlusOne(), OPERATION, TRACE_ID);
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(lines[0].indexOf('\n')).toBe(lines[0].length - 1);
    const record = JSON.parse(lines[0]);
    expect(Object.keys(record)[0]).toBe('summary');
    expect(record).toEqual({
      summary: summaryOf(nPlusOne()),
      agent: 'otel-perf-agent',
      type: 'n_plus_one',
      severity: 'warning',
      operation: OPERATION,
      trace_id: TRACE_ID,
      recommendation: 'use invoice_id = ANY($1)',
      pattern: 'SELECT id FROM payments WHERE invoice_id = $1',
      fingerprint: 'a1b2c3d4e5f60718',
      repeat_count: 20,
      total_ms: 31.2,
      code: { filepath: join(process.cwd(), 'routes', 'payments.js'), lineno: 9, function: 'paymentsFor' },
    });
  });

  it('leaves optional fields out of a minimal finding', () => {
    const { lines, log } = capture();
    log.log({ type: 'execution_time', severity: 'critical', message: 'slow request', recommendation: '' }, 'GET /', TRACE_ID);
    expect(JSON.parse(lines[0])).toEqual({
      summary: 'slow request',
      agent: 'otel-perf-agent',
      type: 'execution_time',
      severity: 'critical',
      operation: 'GET /',
      trace_id: TRACE_ID,
      recommendation: '',
    });
  });

  it('keeps a message with newlines on one line', () => {
    const { lines, log } = capture();
    log.log(nPlusOne({ message: 'two\nlines' }), OPERATION, TRACE_ID);
    expect(lines[0].split('\n')).toHaveLength(2);
    expect(JSON.parse(lines[0]).summary.startsWith('two\nlines')).toBe(true);
  });

  it('writes at most 20 lines a second, then counts, and reports the count on the next line written', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2030-01-01T00:00:00.000Z'));
    const { lines, log } = capture();
    for (let i = 0; i < 25; i++) log.log(nPlusOne({ repeatCount: i }), OPERATION, TRACE_ID);
    expect(lines).toHaveLength(20);
    expect(lines.map((l) => JSON.parse(l).repeat_count)).toEqual([...Array(20).keys()]);
    expect(lines.every((l) => !('suppressed_before' in JSON.parse(l)))).toBe(true);

    vi.advanceTimersByTime(999);
    log.log(nPlusOne(), OPERATION, TRACE_ID);
    expect(lines).toHaveLength(20);

    vi.advanceTimersByTime(1);
    log.log(nPlusOne({ repeatCount: 100 }), OPERATION, TRACE_ID);
    log.log(nPlusOne({ repeatCount: 101 }), OPERATION, TRACE_ID);
    expect(lines).toHaveLength(22);
    expect(JSON.parse(lines[20])).toMatchObject({ repeat_count: 100, suppressed_before: 6 });
    expect('suppressed_before' in JSON.parse(lines[21])).toBe(false);
  });

  it('writes to stderr by default', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    new FindingLog().log(nPlusOne(), OPERATION, TRACE_ID);
    expect(write).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(write.mock.calls[0][0])).trace_id).toBe(TRACE_ID);
  });
});
