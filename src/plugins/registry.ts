import { performance } from 'node:perf_hooks';
import type { AgentConfig } from '../config';
import type { Analyzer, AnalyzerContext, Finding, Severity, TraceView } from '../analysis/types';
import { log } from '../util/log';
import { describeError } from '../util/safe';

/** An analyzer slower than this on one trace counts as a failure: analysis must cost microseconds. */
export const ANALYZER_BUDGET_MS = 5;
/** After this many failures in a row (throws, unusable results) an analyzer is disabled until it is registered again. */
export const MAX_CONSECUTIVE_FAILURES = 3;
/**
 * Over-budget runs in a row before a plugin is disabled. Wall-clock time also counts the moments
 * the process was descheduled, so one slow run proves little; built-in analyzers are never
 * disabled for time (self-protection sheds analysis as a whole when the agent costs too much).
 */
export const MAX_CONSECUTIVE_OVERRUNS = 10;

const NAME = /^[A-Za-z0-9@][\w.@/-]{0,99}$/;
const FINDING_TYPE = /^[a-z][a-z0-9_]{0,63}$/;
const SEVERITIES = new Set<Severity>(['info', 'warning', 'critical']);

export interface AnalyzerStatus {
  name: string;
  builtIn: boolean;
  disabled: boolean;
  runs: number;
  failures: number;
  lastError?: string;
}

interface Entry extends AnalyzerStatus {
  analyzer: Analyzer;
  consecutiveFailures: number;
  consecutiveOverruns: number;
}

export type RegisterResult = { ok: true } | { ok: false; error: string };

/**
 * The analyzers every local trace goes through, built-in and plugins alike. Each runs isolated:
 * a throw, a result that is not a list of findings, or a run over the time budget is counted and
 * logged once; the request never notices, and an analyzer that keeps failing is disabled.
 */
export class AnalyzerRegistry {
  private readonly entries = new Map<string, Entry>();
  private ordered: Entry[] = [];

  /** `quiet`: the caller reports a refusal itself (PERF_AGENT_PLUGINS prints one line per problem). */
  register(analyzer: unknown, options: { builtIn?: boolean; quiet?: boolean } = {}): RegisterResult {
    let valid: Analyzer | string;
    try {
      valid = checkAnalyzer(analyzer);
    } catch (err) {
      valid = `reading the analyzer threw: ${describeError(err)}`;
    }
    if (typeof valid === 'string') {
      if (!options.quiet) log.warn(`analyzer not registered: ${valid}`);
      return { ok: false, error: valid };
    }
    this.entries.set(valid.name, {
      analyzer: valid,
      name: valid.name,
      builtIn: options.builtIn === true,
      disabled: false,
      runs: 0,
      failures: 0,
      consecutiveFailures: 0,
      consecutiveOverruns: 0,
    });
    this.ordered = [...this.entries.values()];
    return { ok: true };
  }

  unregister(name: string): boolean {
    const removed = this.entries.delete(name);
    if (removed) this.ordered = [...this.entries.values()];
    return removed;
  }

  list(): AnalyzerStatus[] {
    return this.ordered.map(({ name, builtIn, disabled, runs, failures, lastError }) => ({
      name,
      builtIn,
      disabled,
      runs,
      failures,
      ...(lastError ? { lastError } : {}),
    }));
  }

  clear(): void {
    this.entries.clear();
    this.ordered = [];
  }

  run(trace: TraceView, context: AnalyzerContext): Finding[] {
    const findings: Finding[] = [];
    for (const entry of this.ordered) {
      if (entry.disabled) continue;
      entry.runs++;
      const started = performance.now();
      let checked: Finding[] | string;
      try {
        // Inspecting the result runs its getters too: it belongs inside the isolation.
        checked = checkResult(entry.analyzer.analyze(trace, context));
      } catch (err) {
        this.fail(entry, `threw: ${describeError(err)}`);
        continue;
      }
      const elapsed = performance.now() - started;
      if (typeof checked === 'string') {
        this.fail(entry, checked);
        continue;
      }
      entry.consecutiveFailures = 0;
      // The first run pays for loading and compiling: not held against the budget.
      if (elapsed > ANALYZER_BUDGET_MS && entry.runs > 1) {
        // Its findings still count: the time is already spent.
        this.overrun(entry, `took ${elapsed.toFixed(1)} ms, over the ${ANALYZER_BUDGET_MS} ms budget`);
      } else {
        entry.consecutiveOverruns = 0;
      }
      for (const finding of checked) findings.push(finding);
    }
    return findings;
  }

  private overrun(entry: Entry, why: string): void {
    entry.failures++;
    entry.consecutiveOverruns++;
    entry.lastError = why;
    log.warnOnce(`analyzer-time:${entry.name}`, `analyzer "${entry.name}" ${why}; the request was not affected (later overruns are counted, not logged)`);
    if (!entry.builtIn && entry.consecutiveOverruns >= MAX_CONSECUTIVE_OVERRUNS) {
      entry.disabled = true;
      log.warn(`analyzer "${entry.name}" ran over its time budget ${entry.consecutiveOverruns} times in a row and is disabled (last: ${why})`);
    }
  }

  private fail(entry: Entry, why: string): void {
    entry.failures++;
    entry.consecutiveFailures++;
    entry.lastError = why;
    log.warnOnce(`analyzer:${entry.name}`, `analyzer "${entry.name}" ${why}; the request was not affected (later failures are counted, not logged)`);
    if (entry.consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
      entry.disabled = true;
      log.warn(`analyzer "${entry.name}" failed ${entry.consecutiveFailures} times in a row and is disabled (last: ${why})`);
    }
  }
}

/**
 * The analyzer to keep, or why not. Its name and function are read once: a getter is not asked
 * again on every trace, and may not change its answer later.
 */
function checkAnalyzer(analyzer: unknown): Analyzer | string {
  if (analyzer === null || typeof analyzer !== 'object') return `expected an object { name, analyze(trace) }, got ${analyzer === null ? 'null' : typeof analyzer}`;
  const { name, analyze } = analyzer as Partial<Analyzer>;
  if (typeof name !== 'string' || !NAME.test(name)) return `expected "name" to be a short string of letters, digits and . _ - / @, got ${String(JSON.stringify(name)).slice(0, 120)}`;
  if (typeof analyze !== 'function') return `analyzer "${name}" has no analyze(trace) function`;
  return { name, analyze: analyze.bind(analyzer) };
}

/** A list of findings, or why the result is unusable. Fills in what a finding may leave out. */
function checkResult(result: unknown): Finding[] | string {
  if (result === undefined || result === null) return [];
  if (typeof (result as PromiseLike<unknown>).then === 'function') {
    (result as Promise<unknown>).then(undefined, () => undefined); // never an unhandled rejection
    return 'returned a Promise; analyze(trace) must be synchronous';
  }
  const list = Array.isArray(result) ? result : [result];
  for (const item of list) {
    const f = item as Partial<Finding> | null;
    if (f === null || typeof f !== 'object') return `returned ${JSON.stringify(item)} where a finding object belongs`;
    if (typeof f.type !== 'string' || !FINDING_TYPE.test(f.type)) return `returned a finding whose type ${JSON.stringify(f.type)} is not lowercase_words`;
    if (!SEVERITIES.has(f.severity as Severity)) return `returned a finding whose severity ${JSON.stringify(f.severity)} is not info, warning or critical`;
    if (typeof f.message !== 'string' || f.message.length === 0) return `returned a ${f.type} finding without a message`;
    if (f.recommendation !== undefined && typeof f.recommendation !== 'string') return `returned a ${f.type} finding whose recommendation is not a string`;
    if (f.recommendation === undefined) f.recommendation = '';
  }
  return list as Finding[];
}

let lastConfig: AgentConfig | undefined;
let lastContext: AnalyzerContext | undefined;

/**
 * What analyzers are handed for a configuration: the analysis settings only (thresholds, N+1),
 * frozen. Built once per configuration object, so the hot path allocates nothing.
 */
export function analyzerContext(config: AgentConfig): AnalyzerContext {
  if (config !== lastConfig || !lastContext) {
    const settings = Object.freeze({ env: config.env, thresholds: config.thresholds, nPlusOne: config.nPlusOne });
    lastContext = Object.freeze({ config: settings });
    lastConfig = config;
  }
  return lastContext;
}

/** The process-wide registry behind registerAnalyzer() and PERF_AGENT_PLUGINS. */
export const analyzerRegistry = new AnalyzerRegistry();

export function registerAnalyzer(analyzer: Analyzer): RegisterResult {
  return analyzerRegistry.register(analyzer);
}

export function unregisterAnalyzer(name: string): boolean {
  return analyzerRegistry.unregister(name);
}

export function listAnalyzers(): AnalyzerStatus[] {
  return analyzerRegistry.list();
}
