import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FailOnGuard } from '../../src/analysis/fail-on';
import { summaryOf } from '../../src/analysis/finding-log';
import type { Finding } from '../../src/analysis/types';

const REPO_ROOT = resolve(__dirname, '../..');
const DIST = join(REPO_ROOT, 'dist', 'analysis', 'fail-on.js');
const SOURCES = ['src/analysis/fail-on.ts', 'src/analysis/finding-log.ts', 'src/analysis/call-site.ts'].map((p) => join(REPO_ROOT, p));

function finding(type: string, overrides: Partial<Finding> = {}): Finding {
  return { type, severity: 'warning', message: `${type} in GET /x`, recommendation: `fix the ${type}`, ...overrides };
}

/** observe() installs an exit hook on the first listed finding; tests take it back out. */
let exitListeners: Set<(...args: unknown[]) => void>;
function newExitListeners(): Array<(...args: unknown[]) => void> {
  return (process.listeners('exit') as Array<(...args: unknown[]) => void>).filter((l) => !exitListeners.has(l));
}

describe('FailOnGuard', () => {
  beforeAll(() => {
    exitListeners = new Set(process.listeners('exit') as Array<(...args: unknown[]) => void>);
  });
  afterEach(() => {
    for (const listener of newExitListeners()) process.off('exit', listener);
  });

  it('tallies findings of the listed types only', () => {
    const guard = new FailOnGuard(['n_plus_one', 'slow_query']);
    guard.observe(finding('n_plus_one'), 'GET /a');
    guard.observe(finding('n_plus_one', { fingerprint: 'b' }), 'GET /a');
    guard.observe(finding('slow_query'), 'GET /b');
    guard.observe(finding('query_count'), 'GET /a');
    expect([...guard.seen]).toEqual([
      ['n_plus_one', 2],
      ['slow_query', 1],
    ]);
  });

  it('has no summary and installs nothing while no listed finding was seen', () => {
    const guard = new FailOnGuard(['n_plus_one']);
    guard.observe(finding('slow_query'), 'GET /a');
    expect(guard.summary()).toBeUndefined();
    expect(guard.seen.size).toBe(0);
    expect(newExitListeners()).toHaveLength(0);
    expect(new FailOnGuard([]).summary()).toBeUndefined();
  });

  it('installs one exit hook on the first listed finding, however many follow', () => {
    const guard = new FailOnGuard(['n_plus_one']);
    guard.observe(finding('n_plus_one'), 'GET /a');
    guard.observe(finding('n_plus_one'), 'GET /b');
    guard.observe(finding('n_plus_one'), 'GET /c');
    expect(newExitListeners()).toHaveLength(1);
  });

  it('summarizes totals per type and one example line per distinct finding', () => {
    const guard = new FailOnGuard(['n_plus_one', 'slow_query']);
    const a = finding('n_plus_one', { fingerprint: 'aaaa', callSite: { filepath: join(process.cwd(), 'routes', 'a.js'), lineno: 4 } });
    guard.observe(a, 'GET /a');
    guard.observe(a, 'GET /a'); // same type, operation and fingerprint: one example
    guard.observe(finding('slow_query'), 'GET /b');
    guard.observe(a, 'GET /other'); // another operation: another example
    expect(guard.summary()).toBe(
      [
        'otel-perf-agent: PERF_AGENT_FAIL_ON: this process saw 3 n_plus_one, 1 slow_query; exiting with code 1.',
        `  - ${summaryOf(a)}`,
        `  - ${summaryOf(finding('slow_query'))}`,
        `  - ${summaryOf(a)}`,
      ].join('\n'),
    );
    expect(guard.summary()).toContain(`at ${join('routes', 'a.js')}:4 -> fix the n_plus_one`);
  });

  it('keeps at most 10 examples but counts everything', () => {
    const guard = new FailOnGuard(['n_plus_one']);
    for (let i = 0; i < 15; i++) guard.observe(finding('n_plus_one', { fingerprint: `fp${i}`, message: `N+1 number ${i}` }), 'GET /a');
    const lines = guard.summary()?.split('\n') ?? [];
    expect(lines[0]).toContain('saw 15 n_plus_one;');
    expect(lines).toHaveLength(11);
    expect(lines[10]).toContain('N+1 number 9');
  });

  it('setTypes changes which types count from then on', () => {
    const guard = new FailOnGuard(['n_plus_one']);
    guard.observe(finding('slow_query'), 'GET /a');
    guard.setTypes(['slow_query']);
    guard.observe(finding('slow_query'), 'GET /a');
    guard.observe(finding('n_plus_one'), 'GET /a');
    expect([...guard.seen]).toEqual([['slow_query', 1]]);
  });
});

describe('FailOnGuard at process exit (built dist/, in a child process)', () => {
  beforeAll(() => {
    const stale = !existsSync(DIST) || SOURCES.some((source) => statSync(source).mtimeMs > statSync(DIST).mtimeMs);
    if (!stale) return;
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO_ROOT, stdio: 'pipe' });
    } catch (err) {
      // type errors elsewhere still emit JavaScript; only a missing file is fatal here
      if (!existsSync(DIST)) throw err;
    }
  }, 120_000);

  function run(body: string): { status: number | null; stderr: string } {
    const script = `
const { FailOnGuard } = require(${JSON.stringify(DIST)});
const path = require('node:path');
const finding = (type) => ({ type, severity: 'warning', message: type + ' in GET /members', recommendation: 'batch it', fingerprint: 'f00d', callSite: { filepath: path.join(process.cwd(), 'routes', 'members.js'), lineno: 12 } });
${body}`;
    const result = spawnSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 30_000 });
    return { status: result.status, stderr: result.stderr };
  }

  it('turns a clean exit into exit code 1 and prints the summary on stderr', () => {
    const { status, stderr } = run(`
const guard = new FailOnGuard(['n_plus_one']);
guard.observe(finding('n_plus_one'), 'GET /members');
guard.observe(finding('n_plus_one'), 'GET /members');
`);
    expect(status).toBe(1);
    expect(stderr).toBe(
      'otel-perf-agent: PERF_AGENT_FAIL_ON: this process saw 2 n_plus_one; exiting with code 1.\n' +
        `  - n_plus_one in GET /members at ${join('routes', 'members.js')}:12 -> batch it\n`,
    );
  });

  it('also when the application calls process.exit(0)', () => {
    const { status, stderr } = run(`
const guard = new FailOnGuard(['n_plus_one']);
guard.observe(finding('n_plus_one'), 'GET /members');
process.exit(0);
`);
    expect(status).toBe(1);
    expect(stderr).toContain('saw 1 n_plus_one');
  });

  it('keeps a non-zero exit code the application chose', () => {
    const { status, stderr } = run(`
const guard = new FailOnGuard(['n_plus_one']);
guard.observe(finding('n_plus_one'), 'GET /members');
process.exit(3);
`);
    expect(status).toBe(3);
    expect(stderr).toContain('saw 1 n_plus_one');
  });

  it('leaves the exit code alone when only unlisted types were seen', () => {
    const { status, stderr } = run(`
const guard = new FailOnGuard(['n_plus_one']);
guard.observe(finding('slow_query'), 'GET /members');
`);
    expect(status).toBe(0);
    expect(stderr).toBe('');
  });
});
