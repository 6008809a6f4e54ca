export { startAgent, getAgent } from './agent';
export type { AgentHandle, StartOptions } from './agent';
export { getConfig, updateConfig } from './api/config-api';
export { registerAnalyzer, unregisterAnalyzer, listAnalyzers } from './plugins/registry';
export type { AnalyzerStatus, RegisterResult } from './plugins/registry';
export { normalizeSql, fingerprint } from './processing/sql';
export type { Analyzer, AnalyzerContext, CallSite, Finding, Severity, SpanView, TraceView } from './analysis/types';
export type { AgentConfig, ConfigIssue, UpdateResult } from './config';
