import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../support/app-process';

// PERF_AGENT_PLUGINS in a real process: plugins that misbehave while they are read must cost one
// line each and leave the agent and the other plugins working; analyzers see no secrets.
const BUSY_APP = resolve(__dirname, '../fixtures/busy-app.js');
const TOKEN = 'plugin-must-never-see-this-token';

let dir: string;
let app: AppProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perf-agent-bad-plugins-'));
  writeFileSync(join(dir, 'proxy.js'), `module.exports = new Proxy({}, { get() { throw new Error('proxy boom'); }, has() { throw new Error('proxy boom'); } });\n`);
  writeFileSync(join(dir, 'getter.js'), `Object.defineProperty(exports, 'analyzers', { enumerable: true, get() { throw new Error('getter boom'); } });\n`);
  writeFileSync(join(dir, 'half-good.js'), `exports.analyzers = [{ name: 'half_good', analyze() { return []; } }, { name: 'no analyze here' }];\n`);
  writeFileSync(
    join(dir, 'context-spy.js'),
    `let seen = false;
module.exports = { name: 'context_spy', analyze(trace, context) {
  if (!seen) { seen = true; process.stderr.write('CONTEXT ' + JSON.stringify({ keys: Object.keys(context.config), context, frozen: Object.isFrozen(context.config) }) + '\\n'); }
  return [];
} };\n`,
  );
  app = await startApp(BUSY_APP, {
    cwd: dir,
    env: {
      OTEL_TRACES_EXPORTER: 'none',
      PERF_AGENT_LOG_FINDINGS: 'false',
      PERF_AGENT_ADMIN_TOKEN: TOKEN,
      PERF_AGENT_PLUGINS: './proxy.js,./getter.js,./half-good.js,./context-spy.js',
    },
  });
  await fetch(app.url + '/');
  for (let i = 0; i < 50 && !app.stderr().includes('CONTEXT '); i++) await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  await app?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const linesWith = (text: string): string[] => app.stderr().split('\n').filter((l) => l.includes(text));

describe('plugins in a real process', () => {
  it('skips a plugin whose exports throw when read, with one line naming the variable and the module', () => {
    expect(app.stderr()).not.toContain('could not start');
    for (const [module, boom] of [['./proxy.js', 'proxy boom'], ['./getter.js', 'getter boom']]) {
      const lines = linesWith(boom);
      expect(lines, app.stderr()).toHaveLength(1);
      expect(lines[0]).toContain('PERF_AGENT_PLUGINS');
      expect(lines[0]).toContain(`"${module}"`);
    }
  });

  it('reports an invalid analyzer in an array once, and keeps the valid one and the other plugins', () => {
    expect(linesWith('no analyze here'), app.stderr()).toHaveLength(1);
    expect(app.stderr()).toContain('CONTEXT '); // a later plugin still analyzes requests
  });

  it('hands analyzers the analysis settings only, never the admin token', () => {
    const line = linesWith('CONTEXT ')[0];
    expect(line).toBeDefined();
    expect(app.stderr()).not.toContain(TOKEN);
    const seen = JSON.parse(line.slice(line.indexOf('CONTEXT ') + 8));
    expect(seen.keys).toEqual(['env', 'thresholds', 'nPlusOne']);
    expect(seen.context.config.thresholds.slowQueryMs).toBe(100);
    expect(seen.context.config.nPlusOne.minRepeats).toBe(5);
    expect(seen.frozen).toBe(true);
  });
});
