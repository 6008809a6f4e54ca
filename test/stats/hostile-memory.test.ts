import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, startApp } from '../support/app-process';

// Hostile input against a real agent process: 1,200 distinct 1 MB measure() names and targets,
// then requests with 100 KB operation names each making an N+1 of a distinct ~150 KB statement.
// The child reads its own heap after gc() (node --expose-gc) and the agent's footprint estimate.
const APP = resolve(__dirname, '../fixtures/hostile-memory-app.js');

describe('memory bounds hold for hostile input', () => {
  it('keeps the heap within the default limit and the estimate close to it', async () => {
    const app = await startApp(APP, {
      waitForListening: false,
      args: [],
      env: { AGENT_MODULE: resolve(REPO, 'dist/index.js'), OTEL_TRACES_EXPORTER: 'none', PERF_AGENT_LOG_FINDINGS: 'false', NODE_OPTIONS: '--expose-gc --max-old-space-size=3000' },
    });
    const exit = await app.exited;
    expect(exit.code, app.stderr()).toBe(0);
    const { grown, estimate, limit } = JSON.parse(app.stdout().trim()) as { grown: number; estimate: number; limit: number };
    // Unbounded names took this to over 1 GB (the estimate said 93 MB).
    expect(grown).toBeLessThan(limit / 4);
    // The estimate counts the strings it keeps: not far under what the heap really holds.
    expect(estimate).toBeGreaterThan(grown / 2);
    expect(estimate).toBeLessThan(limit);
  }, 180_000);
});
