import type { Attributes, SpanKind } from '@opentelemetry/api';
import type { AgentConfig } from '../config';

/** Where the application issued a query: the first stack frame outside node_modules and the agent. */
export interface CallSite {
  filepath: string;
  lineno: number;
  function?: string;
  /**
   * That frame and up to two application frames that called it, innermost first, one per line
   * (`at findPaymentsForInvoice (/app/routes/payments.js:9)`): the loop above a query helper.
   */
  stack?: string;
  /** The ORM or query builder whose frames lie between this line and the driver. */
  library?: 'sequelize' | 'typeorm' | 'prisma' | 'knex';
}

/** One ended span of a local trace, as analyzers see it. Times are epoch milliseconds. */
export interface SpanView {
  readonly spanId: string;
  /** undefined for the local root (or when the parent is in another process) */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
  /** A database client span (it has db.system.name or db.system). */
  readonly isDb: boolean;
  /** Normalized statement (literals replaced by ?); only on database spans. */
  readonly statement?: string;
  /** perf.query.fingerprint; only on database spans. */
  readonly fingerprint?: string;
  /** db.system.name (or db.system), e.g. postgresql, mysql */
  readonly dbSystem?: string;
  /** The span's status was ERROR. */
  readonly error: boolean;
  readonly attributes: Readonly<Attributes>;
  /**
   * Where this span's start and end fall among the starts and ends of the trace's database spans,
   * as the agent saw them happen: the exact order, where startMs is only whole milliseconds (the
   * SDK stamps starts with Date.now()). Two spans overlapped in time when each started before the
   * other ended. Undefined when the agent did not follow the span (views built by hand, say).
   */
  readonly startOrder?: number;
  readonly endOrder?: number;
  /** Resolved lazily: formatting a stack costs tens of microseconds, so only findings ask for it. */
  callSite(): CallSite | undefined;
}

/** The spans of one request in this process, handed to every analyzer when its local root ends. */
export interface TraceView {
  readonly traceId: string;
  readonly root: SpanView;
  /** Every span of the local trace that ended before the root did, root included, in end order. */
  readonly spans: readonly SpanView[];
  readonly dbSpans: readonly SpanView[];
  /** `GET /members/:id/payments` (method + route when known), else the root span's name. */
  readonly operation: string;
  childrenOf(spanId: string): readonly SpanView[];
}

export type Severity = 'info' | 'warning' | 'critical';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** What an analyzer reports; becomes one `perf.finding` span event on the local root. */
export interface Finding {
  /** n_plus_one, slow_query, query_count, execution_time, or a plugin's own (lowercase_words). */
  type: string;
  severity: Severity;
  message: string;
  recommendation: string;
  fingerprint?: string;
  /** The normalized statement. */
  pattern?: string;
  repeatCount?: number;
  totalMs?: number;
  maxMs?: number;
  callSite?: CallSite;
  /** The spans the finding is about (for compression and reports). */
  spanIds?: string[];
}

/**
 * The settings analysis needs, and nothing else: an analyzer (a plugin included) never sees the
 * admin token, the plugin list, the export or state settings. Read-only (frozen).
 */
export type AnalysisSettings = Readonly<Pick<AgentConfig, 'env' | 'thresholds' | 'nPlusOne'>>;

export interface AnalyzerContext {
  readonly config: AnalysisSettings;
}

/** A built-in or plugin analyzer. `analyze` must be synchronous and fast (microseconds per span). */
export interface Analyzer {
  readonly name: string;
  analyze(trace: TraceView, context: AnalyzerContext): Finding[] | Finding | null | undefined | void;
}

/** The figures set on a local root: its queries, their time, its health. */
export interface TraceSummary {
  queryCount: number;
  queryTimeMs: number;
  healthScore: number;
  health: string;
}

/** One local trace once analyzed: handed to measure() and the statistics. */
export interface AnalyzedTrace {
  trace: TraceView;
  findings: readonly Finding[];
  summary: TraceSummary;
}
