import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertValidReport } from '../support/report-schema';
import { REPO, startApp } from '../support/app-process';
import { buildReport } from '../../src/stats/report';

const MEASURE_APP = resolve(__dirname, '../fixtures/measure-app.js');

type Report = ReturnType<typeof buildReport> & { result?: unknown };
type Line = { kind: string; report?: Report; [key: string]: unknown };

async function runMeasureApp(env: NodeJS.ProcessEnv, agent = true): Promise<Map<string, Line[]>> {
  const app = await startApp(MEASURE_APP, {
    agent,
    waitForListening: false,
    env: { AGENT_MODULE: resolve(REPO, 'dist/index.js'), OTEL_TRACES_EXPORTER: 'none', PERF_AGENT_LOG_FINDINGS: 'false', ...env },
  });
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  const byKind = new Map<string, Line[]>();
  for (const line of app.stdout().trim().split('\n').map((l) => JSON.parse(l) as Line)) {
    byKind.set(line.kind, [...(byKind.get(line.kind) ?? []), line]);
    if (line.report) assertValidReport(line.report);
  }
  return byKind;
}

const one = (lines: Map<string, Line[]>, kind: string): Line => {
  const found = lines.get(kind);
  expect(found, `no ${kind} line`).toHaveLength(1);
  return found![0];
};

describe('measure() in a real process on real PostgreSQL', () => {
  it('reports the N+1 of the measured function, valid against the JSON Schema', async () => {
    const lines = await runMeasureApp({});
    const runs = lines.get('n+1')!;
    expect(runs).toHaveLength(4);
    const first = runs[0].report!;
    expect(first.status).toBe('success');
    expect(first.operation).toBe('load numbers');
    expect(first.target).toEqual({ type: 'batch', id: '0' });
    expect(first.result).toEqual({ loaded: 8 });
    expect(runs[0].sameReport).toBe(true); // onReport got the very report measure() resolved to
    expect(first.metrics.queryCount).toBe(8);
    expect(first.analysis.nPlusOne).toHaveLength(1);
    expect(first.analysis.nPlusOne[0].repeatCount).toBe(8);
    expect(first.analysis.nPlusOne[0].callSite?.filepath).toBe(MEASURE_APP);
    expect(first.analysis.recommendations.length).toBeGreaterThan(0);
    expect(first.analysis.bottlenecks[0]).toMatchObject({ pattern: 'SELECT $1::int AS n', count: 8 });
    expect(first.metadata.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(first.baseline).toBeUndefined();
    expect(runs[3].report!.baseline?.queryCount).toBe(8); // three earlier measurements of the operation
    const batched = one(lines, 'batched');
    expect(batched.report!.analysis.findings).toEqual([]);
    expect(batched.report!.metrics.health).toBe('excellent');
    expect(batched.rows).toBe(8);
    expect(one(lines, 'db-error').isPgError).toBe(true); // the driver's own error, code and all
  });

  it('rejects with the very error fn threw or rejected with, and still reports it', async () => {
    const lines = await runMeasureApp({});
    for (const kind of ['sync-throw', 'async-reject', 'plain-throw']) {
      const line = one(lines, kind);
      expect(line.resolved, kind).toBeUndefined();
      expect(line.sameError, kind).toBe(true);
      expect(line.report?.status, kind).toBe('error');
      expect(line.report).not.toHaveProperty('result');
    }
    expect(one(lines, 'sync-throw').report!.error).toEqual({ name: 'RangeError', message: 'sync boom' });
    expect(one(lines, 'async-reject').report!.metrics.queryCount).toBe(1);
    expect(one(lines, 'plain-throw').report!.error?.message).toBe('a plain object thrown');
  });

  it('resolves with fn\'s own value when fn returns a plain value', async () => {
    const lines = await runMeasureApp({});
    expect(one(lines, 'plain-value').sameObject).toBe(true);
    expect(one(lines, 'plain-value').report!.result).toEqual({ same: 'object' });
    expect(one(lines, 'number').report!.result).toBe(42);
    expect(one(lines, 'nothing').report!.status).toBe('success');
  });

  it('measures even at sampling rate 0 with keep-findings off', async () => {
    const lines = await runMeasureApp({ PERF_AGENT_SAMPLING_RATE: '0', PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'false' });
    const first = lines.get('n+1')![0].report!;
    expect(first.metrics.queryCount).toBe(8);
    expect(first.analysis.nPlusOne).toHaveLength(1);
  });

  it('reports timing only when the agent is not running, with the same promise semantics', async () => {
    const lines = await runMeasureApp({}, false);
    const first = lines.get('n+1')![0].report!;
    expect(first.metadata.note).toContain('agent not running');
    expect(first.metadata.traceId).toBeNull();
    expect(first.metrics.executionTimeMs).toBeGreaterThan(0);
    expect(first.result).toEqual({ loaded: 8 });
    expect(one(lines, 'sync-throw')).toMatchObject({ sameError: true, report: { status: 'error' } });
    expect(one(lines, 'plain-value').sameObject).toBe(true);
  });
});

describe('buildReport', () => {
  it('computes the regression against a baseline', () => {
    const report = buildReport({ operation: 'x', target: null, executionTimeMs: 150, baseline: { executionTimeMs: 100, queryCount: 3 } });
    assertValidReport(report);
    expect(report.baseline).toEqual({ executionTimeMs: 100, queryCount: 3, regressionPct: 50 });
  });

  it('bounds the strings it keeps', () => {
    const report = buildReport({ operation: 'o'.repeat(1_000_000), target: { type: 't', id: 'i'.repeat(10_000) }, executionTimeMs: 1, error: new Error('m'.repeat(100_000)) });
    assertValidReport(report);
    expect(report.operation.length).toBeLessThanOrEqual(256);
    expect(report.target!.id.length).toBeLessThanOrEqual(256);
    expect(report.error!.message.length).toBeLessThanOrEqual(2048);
  });
});
