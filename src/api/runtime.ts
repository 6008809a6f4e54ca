import type { AnalyzedTrace } from '../analysis/types';
import type { AgentConfig, UpdateResult } from '../config';
import type { MeasurementReport } from '../stats/report';
import type { BaselineStore } from './baselines';

/**
 * What the public functions (measure(), getConfig(), updateConfig()) need from the running agent.
 * The agent fills it in when it starts and empties it when it stops, so this folder never
 * imports the wiring above it. Not public.
 */
export interface AgentRuntime {
  /** measure(): be handed the analysis of one trace when its root ends. */
  expectTrace(traceId: string, receive: (result: AnalyzedTrace) => void): void;
  forgetTrace(traceId: string): void;
  baselines: BaselineStore;
  recordReport(report: MeasurementReport): void;
}

/** The started agent's configuration (also of an agent that stayed off). */
export interface ConfigControl {
  readonly config: AgentConfig | undefined;
  updateConfig(patch: Record<string, unknown>): UpdateResult;
}

let runtime: AgentRuntime | undefined;
let control: ConfigControl | undefined;

export function setRuntime(next: AgentRuntime | undefined): void {
  runtime = next;
}

export function getRuntime(): AgentRuntime | undefined {
  return runtime;
}

export function setConfigControl(next: ConfigControl | undefined): void {
  control = next;
}

export function getConfigControl(): ConfigControl | undefined {
  return control;
}
