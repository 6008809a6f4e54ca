/**
 * The single source of every agent setting: its key, environment variable, format, default per
 * environment and meaning. The convict schema, `otel-perf-agent config`, README's table and the
 * admin API are all derived from this list.
 */
import type { ConfigKey } from './types';

export type Environment = 'development' | 'staging' | 'production';

export const ENVIRONMENTS: readonly Environment[] = ['development', 'staging', 'production'];

export type SettingValue = string | number | boolean | string[] | null;

export interface PerEnvironment<T> {
  development: T;
  staging: T;
  production: T;
}

export interface SettingDefinition {
  /** Dotted path in the resolved configuration object. */
  key: ConfigKey;
  env: string;
  /** A name from `FORMATS` in formats.ts. */
  format: string;
  default: SettingValue | PerEnvironment<SettingValue>;
  doc: string;
  /** Masked in every printout (admin token). */
  sensitive?: boolean;
  /** Only read at start: changing it through the admin API is refused. */
  startOnly?: boolean;
}

const perEnv = <T extends SettingValue>(development: T, staging: T, production: T): PerEnvironment<T> => ({
  development,
  staging,
  production,
});

function thresholdGroup(
  group: 'queryCount' | 'executionTimeMs',
  envPart: string,
  defaults: [number, number, number, number],
  unit: string,
): SettingDefinition[] {
  const bands = ['excellent', 'good', 'warning', 'critical'] as const;
  return bands.map((band, i) => ({
    key: `thresholds.${group}.${band}`,
    env: `PERF_AGENT_THRESHOLDS_${envPart}_${band.toUpperCase()}`,
    format: 'positive-number',
    default: defaults[i],
    doc: `Upper bound of ${unit} for a request to still count as ${band}${
      band === 'critical' ? '; above it the request is critical' : ''
    }. The four bands must increase.`,
  }));
}

export const SETTINGS: readonly SettingDefinition[] = [
  {
    key: 'env',
    env: 'PERF_AGENT_ENV',
    format: 'environment',
    default: 'development',
    doc: 'Deployment environment; picks the defaults of every other setting. Defaults to NODE_ENV when that is one of the three, else development.',
    startOnly: true,
  },
  {
    key: 'configFile',
    env: 'PERF_AGENT_CONFIG_FILE',
    format: 'optional-string',
    default: null,
    doc: 'Path of a JSON file holding any of these settings by key (for example {"sampling":{"rate":0.2}}); environment variables win over it. Unknown keys are an error; only a regular file of at most 1 MB is read.',
    startOnly: true,
  },
  {
    key: 'sampling.rate',
    env: 'PERF_AGENT_SAMPLING_RATE',
    format: 'probability',
    default: perEnv(1, 0.5, 0.1),
    doc: 'Probability that a new trace is sampled, decided from the trace id so every service agrees.',
  },
  {
    key: 'sampling.criticalOperations',
    env: 'PERF_AGENT_CRITICAL_OPERATIONS',
    format: 'glob-list',
    default: [],
    doc: 'Comma list of globs (* and ?) matched against the span name and the URL path at start; matching traces are always sampled.',
  },
  {
    key: 'sampling.keepFindings',
    env: 'PERF_AGENT_SAMPLING_KEEP_FINDINGS',
    format: 'switch',
    default: true,
    doc: 'Record traces the sampler dropped so the analyzers see them, and export those with a finding of severity warning or worse, or an error (the request or one of its queries failed).',
  },
  {
    key: 'sampling.keepFindingsMaxPerSecond',
    env: 'PERF_AGENT_SAMPLING_KEEP_FINDINGS_MAX_PER_SECOND',
    format: 'positive-number',
    default: 10,
    doc: 'Requests per operation (method and path template) and second that keep-findings records although the sampler did not keep them; a busier operation has a steady sample of its requests analyzed instead of all, so recording does not cost what 100% sampling costs.',
  },
  {
    key: 'sampling.keepFindingsQuietPerSecond',
    env: 'PERF_AGENT_SAMPLING_KEEP_FINDINGS_QUIET_PER_SECOND',
    format: 'positive-number',
    default: 1,
    doc: 'The same for an operation without a finding (warning or worse) or an error in the last minute in any trace analyzed (sampled or recorded), new operations included; its first finding gives it the rate above. At most that rate: set both alike to record every operation alike.',
  },
  {
    key: 'sampling.maxTracesPerSecond',
    env: 'PERF_AGENT_SAMPLING_MAX_TRACES_PER_SECOND',
    format: 'positive-number',
    default: 100,
    doc: 'Token-bucket limit on traces exported per second, to protect the collector during a spike; traces kept for a finding or an error count against it too.',
  },
  {
    key: 'nPlusOne.minRepeats',
    env: 'PERF_AGENT_N_PLUS_ONE_MIN_REPEATS',
    format: 'repeat-count',
    default: 5,
    doc: 'The same query fingerprint under one parent span this many times is reported as an N+1 pattern.',
  },
  ...thresholdGroup('queryCount', 'QUERY_COUNT', [10, 20, 50, 100], 'database queries'),
  ...thresholdGroup('executionTimeMs', 'EXECUTION_TIME_MS', [50, 500, 2000, 5000], 'milliseconds of request duration'),
  {
    key: 'thresholds.slowQueryMs',
    env: 'PERF_AGENT_THRESHOLDS_SLOW_QUERY_MS',
    format: 'positive-number',
    default: 100,
    doc: 'A single query slower than this many milliseconds is reported as slow_query.',
  },
  {
    key: 'compression.enabled',
    env: 'PERF_AGENT_COMPRESSION_ENABLED',
    format: 'switch',
    default: true,
    doc: 'Collapse repeated sibling query spans into one composite span before export.',
  },
  {
    key: 'compression.exactMatchMaxMs',
    env: 'PERF_AGENT_COMPRESSION_EXACT_MATCH_MAX_MS',
    format: 'non-negative-number',
    default: 50,
    doc: 'Only query spans shorter than this many milliseconds are collapsed by the exact_match strategy (same fingerprint); 0 turns the strategy off.',
  },
  {
    key: 'compression.sameKindMaxMs',
    env: 'PERF_AGENT_COMPRESSION_SAME_KIND_MAX_MS',
    format: 'non-negative-number',
    default: 0,
    doc: 'Only query spans shorter than this many milliseconds are collapsed by the same_kind strategy (any statement, same database); 0 turns the strategy off.',
  },
  {
    key: 'analysis.enabled',
    env: 'PERF_AGENT_ANALYSIS_ENABLED',
    format: 'switch',
    default: true,
    doc: 'Run the analyzers (N+1, slow queries, query count, execution time, plugins) on each local trace.',
  },
  {
    key: 'instrumentation.pgConnectSpans',
    env: 'PERF_AGENT_PG_CONNECT_SPANS',
    format: 'switch',
    default: false,
    doc: 'Emit pg.connect and pg-pool.connect spans; off because they double the span count and rarely say anything.',
    startOnly: true,
  },
  {
    key: 'memoryLimitMb',
    env: 'PERF_AGENT_MEMORY_LIMIT_MB',
    format: 'positive-number',
    default: 100,
    doc: "Cap in megabytes on the agent's own buffers and caches; past it the agent sheds work.",
  },
  {
    key: 'protection.enabled',
    env: 'PERF_AGENT_PROTECTION_ENABLED',
    format: 'switch',
    default: true,
    doc: 'Shed work when the agent passes its memory limit or its overhead limit: first compression and keep-findings, then analysis, then the sampling rate; undone when the pressure is gone.',
  },
  {
    key: 'protection.overheadLimitMs',
    env: 'PERF_AGENT_PROTECTION_OVERHEAD_LIMIT_MS',
    format: 'positive-number',
    default: 2,
    doc: "The agent's own processing time per request (analysis, compression, export hand-off; moving average) above which it sheds work.",
  },
  {
    key: 'plugins',
    env: 'PERF_AGENT_PLUGINS',
    format: 'module-list',
    default: [],
    doc: 'Comma list of module specifiers (package names or paths) loaded at start; each exports an analyzer { name, analyze(trace) } (module.exports or default) or an array of them as analyzers.',
    startOnly: true,
  },
  {
    key: 'admin.port',
    env: 'PERF_AGENT_ADMIN_PORT',
    format: 'tcp-port',
    default: 0,
    doc: 'Port of the admin HTTP API (/perf/health, /perf/report, /perf/patterns, /perf/config); 0 = off.',
    startOnly: true,
  },
  {
    key: 'admin.host',
    env: 'PERF_AGENT_ADMIN_HOST',
    format: 'host-name',
    default: '127.0.0.1',
    doc: 'Address the admin API binds to.',
    startOnly: true,
  },
  {
    key: 'admin.token',
    env: 'PERF_AGENT_ADMIN_TOKEN',
    format: 'optional-string',
    default: null,
    doc: 'Bearer token required to change settings through PATCH /perf/config; unset = the admin API is read-only.',
    sensitive: true,
    startOnly: true,
  },
  {
    key: 'stateDir',
    env: 'PERF_AGENT_STATE_DIR',
    format: 'optional-string',
    default: null,
    doc: 'Directory where baselines persist across restarts; unset = memory only.',
    startOnly: true,
  },
  {
    key: 'retention.measurementsDays',
    env: 'PERF_AGENT_RETENTION_MEASUREMENTS_DAYS',
    format: 'positive-number',
    default: 7,
    doc: 'Days measurement reports are kept.',
  },
  {
    key: 'retention.aggregatesDays',
    env: 'PERF_AGENT_RETENTION_AGGREGATES_DAYS',
    format: 'positive-number',
    default: 30,
    doc: 'Days per-operation aggregates are kept.',
  },
  {
    key: 'retention.baselinesDays',
    env: 'PERF_AGENT_RETENTION_BASELINES_DAYS',
    format: 'positive-number',
    default: 365,
    doc: 'Days baselines are kept.',
  },
  {
    key: 'logFindings',
    env: 'PERF_AGENT_LOG_FINDINGS',
    format: 'switch',
    default: perEnv(true, false, false),
    doc: 'Write one JSON line per finding to stderr.',
  },
  {
    key: 'failOn',
    env: 'PERF_AGENT_FAIL_ON',
    format: 'finding-types',
    default: [],
    doc: 'Comma list of finding types; a process that saw one prints a summary at exit and exits non-zero (for test suites and CI).',
  },
];

export function defaultFor(setting: SettingDefinition, environment: Environment): SettingValue {
  const d = setting.default;
  if (d !== null && typeof d === 'object' && !Array.isArray(d)) return d[environment];
  return d;
}

export function findSetting(key: string): SettingDefinition | undefined {
  return SETTINGS.find((s) => s.key === key);
}
