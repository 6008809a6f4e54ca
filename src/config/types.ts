import type { Environment } from './schema';

/** Thresholds of one measure, in increasing order; above `critical` is critical. */
export interface Bands {
  excellent: number;
  good: number;
  warning: number;
  critical: number;
}

/** The resolved configuration; the shape follows the keys in schema.ts. */
export interface AgentConfig {
  env: Environment;
  configFile: string | null;
  sampling: {
    rate: number;
    criticalOperations: string[];
    keepFindings: boolean;
    keepFindingsMaxPerSecond: number;
    keepFindingsQuietPerSecond: number;
    maxTracesPerSecond: number;
  };
  nPlusOne: { minRepeats: number };
  thresholds: {
    queryCount: Bands;
    executionTimeMs: Bands;
    slowQueryMs: number;
  };
  compression: { enabled: boolean; exactMatchMaxMs: number; sameKindMaxMs: number };
  analysis: { enabled: boolean };
  instrumentation: { pgConnectSpans: boolean };
  memoryLimitMb: number;
  protection: { enabled: boolean; overheadLimitMs: number };
  plugins: string[];
  admin: { port: number; host: string; token: string | null };
  stateDir: string | null;
  retention: { measurementsDays: number; aggregatesDays: number; baselinesDays: number };
  logFindings: boolean;
  failOn: string[];
}

/**
 * The dotted path of every setting in AgentConfig ('sampling.rate', 'thresholds.queryCount.good').
 * Each entry of SETTINGS is typed with it, so a setting the type does not have does not compile;
 * test/config/types.test.ts checks the other way round on the configuration built from SETTINGS.
 */
export type ConfigKey = LeafPaths<AgentConfig>;

type Leaf = string | number | boolean | null | readonly unknown[];
type LeafPaths<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends Leaf ? `${Prefix}${K}` : LeafPaths<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** Where a setting's current value came from. */
export type SettingSource = 'default' | 'file' | 'env' | 'runtime';

/** One rejected value, with everything a person needs to fix it. */
export interface ConfigIssue {
  key: string;
  env: string;
  value: unknown;
  allowed: string;
  source: SettingSource;
}
