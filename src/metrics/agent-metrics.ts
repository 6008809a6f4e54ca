import type { Meter } from '@opentelemetry/api';
import type { Finding, TraceSummary } from '../analysis/types';
import { BoundedNames } from './bounded-names';

/** The public metric names; the collector's Prometheus exporter renders them as in collector/alerts.yml. */
export const METRIC = {
  findings: 'perf.findings',
  healthScore: 'perf.request.health_score',
  queryCount: 'perf.request.query_count',
} as const;

/** Distinct operations (and finding types) reported before the rest become `_other`. */
export const MAX_OPERATIONS = 200;
const MAX_FINDING_TYPES = 50;

// Bucket edges chosen for the alerts: health 60 is the p50 threshold, 90 is "excellent".
const HEALTH_BUCKETS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100];
const QUERY_COUNT_BUCKETS = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000];

export interface AnalyzedRequest {
  operation: string;
  summary: TraceSummary;
  findings: readonly Finding[];
}

/**
 * The agent's own metrics, recorded once per analyzed request (every request, sampled or not, so
 * the rates are true rates). Attributes are few and bounded: operation, finding type, severity.
 */
export class AgentMetrics {
  private readonly operations: BoundedNames;
  private readonly types = new BoundedNames(MAX_FINDING_TYPES);
  private readonly findings;
  private readonly healthScore;
  private readonly queryCount;

  constructor(meter: Meter, maxOperations = MAX_OPERATIONS) {
    this.operations = new BoundedNames(maxOperations);
    this.findings = meter.createCounter(METRIC.findings, {
      description: 'Findings of the performance analysis (N+1, slow query, ...), by type, severity and operation',
    });
    this.healthScore = meter.createHistogram(METRIC.healthScore, {
      description: 'Health score of each request (0-100, 100 is best), by operation',
      advice: { explicitBucketBoundaries: HEALTH_BUCKETS },
    });
    this.queryCount = meter.createHistogram(METRIC.queryCount, {
      description: 'Database queries made by each request, by operation',
      unit: '{query}',
      advice: { explicitBucketBoundaries: QUERY_COUNT_BUCKETS },
    });
  }

  record(request: AnalyzedRequest): void {
    const operation = this.operations.name(request.operation);
    this.healthScore.record(request.summary.healthScore, { operation });
    this.queryCount.record(request.summary.queryCount, { operation });
    for (const finding of request.findings) {
      this.findings.add(1, { type: this.types.name(finding.type), severity: finding.severity, operation });
    }
  }
}
