import type { AnalyzedTrace, Finding } from '../analysis/types';
import { OperationAggregates } from './operation-aggregates';
import { PatternLibrary, type PatternEntry } from './pattern-library';
import { statsBudget } from './budget';
import { boundString, MAX_OPERATION_CHARS, stringBytes } from './footprint';
import { buildReport, reportFinding, type MeasurementReport, type ReportFinding } from './report';

/** Findings kept per operation for reports; the newest replace the oldest. */
const FINDINGS_PER_OPERATION = 20;
const MEASUREMENTS_KEPT = 200;

interface OperationFindings {
  list: ReportFinding[];
  next: number;
}

/**
 * What the agent learned over time, for the admin API: the pattern library, per-operation
 * aggregates, the latest findings per operation and the measure() reports. Every part is bounded
 * by the memory limit and pruned by the retention settings.
 */
export class Insights {
  readonly patterns: PatternLibrary;
  readonly aggregates: OperationAggregates;
  private readonly findings = new Map<string, OperationFindings>();
  private measurements: MeasurementReport[] = [];
  private readonly maxOperations: number;

  constructor(memoryLimitMb: number) {
    const budget = statsBudget(memoryLimitMb);
    this.maxOperations = budget.maxOperations;
    this.patterns = new PatternLibrary(budget.patternEntries, { maxBytes: budget.patternBytes });
    this.aggregates = new OperationAggregates({ maxOperations: budget.maxOperations, maxWindows: budget.maxWindows });
  }

  /** Once per analyzed trace: O(database spans) map updates. */
  record({ trace, findings, summary }: AnalyzedTrace, now = Date.now()): void {
    const operation = boundString(trace.operation, MAX_OPERATION_CHARS);
    for (const span of trace.dbSpans) {
      if (span.fingerprint && span.statement) this.patterns.record(span.fingerprint, span.statement, span.durationMs, operation, now);
    }
    let nPlusOne = 0;
    for (const f of findings) if (f.type === 'n_plus_one') nPlusOne++;
    this.aggregates.record(operation, {
      durationMs: trace.root.durationMs,
      queryCount: summary.queryCount,
      queryTimeMs: summary.queryTimeMs,
      error: trace.root.error,
      findings: findings.length,
      nPlusOne,
    }, now);
    if (findings.length > 0) this.keepFindings(operation, findings);
  }

  recordMeasurement(report: MeasurementReport): void {
    if (this.measurements.length >= MEASUREMENTS_KEPT) this.measurements.shift();
    this.measurements.push(report);
  }

  /** One report per operation seen (aggregated), plus the latest measure() report per operation. */
  reports(operation?: string): MeasurementReport[] {
    const out: MeasurementReport[] = [];
    for (const snapshot of this.aggregates.snapshot(operation)) {
      const findings = this.findings.get(snapshot.operation)?.list ?? [];
      const report = buildReport({
        operation: snapshot.operation,
        target: null,
        executionTimeMs: snapshot.duration.p50,
        summary: { queryCount: snapshot.queryCount.p50, queryTimeMs: snapshot.queryTimeMs.p50, healthScore: Number.NaN, health: '' },
        findings: [],
        note: `aggregate of ${snapshot.count} requests since ${new Date(snapshot.from).toISOString()}: medians; p95 ${snapshot.duration.p95} ms, p99 ${snapshot.duration.p99} ms`,
      });
      report.metrics.healthScore = null;
      report.metrics.health = null;
      report.analysis.findings = findings;
      report.analysis.nPlusOne = findings.filter((f) => f.type === 'n_plus_one');
      report.analysis.recommendations = [...new Set(findings.map((f) => f.recommendation).filter(Boolean))];
      report.analysis.bottlenecks = this.bottlenecks(snapshot.operation, snapshot.duration.sum);
      out.push(report);
    }
    const latest = new Map<string, MeasurementReport>();
    for (const m of this.measurements) if (!operation || m.operation === operation) latest.set(m.operation, m);
    out.push(...latest.values());
    return out;
  }

  topPatterns(n: number, by: 'count' | 'totalMs' | 'maxMs' = 'totalMs'): PatternEntry[] {
    return this.patterns.top(n, by);
  }

  estimateBytes(): number {
    let findings = 0;
    for (const [operation, f] of this.findings) {
      findings += stringBytes(operation) + 64;
      for (const r of f.list) findings += 200 + stringBytes(r.message) + stringBytes(r.recommendation) + (r.pattern ? stringBytes(r.pattern) : 0);
    }
    let measurements = 0;
    for (const m of this.measurements) measurements += reportBytes(m);
    return this.patterns.estimateBytes() + this.aggregates.estimateBytes() + findings + measurements;
  }

  /** For the retention timer: reports older than `olderThan` (epoch ms). */
  readonly measurementStore = {
    prune: (olderThan: number): number => {
      const before = this.measurements.length;
      this.measurements = this.measurements.filter((m) => Date.parse(m.metadata.timestamp) >= olderThan);
      return before - this.measurements.length;
    },
  };

  /** For the retention timer: aggregate windows older than `olderThan` (epoch ms), and the findings of the operations that leaves without any. */
  readonly aggregateStore = {
    prune: (olderThan: number): number => {
      const dropped = this.aggregates.prune(olderThan);
      this.pruneFindings();
      return dropped;
    },
  };

  /** Operations whose latest findings are kept. */
  get findingOperations(): number {
    return this.findings.size;
  }

  /** Forgets the findings of operations the aggregates no longer hold (evicted, or expired). */
  pruneFindings(): void {
    const live = new Set(this.aggregates.operations());
    for (const operation of this.findings.keys()) if (!live.has(operation)) this.findings.delete(operation);
  }

  private keepFindings(operation: string, findings: readonly Finding[]): void {
    let kept = this.findings.get(operation);
    if (!kept) {
      // Full: the aggregates evicted an operation to make room for this one, so its findings go
      // too (one pass over at most maxOperations names, only when a new operation has findings).
      if (this.findings.size >= this.maxOperations) this.pruneFindings();
      if (this.findings.size >= this.maxOperations) this.findings.delete(this.findings.keys().next().value as string);
      kept = { list: [], next: 0 };
      this.findings.set(operation, kept);
    }
    for (const finding of findings) {
      const item = reportFinding(finding);
      // One entry per type and statement: the latest occurrence replaces the earlier one.
      const same = indexOfSame(kept.list, item);
      if (same >= 0) kept.list[same] = item;
      else if (kept.list.length < FINDINGS_PER_OPERATION) kept.list.push(item);
      else {
        kept.list[kept.next] = item;
        kept.next = (kept.next + 1) % FINDINGS_PER_OPERATION;
      }
    }
  }

  private bottlenecks(operation: string, totalDurationMs: number) {
    return this.patterns
      .top(50, 'totalMs')
      .filter((p) => p.operations.includes(operation))
      .slice(0, 3)
      .map((p) => ({ fingerprint: p.fingerprint, pattern: p.pattern, count: p.count, totalMs: Math.round(p.totalMs * 1000) / 1000, sharePct: totalDurationMs > 0 ? Math.round((p.totalMs / totalDurationMs) * 1000) / 10 : 0 }));
  }
}

/** A kept report: its fixed structure (about 2 KB measured) plus the strings that vary in length. */
/** Where the list holds a finding of the same type and statement (a loop, not an arrow per call: see util/finished-span.ts). */
function indexOfSame(list: readonly ReportFinding[], item: ReportFinding): number {
  for (let i = 0; i < list.length; i++) if (list[i].type === item.type && list[i].fingerprint === item.fingerprint) return i;
  return -1;
}

function reportBytes(report: MeasurementReport): number {
  let bytes = 2048 + stringBytes(report.operation);
  if (report.error) bytes += stringBytes(report.error.message);
  for (const f of report.analysis.findings) bytes += 200 + stringBytes(f.message) + stringBytes(f.recommendation) + (f.pattern ? stringBytes(f.pattern) : 0);
  for (const b of report.analysis.bottlenecks) bytes += 100 + stringBytes(b.pattern);
  return bytes;
}
