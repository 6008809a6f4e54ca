import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, startApp } from '../support/app-process';

describe('warnings the SDK repeats on every query', () => {
  it('a pg parameter whose toPostgres throws gives one line, then a count, not stack traces per query', async () => {
    const app = await startApp(resolve(__dirname, '../fixtures/to-postgres-app.js'), {
      waitForListening: false,
      env: { AGENT_MODULE: resolve(REPO, 'dist/index.js'), OTEL_TRACES_EXPORTER: 'none', PERF_AGENT_LOG_FINDINGS: 'false' },
    });
    expect((await app.exited).code, app.stderr()).toBe(0);
    const out = app.stdout().trim().split('\n');
    expect(out.slice(0, 3)).toEqual(['caught toPostgres boom', 'caught toPostgres boom', 'caught toPostgres boom']);
    // Before: about 24 lines of stack traces per query.
    const lines = app.stderr().trim().split('\n');
    expect(lines, app.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(/^otel-perf-agent: an instrumentation used a span after it ended .*toPostgres/);
    expect(JSON.parse(out[3]).diagnostics['ended-span']).toBeGreaterThanOrEqual(3);
  });
});
