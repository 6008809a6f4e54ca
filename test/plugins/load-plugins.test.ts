import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config';
import { loadPlugins } from '../../src/plugins/load-plugins';
import { AnalyzerRegistry } from '../../src/plugins/registry';
import { traceBuilder } from '../support/trace-builder';

const REPO_ROOT = resolve(__dirname, '../..');
const EXPECTED = 'expected a module exporting one analyzer { name, analyze(trace) } (module.exports or default) or an array of them as `analyzers`';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const context = { config: loaded.config };

let dir: string;

/** Writes a CommonJS module under the temporary directory; returns its absolute path. */
function plugin(relativePath: string, source: string): string {
  const path = join(dir, relativePath);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `'use strict';\n${source}\n`);
  return path;
}

const ANALYZER = (name: string, type: string): string =>
  `{ name: ${JSON.stringify(name)}, analyze(trace) { return [{ type: ${JSON.stringify(type)}, severity: 'info', message: 'seen ' + trace.operation, recommendation: '' }]; } }`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'perf-agent-plugins-'));
  plugin('module-exports.js', `module.exports = ${ANALYZER('from_module_exports', 'module_exports_finding')};`);
  plugin('default-export.js', `Object.defineProperty(exports, '__esModule', { value: true });\nexports.default = ${ANALYZER('from_default', 'default_finding')};`);
  plugin('default-analyzers.js', `exports.default = { analyzers: [${ANALYZER('default_list_a', 'a')}, ${ANALYZER('default_list_b', 'b')}] };`);
  plugin('list.js', `exports.analyzers = [${ANALYZER('list_one', 'one')}, ${ANALYZER('list_two', 'two')}];`);
  plugin('half-good.js', `exports.analyzers = [${ANALYZER('half_good', 'good')}, { name: 'no analyze here' }];`);
  plugin('throws.js', `throw new Error('plugin exploded at require');`);
  plugin('nothing.js', `module.exports = { version: 3, helpers: {} };`);
  plugin('empty-list.js', `exports.analyzers = [];`);
  plugin('number.js', `module.exports = 42;`);
  plugin('proxy.js', `module.exports = new Proxy({}, { get() { throw new Error('proxy boom'); } });`);
  plugin('getter-analyze.js', `exports.analyzers = [{ name: 'getter_analyze', get analyze() { throw new Error('getter boom'); } }];`);
  plugin('no-extension.js', `module.exports = ${ANALYZER('no_extension', 'no_extension')};`);
  plugin('node_modules/acme-perf-plugin/main.js', `module.exports = ${ANALYZER('acme', 'acme_finding')};`);
  writeFileSync(join(dir, 'node_modules/acme-perf-plugin/package.json'), JSON.stringify({ name: 'acme-perf-plugin', main: 'main.js' }));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function names(registry: AnalyzerRegistry): string[] {
  return registry.list().map((s) => s.name);
}

describe('loadPlugins', () => {
  it('registers a module whose module.exports is the analyzer, by absolute path', () => {
    const registry = new AnalyzerRegistry();
    const problems = loadPlugins([join(dir, 'module-exports.js')], registry);
    expect(problems).toEqual([]);
    expect(names(registry)).toEqual(['from_module_exports']);
    expect(registry.list()[0].builtIn).toBe(false);
    const trace = traceBuilder({ operation: 'GET /x' }).build();
    expect(registry.run(trace, context).map((f) => [f.type, f.message])).toEqual([['module_exports_finding', 'seen GET /x']]);
  });

  it('resolves a relative path against the given cwd, with or without the extension', () => {
    const registry = new AnalyzerRegistry();
    expect(loadPlugins(['./default-export.js', './no-extension'], registry, dir)).toEqual([]);
    expect(names(registry)).toEqual(['from_default', 'no_extension']);
  });

  it('registers the default export of a compiled ES module, also when it holds `analyzers`', () => {
    const registry = new AnalyzerRegistry();
    expect(loadPlugins(['./default-export.js', './default-analyzers.js'], registry, dir)).toEqual([]);
    expect(names(registry)).toEqual(['from_default', 'default_list_a', 'default_list_b']);
  });

  it('registers every analyzer of an `analyzers` array, in order', () => {
    const registry = new AnalyzerRegistry();
    expect(loadPlugins(['./list.js'], registry, dir)).toEqual([]);
    expect(names(registry)).toEqual(['list_one', 'list_two']);
    const findings = registry.run(traceBuilder().build(), context);
    expect(findings.map((f) => f.type)).toEqual(['one', 'two']);
  });

  it('resolves a package name from node_modules below the cwd', () => {
    const registry = new AnalyzerRegistry();
    expect(loadPlugins(['acme-perf-plugin'], registry, dir)).toEqual([]);
    expect(names(registry)).toEqual(['acme']);
  });

  it('reports a package that does not exist in one line naming it and what is expected, and goes on', () => {
    const registry = new AnalyzerRegistry();
    const problems = loadPlugins(['perf-agent-plugin-that-does-not-exist-4711', './list.js'], registry, dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PERF_AGENT_PLUGINS: "perf-agent-plugin-that-does-not-exist-4711" could not be loaded \(Cannot find module 'perf-agent-plugin-that-does-not-exist-4711'/);
    expect(problems[0]).toContain(`); ${EXPECTED}`);
    expect(names(registry)).toEqual(['list_one', 'list_two']);
  });

  it('reports a missing module in a single line', () => {
    const problems = loadPlugins(['perf-agent-plugin-that-does-not-exist-4711', './missing.js'], new AnalyzerRegistry(), dir);
    expect(problems).toHaveLength(2);
    for (const problem of problems) expect(problem).not.toContain('\n');
  });

  it('reports a path that does not exist', () => {
    const registry = new AnalyzerRegistry();
    const problems = loadPlugins(['./missing.js'], registry, dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PERF_AGENT_PLUGINS: "\.\/missing\.js" could not be loaded \(Cannot find module/);
    expect(names(registry)).toEqual([]);
  });

  it('reports a module that throws while it is required, with the error, and goes on', () => {
    const registry = new AnalyzerRegistry();
    const problems = loadPlugins(['./throws.js', './module-exports.js'], registry, dir);
    expect(problems).toEqual([`PERF_AGENT_PLUGINS: "./throws.js" could not be loaded (plugin exploded at require); ${EXPECTED}`]);
    expect(names(registry)).toEqual(['from_module_exports']);
  });

  it.each([
    ['an object without analyze', './nothing.js'],
    ['an empty analyzers array', './empty-list.js'],
    ['a number', './number.js'],
  ])('reports a module exporting %s as exporting no analyzer', (_label, specifier) => {
    const registry = new AnalyzerRegistry();
    const problems = loadPlugins([specifier], registry, dir);
    expect(problems).toEqual([`PERF_AGENT_PLUGINS: "${specifier}" exports no analyzer; ${EXPECTED}`]);
    expect(names(registry)).toEqual([]);
  });

  it('registers the valid analyzers of a list and reports the invalid one with the registry error', () => {
    const registry = new AnalyzerRegistry();
    const problems = loadPlugins(['./half-good.js'], registry, dir);
    expect(names(registry)).toEqual(['half_good']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBe('PERF_AGENT_PLUGINS: "./half-good.js": expected "name" to be a short string of letters, digits and . _ - / @, got "no analyze here"');
  });

  it('skips a module whose exports throw when read (a Proxy), with one line naming the module, and goes on', () => {
    const registry = new AnalyzerRegistry();
    const problems = loadPlugins(['./proxy.js', './getter-analyze.js', './module-exports.js'], registry, dir);
    expect(problems).toEqual([
      `PERF_AGENT_PLUGINS: "./proxy.js" could not be read, skipped (its exports threw: proxy boom); ${EXPECTED}`,
      'PERF_AGENT_PLUGINS: "./getter-analyze.js": reading the analyzer threw: getter boom',
    ]);
    expect(names(registry)).toEqual(['from_module_exports']);
  });

  it('returns no problems and registers nothing for an empty list', () => {
    const registry = new AnalyzerRegistry();
    expect(loadPlugins([], registry, dir)).toEqual([]);
    expect(names(registry)).toEqual([]);
  });

  it('loads the example plugins by relative path from the repository root, and they analyze', () => {
    const registry = new AnalyzerRegistry();
    const problems = loadPlugins(['./examples/plugins/select-star.js', './examples/plugins/query-in-http-loop.js'], registry, REPO_ROOT);
    expect(problems).toEqual([]);
    expect(names(registry)).toEqual(['select_star', 'query_in_http_loop']);

    const t = traceBuilder({ operation: 'GET /members' });
    t.db('SELECT * FROM members');
    // the registry's time budget is not under test: a cold first run on a busy machine may exceed it
    vi.spyOn(performance, 'now').mockReturnValue(1_000);
    try {
      const findings = registry.run(t.build(), context);
      expect(findings.map((f) => [f.type, f.severity])).toEqual([['select_star', 'info']]);
      expect(registry.list().map((s) => [s.name, s.runs, s.failures])).toEqual([
        ['select_star', 1, 0],
        ['query_in_http_loop', 1, 0],
      ]);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('uses process.cwd() when no cwd is given', () => {
    const previous = process.cwd();
    process.chdir(REPO_ROOT);
    try {
      const registry = new AnalyzerRegistry();
      expect(loadPlugins(['./examples/plugins/select-star.js'], registry)).toEqual([]);
      expect(names(registry)).toEqual(['select_star']);
    } finally {
      process.chdir(previous);
    }
  });
});
