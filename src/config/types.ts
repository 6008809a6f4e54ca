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
