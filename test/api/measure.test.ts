import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertValidReport } from '../support/report-schema';
import { REPO, startApp } from '../support/app-process';
import { buildReport } from '../../src/stats/report';

const MEASURE_APP = resolve(__dirname, '../fixtures/measure-app.js');

type Report = ReturnType<typeof buildReport>;

async function runMeasureApp(env: NodeJS.ProcessEnv, agent = true): Promise<Report[]> {
  const app = await startApp(MEASURE_APP, {
    agent,
    waitForListening: false,
    env: { AGENT_MODULE: resolve(REPO, 'dist/index.js'), OTEL_TRACES_EXPORTER: 'none', PERF_AGENT_LOG_FINDINGS: 'false', ...env },
  });
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  return app.stdout().trim().split('\n').map((l) => JSON.parse(l) as Report);
}

describe('measure() in a real process on real PostgreSQL', () => {
  it('reports the N+1 of the measured function, valid against the JSON Schema', async () => {
    const reports = await runMeasureApp({});
    expect(reports).toHaveLength(6);
    for (const report of reports) assertValidReport(report);
    const [first, , , fourth, batched, failed] = reports;
    expect(first.status).toBe('success');
    expect(first.operation).toBe('load numbers');
    expect(first.target).toEqual({ type: 'batch', id: '0' });
    expect(first.metrics.queryCount).toBe(8);
    expect(first.analysis.nPlusOne).toHaveLength(1);
    expect(first.analysis.nPlusOne[0].repeatCount).toBe(8);
    expect(first.analysis.nPlusOne[0].callSite?.filepath).toBe(MEASURE_APP);
    expect(first.analysis.recommendations.length).toBeGreaterThan(0);
    expect(first.analysis.bottlenecks[0]).toMatchObject({ pattern: 'SELECT $1::int AS n', count: 8 });
    expect(first.metadata.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(first.baseline).toBeUndefined();
    expect(fourth.baseline?.queryCount).toBe(8); // three earlier measurements of the operation
    expect(batched.analysis.findings).toEqual([]);
    expect(batched.metrics.health).toBe('excellent');
    expect(failed.status).toBe('error');
    expect(failed.error?.message).toContain('no_such_table');
  });

  it('measures even at sampling rate 0 with keep-findings off', async () => {
    const reports = await runMeasureApp({ PERF_AGENT_SAMPLING_RATE: '0', PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'false' });
    expect(reports[0].metrics.queryCount).toBe(8);
    expect(reports[0].analysis.nPlusOne).toHaveLength(1);
  });

  it('reports timing only when the agent is not running', async () => {
    const reports = await runMeasureApp({}, false);
    for (const report of reports) assertValidReport(report);
    expect(reports[0].metadata.note).toContain('agent not running');
    expect(reports[0].metadata.traceId).toBeNull();
    expect(reports[0].metrics.executionTimeMs).toBeGreaterThan(0);
    expect(reports[5].status).toBe('error');
  });
});

describe('buildReport', () => {
  it('computes the regression against a baseline', () => {
    const report = buildReport({ operation: 'x', target: null, executionTimeMs: 150, baseline: { executionTimeMs: 100, queryCount: 3 } });
    assertValidReport(report);
    expect(report.baseline).toEqual({ executionTimeMs: 100, queryCount: 3, regressionPct: 50 });
  });
});
