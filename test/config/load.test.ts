import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS, formatIssues, loadConfig, type LoadResult } from '../../src/config';

function ok(result: LoadResult) {
  if (!result.ok) throw new Error(`expected a valid configuration, got: ${formatIssues(result.issues)}`);
  return result;
}

function rejected(result: LoadResult) {
  if (result.ok) throw new Error('expected the configuration to be rejected');
  return result;
}

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-agent-config-'));
  const path = join(dir, 'agent.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('loadConfig defaults per environment', () => {
  it('uses development defaults when nothing is set', () => {
    const { config, sources } = ok(loadConfig({}));
    expect(config.env).toBe('development');
    expect(config.sampling.rate).toBe(1);
    expect(config.logFindings).toBe(true);
    expect(config.nPlusOne.minRepeats).toBe(5);
    expect(config.thresholds.queryCount).toEqual({ excellent: 10, good: 20, warning: 50, critical: 100 });
    expect(config.thresholds.executionTimeMs).toEqual({ excellent: 50, good: 500, warning: 2000, critical: 5000 });
    expect(config.admin).toEqual({ port: 0, host: '127.0.0.1', token: null });
    expect(config.instrumentation.pgConnectSpans).toBe(false);
    expect(sources['sampling.rate']).toBe('default');
  });

  it.each([
    ['staging', 0.5, false],
    ['production', 0.1, false],
  ])('takes %s defaults from NODE_ENV', (nodeEnv, rate, logFindings) => {
    const { config } = ok(loadConfig({ NODE_ENV: nodeEnv }));
    expect(config.env).toBe(nodeEnv);
    expect(config.sampling.rate).toBe(rate);
    expect(config.logFindings).toBe(logFindings);
  });

  it('treats an unknown NODE_ENV as development', () => {
    expect(ok(loadConfig({ NODE_ENV: 'test' })).config.env).toBe('development');
  });

  it('lets PERF_AGENT_ENV win over NODE_ENV', () => {
    expect(ok(loadConfig({ NODE_ENV: 'development', PERF_AGENT_ENV: 'production' })).config.sampling.rate).toBe(0.1);
  });

  it('lets a variable override the environment default and records the source', () => {
    const { config, sources } = ok(loadConfig({ NODE_ENV: 'production', PERF_AGENT_SAMPLING_RATE: '0.25' }));
    expect(config.sampling.rate).toBe(0.25);
    expect(sources['sampling.rate']).toBe('env');
  });
});

describe('loadConfig parses every kind of value', () => {
  it('parses lists, switches, ports and numbers', () => {
    const { config } = ok(
      loadConfig({
        PERF_AGENT_CRITICAL_OPERATIONS: 'POST /payments*, checkout ,',
        PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'off',
        PERF_AGENT_ANALYSIS_ENABLED: 'YES',
        PERF_AGENT_ADMIN_PORT: '9464',
        PERF_AGENT_THRESHOLDS_SLOW_QUERY_MS: '12.5',
        PERF_AGENT_FAIL_ON: 'n_plus_one,slow_query',
        PERF_AGENT_PLUGINS: './plugins/select-star.js,@acme/perf-plugin',
        PERF_AGENT_PG_CONNECT_SPANS: 'true',
      }),
    );
    expect(config.sampling.criticalOperations).toEqual(['POST /payments*', 'checkout']);
    expect(config.sampling.keepFindings).toBe(false);
    expect(config.analysis.enabled).toBe(true);
    expect(config.admin.port).toBe(9464);
    expect(config.thresholds.slowQueryMs).toBe(12.5);
    expect(config.failOn).toEqual(['n_plus_one', 'slow_query']);
    expect(config.plugins).toEqual(['./plugins/select-star.js', '@acme/perf-plugin']);
    expect(config.instrumentation.pgConnectSpans).toBe(true);
  });
});

describe('loadConfig rejects bad values with one clear line each', () => {
  it.each([
    ['PERF_AGENT_SAMPLING_RATE', '1.5', 'a number from 0 to 1'],
    ['PERF_AGENT_SAMPLING_RATE', '-0.1', 'a number from 0 to 1'],
    ['PERF_AGENT_SAMPLING_RATE', 'half', 'a number from 0 to 1'],
    ['PERF_AGENT_ADMIN_PORT', 'abc', 'a port number from 0 to 65535'],
    ['PERF_AGENT_ADMIN_PORT', '70000', 'a port number from 0 to 65535'],
    ['PERF_AGENT_ADMIN_PORT', '80.5', 'a port number from 0 to 65535'],
    ['PERF_AGENT_ANALYSIS_ENABLED', 'nope', 'true or false'],
    ['PERF_AGENT_N_PLUS_ONE_MIN_REPEATS', '1', 'a whole number from 2 to 10000'],
    ['PERF_AGENT_MEMORY_LIMIT_MB', '0', 'a number greater than 0'],
    ['PERF_AGENT_MEMORY_LIMIT_MB', '12MB', 'a number greater than 0'],
    ['PERF_AGENT_THRESHOLDS_SLOW_QUERY_MS', '-5', 'a number greater than 0'],
    ['PERF_AGENT_ENV', 'prod', 'one of development, staging, production'],
    ['PERF_AGENT_FAIL_ON', 'N+1', 'a comma-separated list of finding types'],
    ['PERF_AGENT_ADMIN_HOST', 'local host', 'a host name or IP address'],
  ])('%s=%s', (variable, value, allowed) => {
    const { issues } = rejected(loadConfig({ [variable]: value }));
    expect(issues).toHaveLength(1);
    const line = formatIssues(issues);
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain(variable);
    expect(line).toContain(value);
    expect(line).toContain(allowed);
    expect(line).toContain('agent disabled');
  });

  it('rejects thresholds out of order, naming both variables', () => {
    const { issues } = rejected(loadConfig({ PERF_AGENT_THRESHOLDS_QUERY_COUNT_GOOD: '5' }));
    const line = formatIssues(issues);
    expect(line).toContain('PERF_AGENT_THRESHOLDS_QUERY_COUNT_GOOD=5');
    expect(line).toContain('PERF_AGENT_THRESHOLDS_QUERY_COUNT_EXCELLENT (10)');
  });

  it('rejects equal thresholds of execution time', () => {
    const { issues } = rejected(
      loadConfig({ PERF_AGENT_THRESHOLDS_EXECUTION_TIME_MS_WARNING: '5000', PERF_AGENT_THRESHOLDS_EXECUTION_TIME_MS_CRITICAL: '5000' }),
    );
    expect(issues.map((i) => i.env)).toEqual(['PERF_AGENT_THRESHOLDS_EXECUTION_TIME_MS_CRITICAL']);
  });

  it('never prints the admin token', () => {
    const { issues } = rejected(loadConfig({ PERF_AGENT_ADMIN_TOKEN: '', PERF_AGENT_SAMPLING_RATE: '2' }));
    expect(formatIssues(issues)).not.toMatch(/ADMIN_TOKEN=""/);
  });
});

describe('PERF_AGENT_CONFIG_FILE', () => {
  it('loads settings by key; environment variables win', () => {
    const path = configFile({ sampling: { rate: 0.3, criticalOperations: ['GET /health'] }, thresholds: { slowQueryMs: 250 } });
    const { config, sources } = ok(loadConfig({ PERF_AGENT_CONFIG_FILE: path, PERF_AGENT_THRESHOLDS_SLOW_QUERY_MS: '40' }));
    expect(config.sampling.rate).toBe(0.3);
    expect(config.sampling.criticalOperations).toEqual(['GET /health']);
    expect(config.thresholds.slowQueryMs).toBe(40);
    expect(sources['sampling.rate']).toBe('file');
    expect(sources['thresholds.slowQueryMs']).toBe('env');
  });

  it('takes the environment from the file when no variable names it', () => {
    const path = configFile({ env: 'staging' });
    expect(ok(loadConfig({ PERF_AGENT_CONFIG_FILE: path })).config.sampling.rate).toBe(0.5);
  });

  it('rejects an unknown key, naming it', () => {
    const path = configFile({ sampling: { rate: 0.3, ratio: 0.2 } });
    const line = formatIssues(rejected(loadConfig({ PERF_AGENT_CONFIG_FILE: path })).issues);
    expect(line).toContain('sampling.ratio');
    expect(line).toContain(path);
  });

  it('rejects a bad value in the file, naming the key', () => {
    const path = configFile({ sampling: { rate: 7 } });
    const line = formatIssues(rejected(loadConfig({ PERF_AGENT_CONFIG_FILE: path })).issues);
    expect(line).toContain('sampling.rate');
    expect(line).toContain('a number from 0 to 1');
  });

  it('rejects a nested object where a value belongs without crashing', () => {
    const path = configFile({ sampling: { rate: { value: 1 } } });
    expect(rejected(loadConfig({ PERF_AGENT_CONFIG_FILE: path })).issues[0].key).toBe('sampling.rate');
  });

  it.each([
    ['missing', '/nonexistent/agent.json', 'ENOENT'],
    ['not JSON', configFile('{ sampling: '), 'invalid JSON'],
    ['not an object', configFile('[1,2]'), 'top level must be an object'],
  ])('rejects a file that is %s', (_what, path, why) => {
    const line = formatIssues(rejected(loadConfig({ PERF_AGENT_CONFIG_FILE: path })).issues);
    expect(line).toContain('PERF_AGENT_CONFIG_FILE');
    expect(line).toContain(why);
  });
});

describe('PERF_AGENT_CONFIG_FILE that is not a regular file', () => {
  // In a child process with a deadline: before the fix, a FIFO blocked start-up until a writer
  // came and /dev/zero was read without end.
  const loadIn = (path: string): { ok: boolean; line: string } => {
    const script = `const { loadConfig, formatIssues } = require(${JSON.stringify(resolve(__dirname, '../../dist/config'))});
      const r = loadConfig({ PERF_AGENT_CONFIG_FILE: ${JSON.stringify(path)} });
      process.stdout.write(JSON.stringify({ ok: r.ok, line: r.ok ? '' : formatIssues(r.issues) }));`;
    const child = spawnSync(process.execPath, ['-e', script], { timeout: 10_000, encoding: 'utf8' });
    expect(child.signal, 'the child was killed: start-up blocked').toBeNull();
    return JSON.parse(child.stdout);
  };

  it.each([['/dev/zero', 'character device'], ['a FIFO', 'FIFO'], ['a directory', 'directory']])('%s is refused at once, naming why', (label, kind) => {
    let path = label;
    if (label === 'a FIFO') {
      path = join(mkdtempSync(join(tmpdir(), 'perf-agent-fifo-')), 'settings.json');
      execFileSync('mkfifo', [path]);
    } else if (label === 'a directory') {
      path = mkdtempSync(join(tmpdir(), 'perf-agent-dir-'));
    }
    const { ok, line } = loadIn(path);
    expect(ok).toBe(false);
    expect(line).toContain(`PERF_AGENT_CONFIG_FILE=${JSON.stringify(path)}`);
    expect(line).toContain(`not a regular file (a ${kind})`);
  });

  it('refuses a file over 1 MB', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'perf-agent-big-')), 'settings.json');
    writeFileSync(path, `{"sampling": {"rate": 0.5}, "x": "${'y'.repeat(1024 * 1024)}"}`);
    expect(loadIn(path).line).toContain('over the 1048576-byte limit');
  });
});

describe('schema', () => {
  it('derives every variable name from its key', () => {
    for (const setting of SETTINGS) {
      if (setting.key === 'sampling.criticalOperations' || setting.key === 'instrumentation.pgConnectSpans') continue;
      const derived = 'PERF_AGENT_' + setting.key.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
      expect(setting.env, setting.key).toBe(derived);
    }
  });

  it('has every documented PERF_AGENT_ variable', () => {
    const names = SETTINGS.map((s) => s.env);
    for (const name of [
      'PERF_AGENT_ENV', 'PERF_AGENT_CONFIG_FILE', 'PERF_AGENT_SAMPLING_RATE', 'PERF_AGENT_CRITICAL_OPERATIONS',
      'PERF_AGENT_SAMPLING_KEEP_FINDINGS', 'PERF_AGENT_SAMPLING_MAX_TRACES_PER_SECOND', 'PERF_AGENT_N_PLUS_ONE_MIN_REPEATS',
      'PERF_AGENT_THRESHOLDS_QUERY_COUNT_CRITICAL', 'PERF_AGENT_THRESHOLDS_EXECUTION_TIME_MS_EXCELLENT',
      'PERF_AGENT_THRESHOLDS_SLOW_QUERY_MS', 'PERF_AGENT_COMPRESSION_ENABLED', 'PERF_AGENT_ANALYSIS_ENABLED',
      'PERF_AGENT_MEMORY_LIMIT_MB', 'PERF_AGENT_PLUGINS', 'PERF_AGENT_ADMIN_PORT', 'PERF_AGENT_ADMIN_HOST',
      'PERF_AGENT_ADMIN_TOKEN', 'PERF_AGENT_STATE_DIR', 'PERF_AGENT_RETENTION_MEASUREMENTS_DAYS',
      'PERF_AGENT_RETENTION_AGGREGATES_DAYS', 'PERF_AGENT_RETENTION_BASELINES_DAYS', 'PERF_AGENT_LOG_FINDINGS', 'PERF_AGENT_FAIL_ON',
    ]) {
      expect(names).toContain(name);
    }
  });
});
