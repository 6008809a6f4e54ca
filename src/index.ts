export { startAgent, getAgent } from './agent';
export type { AgentHandle, StartOptions } from './agent';
export { getConfig, updateConfig } from './api/config-api';
export { normalizeSql, fingerprint } from './processing/sql';
export type { AgentConfig, ConfigIssue, UpdateResult } from './config';
