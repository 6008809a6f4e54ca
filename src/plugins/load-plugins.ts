import { isAbsolute, resolve } from 'node:path';
import type { AnalyzerRegistry } from './registry';
import { describeError } from '../util/safe';

const EXPECTED = 'a module exporting one analyzer { name, analyze(trace) } (module.exports or default) or an array of them as `analyzers`';

/**
 * Loads PERF_AGENT_PLUGINS at start (synchronously: before the application runs). A plugin that
 * cannot be loaded is reported in one line and skipped; the others and the app carry on.
 */
export function loadPlugins(specifiers: readonly string[], registry: AnalyzerRegistry, cwd = process.cwd()): string[] {
  const problems: string[] = [];
  for (const specifier of specifiers) {
    let exported: unknown;
    try {
      const path = specifier.startsWith('.') || isAbsolute(specifier) ? resolve(cwd, specifier) : require.resolve(specifier, { paths: [cwd] });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exported = require(path);
    } catch (err) {
      problems.push(`PERF_AGENT_PLUGINS: "${specifier}" could not be loaded (${firstLine(err)}); expected ${EXPECTED}`);
      continue;
    }
    // Reading the exports runs the plugin's getters (or a Proxy's traps): they may throw too.
    let candidates: unknown[];
    try {
      candidates = analyzersIn(exported);
    } catch (err) {
      problems.push(`PERF_AGENT_PLUGINS: "${specifier}" could not be read, skipped (its exports threw: ${firstLine(err)}); expected ${EXPECTED}`);
      continue;
    }
    if (candidates.length === 0) {
      problems.push(`PERF_AGENT_PLUGINS: "${specifier}" exports no analyzer; expected ${EXPECTED}`);
      continue;
    }
    for (const candidate of candidates) {
      // The caller prints the problem: the registry must not log it a second time.
      const result = registry.register(candidate, { quiet: true });
      if (!result.ok) problems.push(`PERF_AGENT_PLUGINS: "${specifier}": ${result.error}`);
    }
  }
  return problems;
}

function analyzersIn(exported: unknown): unknown[] {
  if (exported === null || (typeof exported !== 'object' && typeof exported !== 'function')) return [];
  const mod = exported as { analyzers?: unknown; default?: unknown; analyze?: unknown };
  if (Array.isArray(mod.analyzers)) return [...(mod.analyzers as unknown[])];
  if (typeof mod.analyze === 'function') return [mod];
  if (mod.default !== undefined) return analyzersIn(mod.default);
  return [];
}

/** Node's "Cannot find module" message goes on with a multi-line require stack: one line is enough. */
function firstLine(err: unknown): string {
  return describeError(err).split('\n', 1)[0];
}
