/** The JSON lines PERF_AGENT_LOG_FINDINGS wrote on an app's stderr. */
export interface FindingLine {
  summary: string;
  type: string;
  operation: string;
  recommendation: string;
  repeat_count?: number;
  code?: { filepath: string; lineno: number; function?: string };
}

export function findingLines(stderr: string): FindingLine[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"agent":"otel-perf-agent"'))
    .map((line) => JSON.parse(line) as FindingLine);
}
