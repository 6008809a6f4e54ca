import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/config';

const CLI = resolve(__dirname, '../dist/cli.js');

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PERF_AGENT_') && k !== 'NODE_ENV'));
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...clean, ...env }, encoding: 'utf8' });
}

describe('npx otel-perf-agent config', () => {
  it('prints every setting with its variable, defaults per environment, current value and source', () => {
    const result = run(['config'], { PERF_AGENT_SAMPLING_RATE: '0.25', NODE_ENV: 'production' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('environment: production');
    for (const setting of SETTINGS) expect(result.stdout).toContain(setting.env);
    const rate = result.stdout.split('\n').find((l) => l.startsWith('PERF_AGENT_SAMPLING_RATE '))!;
    expect(rate.split(/\s+/)).toEqual(['PERF_AGENT_SAMPLING_RATE', '1', '0.5', '0.1', '0.25', 'env']);
  });

  it('hides the admin token', () => {
    const result = run(['config', '--json'], { PERF_AGENT_ADMIN_TOKEN: 's3cret' });
    expect(result.stdout).not.toContain('s3cret');
    const rows = JSON.parse(result.stdout) as { env: string; current: string }[];
    expect(rows.find((r) => r.env === 'PERF_AGENT_ADMIN_TOKEN')!.current).toBe('[hidden]');
  });

  it('reports an invalid value and exits non-zero', () => {
    const result = run(['config'], { PERF_AGENT_ADMIN_PORT: 'abc' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PERF_AGENT_ADMIN_PORT="abc"');
  });

  it('is the package bin', () => {
    const pkg = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: resolve(__dirname, '..'), encoding: 'utf8' }));
    expect(pkg.bin['otel-perf-agent']).toBe('dist/cli.js');
  });
});
