import { getConfigControl } from './runtime';
import type { AgentConfig, UpdateResult } from '../config';

/** The running agent's configuration, or undefined when the agent is off. */
export function getConfig(): AgentConfig | undefined {
  return getConfigControl()?.config;
}

/** Changes settings at run time (validated as a whole; all or nothing). */
export function updateConfig(patch: Record<string, unknown>): UpdateResult {
  const agent = getConfigControl();
  if (!agent) return { ok: false, issues: [{ key: '(agent)', env: '-', value: 'not started', allowed: 'a running agent', source: 'runtime' }] };
  return agent.updateConfig(patch);
}
