import type { Attributes } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/sdk-trace-base';
import type { Finding, TraceView } from './types';

export const ATTR = {
  queryCount: 'perf.query_count',
  queryTimeMs: 'perf.query_time_ms',
  healthScore: 'perf.health_score',
  health: 'perf.health',
  findingsCount: 'perf.findings.count',
  nPlusOneCount: 'perf.n_plus_one.count',
  samplingReason: 'perf.sampling.reason',
  samplingRate: 'perf.sampling.rate',
} as const;

export const FINDING_EVENT = 'perf.finding';

export interface TraceSummary {
  queryCount: number;
  queryTimeMs: number;
  healthScore: number;
  health: string;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export function summarize(trace: TraceView, health: { score: number; health: string }): TraceSummary {
  let queryTimeMs = 0;
  for (const span of trace.dbSpans) queryTimeMs += span.durationMs;
  return { queryCount: trace.dbSpans.length, queryTimeMs: round(queryTimeMs), healthScore: health.score, health: health.health };
}

/** Sets DESIGN's root attributes and one `perf.finding` event per finding; call from onEnding. */
export function annotateRoot(root: Span, summary: TraceSummary, findings: readonly Finding[]): void {
  let nPlusOne = 0;
  for (const finding of findings) {
    if (finding.type === 'n_plus_one') nPlusOne++;
    root.addEvent(FINDING_EVENT, findingAttributes(finding), root.endTime);
  }
  root.setAttributes({
    [ATTR.queryCount]: summary.queryCount,
    [ATTR.queryTimeMs]: summary.queryTimeMs,
    [ATTR.healthScore]: summary.healthScore,
    [ATTR.health]: summary.health,
    [ATTR.findingsCount]: findings.length,
    [ATTR.nPlusOneCount]: nPlusOne,
  });
}

export function findingAttributes(finding: Finding): Attributes {
  const attributes: Attributes = {
    'perf.finding.type': finding.type,
    'perf.finding.severity': finding.severity,
    'perf.finding.message': finding.message,
    'perf.finding.recommendation': finding.recommendation,
  };
  if (finding.fingerprint) attributes['perf.query.fingerprint'] = finding.fingerprint;
  if (finding.pattern) attributes['perf.query.pattern'] = finding.pattern;
  if (finding.repeatCount !== undefined) attributes['perf.finding.repeat_count'] = finding.repeatCount;
  if (finding.totalMs !== undefined) attributes['perf.finding.total_ms'] = round(finding.totalMs);
  if (finding.callSite) {
    attributes['code.filepath'] = finding.callSite.filepath;
    attributes['code.lineno'] = finding.callSite.lineno;
    if (finding.callSite.function) attributes['code.function'] = finding.callSite.function;
  }
  return attributes;
}
