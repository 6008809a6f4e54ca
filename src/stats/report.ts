import type { Finding, TraceView, TraceSummary } from '../analysis/types';
import { VERSION } from '../util/version';
import { groupByStatement } from '../analysis/statement-groups';
import { describeError } from '../util/safe';
import { boundString, MAX_MESSAGE_CHARS, MAX_OPERATION_CHARS, MAX_PATTERN_CHARS } from './footprint';


/** A finding as reports carry it: what the analyzer said, without the span ids it was about. */
export type ReportFinding = Omit<Finding, 'spanIds' | 'maxMs'>;

export interface Bottleneck {
  fingerprint: string;
  pattern: string;
  count: number;
  totalMs: number;
  /** Share of the request's duration; concurrent queries can add up to more than 100. */
  sharePct: number;
}

export interface MeasurementReport {
  status: 'success' | 'error';
  operation: string;
  target: { type: string; id: string } | null;
  metrics: { queryCount: number; queryTimeMs: number; executionTimeMs: number; healthScore: number | null; health: string | null };
  analysis: { findings: ReportFinding[]; nPlusOne: ReportFinding[]; bottlenecks: Bottleneck[]; recommendations: string[] };
  baseline?: { executionTimeMs: number; queryCount: number; regressionPct: number };
  error?: { name: string; message: string };
  metadata: { timestamp: string; version: string; traceId: string | null; note?: string };
}

const round = (n: number, places = 3): number => Math.round(n * 10 ** places) / 10 ** places;

export function reportFinding(f: Finding): ReportFinding {
  // Reports are kept (per operation, and the latest measurements): every string in them is bounded.
  const out: ReportFinding = { type: f.type, severity: f.severity, message: boundString(f.message, MAX_MESSAGE_CHARS), recommendation: boundString(f.recommendation, MAX_MESSAGE_CHARS) };
  if (f.fingerprint) out.fingerprint = f.fingerprint;
  if (f.pattern) out.pattern = boundString(f.pattern, MAX_PATTERN_CHARS);
  if (f.repeatCount !== undefined) out.repeatCount = f.repeatCount;
  if (f.totalMs !== undefined) out.totalMs = round(f.totalMs);
  if (f.callSite) out.callSite = { ...f.callSite };
  return out;
}

/** The statements that took the most time in this request, by total time. */
export function bottlenecksOf(trace: TraceView, limit = 3): Bottleneck[] {
  const total = trace.root.durationMs || 1;
  return groupByStatement(trace.dbSpans)
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, limit)
    .map((g) => ({ fingerprint: g.fingerprint ?? '', pattern: boundString(g.pattern, MAX_PATTERN_CHARS), count: g.count, totalMs: round(g.totalMs), sharePct: round((g.totalMs / total) * 100, 1) }));
}

export interface ReportInput {
  operation: string;
  target: { type: string; id: string } | null;
  executionTimeMs: number;
  trace?: TraceView;
  findings?: readonly Finding[];
  summary?: TraceSummary;
  error?: unknown;
  baseline?: { executionTimeMs: number; queryCount: number };
  note?: string;
}

export function buildReport(input: ReportInput): MeasurementReport {
  const findings = (input.findings ?? []).map(reportFinding);
  const report: MeasurementReport = {
    status: input.error === undefined ? 'success' : 'error',
    operation: boundString(input.operation, MAX_OPERATION_CHARS),
    target: input.target && { type: boundString(input.target.type, MAX_OPERATION_CHARS), id: boundString(input.target.id, MAX_OPERATION_CHARS) },
    metrics: {
      queryCount: input.summary?.queryCount ?? 0,
      queryTimeMs: input.summary?.queryTimeMs ?? 0,
      executionTimeMs: round(input.executionTimeMs),
      healthScore: input.summary?.healthScore ?? null,
      health: input.summary?.health ?? null,
    },
    analysis: {
      findings,
      nPlusOne: findings.filter((f) => f.type === 'n_plus_one'),
      bottlenecks: input.trace ? bottlenecksOf(input.trace) : [],
      recommendations: [...new Set(findings.map((f) => f.recommendation).filter((r) => r.length > 0))],
    },
    metadata: { timestamp: new Date().toISOString(), version: VERSION, traceId: input.trace?.traceId ?? null },
  };
  if (input.note) report.metadata.note = input.note;
  if (input.baseline && input.baseline.executionTimeMs > 0) {
    report.baseline = {
      executionTimeMs: round(input.baseline.executionTimeMs),
      queryCount: round(input.baseline.queryCount, 1),
      regressionPct: round(((report.metrics.executionTimeMs - input.baseline.executionTimeMs) / input.baseline.executionTimeMs) * 100, 1),
    };
  }
  if (input.error !== undefined) {
    const name = readString(input.error, 'name');
    const message = readString(input.error, 'message');
    report.error = {
      name: name === undefined ? 'Error' : boundString(name, MAX_OPERATION_CHARS),
      message: boundString(message ?? describeError(input.error), MAX_MESSAGE_CHARS),
    };
  }
  return report;
}

/** A string property of whatever was thrown; a getter that throws reads as absent. */
function readString(value: unknown, key: 'name' | 'message'): string | undefined {
  try {
    const v = (value as Record<string, unknown> | null | undefined)?.[key];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
