import type { Attributes } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/sdk-trace-base';
import type { Finding, TraceSummary, TraceView } from './types';
import {
  ATTR_CODE_FILEPATH,
  ATTR_CODE_FUNCTION,
  ATTR_FINDING_CALL_STACK,
  ATTR_CODE_LINENO,
  ATTR_FINDING_MESSAGE,
  ATTR_FINDING_RECOMMENDATION,
  ATTR_FINDING_REPEAT_COUNT,
  ATTR_FINDING_SEVERITY,
  ATTR_FINDING_TOTAL_MS,
  ATTR_FINDING_TYPE,
  ATTR_FINDINGS_COUNT,
  ATTR_HEALTH,
  ATTR_HEALTH_SCORE,
  ATTR_N_PLUS_ONE_COUNT,
  ATTR_QUERY_COUNT,
  ATTR_QUERY_FINGERPRINT,
  ATTR_QUERY_PATTERN,
  ATTR_QUERY_TIME_MS,
  FINDING_EVENT,
} from '../semconv';

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export function summarize(trace: TraceView, health: { score: number; health: string }): TraceSummary {
  let queryTimeMs = 0;
  for (const span of trace.dbSpans) queryTimeMs += span.durationMs;
  return { queryCount: trace.dbSpans.length, queryTimeMs: round(queryTimeMs), healthScore: health.score, health: health.health };
}

/** Sets the local root's `perf.*` attributes and one `perf.finding` event per finding; call from onEnding. */
export function annotateRoot(root: Span, summary: TraceSummary, findings: readonly Finding[]): void {
  let nPlusOne = 0;
  for (const finding of findings) {
    if (finding.type === 'n_plus_one') nPlusOne++;
    root.addEvent(FINDING_EVENT, findingAttributes(finding), root.endTime);
  }
  root.setAttributes({
    [ATTR_QUERY_COUNT]: summary.queryCount,
    [ATTR_QUERY_TIME_MS]: summary.queryTimeMs,
    [ATTR_HEALTH_SCORE]: summary.healthScore,
    [ATTR_HEALTH]: summary.health,
    [ATTR_FINDINGS_COUNT]: findings.length,
    [ATTR_N_PLUS_ONE_COUNT]: nPlusOne,
  });
}

export function findingAttributes(finding: Finding): Attributes {
  const attributes: Attributes = {
    [ATTR_FINDING_TYPE]: finding.type,
    [ATTR_FINDING_SEVERITY]: finding.severity,
    [ATTR_FINDING_MESSAGE]: finding.message,
    [ATTR_FINDING_RECOMMENDATION]: finding.recommendation,
  };
  if (finding.fingerprint) attributes[ATTR_QUERY_FINGERPRINT] = finding.fingerprint;
  if (finding.pattern) attributes[ATTR_QUERY_PATTERN] = finding.pattern;
  if (finding.repeatCount !== undefined) attributes[ATTR_FINDING_REPEAT_COUNT] = finding.repeatCount;
  if (finding.totalMs !== undefined) attributes[ATTR_FINDING_TOTAL_MS] = round(finding.totalMs);
  if (finding.callSite) {
    attributes[ATTR_CODE_FILEPATH] = finding.callSite.filepath;
    attributes[ATTR_CODE_LINENO] = finding.callSite.lineno;
    if (finding.callSite.function) attributes[ATTR_CODE_FUNCTION] = finding.callSite.function;
    if (finding.callSite.stack) attributes[ATTR_FINDING_CALL_STACK] = finding.callSite.stack;
  }
  return attributes;
}
