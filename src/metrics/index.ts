export { AgentMetrics, METRIC, MAX_OPERATIONS, type AnalyzedRequest } from './agent-metrics';
export { BoundedNames, OTHER } from './bounded-names';
export { startMetrics, type MetricsHandle } from './start-metrics';
