import { SpanKind } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { AnalyzedTrace } from './analysis/types';
import { captureStack } from './analysis/call-site';
import { BUILT_IN_ANALYZERS } from './analysis/analyzers';
import { FailOnGuard } from './analysis/fail-on';
import { FindingLog } from './analysis/finding-log';
import { healthScore } from './analysis/health-score';
import type { AgentConfig, ConfigStore } from './config';
import type { ExportQueue } from './export/export-queue';
import { analyzerContext, analyzerRegistry } from './plugins/registry';
import type { CallSitePolicy } from './instrumentation/call-site-instrumentation';
import { setShadowPolicy } from './instrumentation/unsampled-fast-path';
import { SelfProtection } from './protection/self-protection';
import { Insights, footprintBytes, startRetention, traceBufferBudget } from './stats';
import { PerfSampler, PresetIdGenerator, RateLimiter, type Clock } from './sampling';
import type { IncomingRequestDecision } from './instrumentation/http-server-fast-path';
import { compressSpans } from './compression';
import { DbStatementProcessor } from './processing/db-statement-processor';
import { StatementCache } from './sql';
import { TraceBuffer, keepReason, type TraceListener } from './processing/trace-buffer';

/** Normalized statements repeat; this bounds the memo of raw text -> normalized + fingerprint. */
const STATEMENT_CACHE_ENTRIES = 2000;

export interface Pipeline {
  /** measure(): be handed the analysis of one trace when its root ends. */
  expectTrace(traceId: string, receive: (result: AnalyzedTrace) => void): void;
  forgetTrace(traceId: string): void;
  processors: SpanProcessor[];
  sampler: PerfSampler;
  /** The tracer's ids: a trace decided ahead (incoming requests) gets the id it was decided for. */
  idGenerator: PresetIdGenerator;
  /** For the incoming-request wrapper: the sampler's decision before instrumentation-http starts its span. */
  incomingRequests: IncomingRequestDecision;
  buffer: TraceBuffer;
  /** For the driver wrappers (CallSiteInstrumentation): which queries get a stack capture. */
  callSitePolicy: CallSitePolicy;
  protection: SelfProtection;
  insights: Insights;
  /** The agent's estimate of its own memory, in bytes. */
  footprint(): number;
  shutdown(): void;
}

/**
 * The sampler and the span processors, in the order they must run: statements are normalized
 * first (so every later step sees fingerprints), then the trace buffer analyzes, decides and
 * compresses, and hands what is exported to the export queue, which it owns (the provider's
 * forceFlush and shutdown reach the queue through it). Everything reads the configuration
 * in force: the user's, minus what self-protection currently sheds.
 */
export interface PipelineOptions {
  /** Clock of the export and keep-findings budgets, in milliseconds (tests pass a fake one). */
  now?: Clock;
  /** Bytes held outside the pipeline (the baselines), counted in the agent's footprint. */
  footprint?: () => number;
  /** Also handed every analyzed trace (the agent's metrics). */
  onAnalyzed?: (result: AnalyzedTrace) => void;
}

export function createPipeline(store: ConfigStore, queue: ExportQueue | undefined, options: PipelineOptions = {}): Pipeline {
  for (const analyzer of BUILT_IN_ANALYZERS) {
    if (!analyzerRegistry.list().some((a) => a.name === analyzer.name)) analyzerRegistry.register(analyzer, { builtIn: true });
  }
  const statements = new StatementCache(STATEMENT_CACHE_ENTRIES);
  const findingLog = new FindingLog();
  const failOn = new FailOnGuard(store.current.failOn);
  // One budget of exported traces per second (maxTracesPerSecond): what the sampler keeps and
  // what the trace buffer keeps for a finding or an error although the dice said no.
  const exportBudget = new RateLimiter(Infinity, options.now);
  const sampler = new PerfSampler(store.current.sampling, { budget: exportBudget, now: options.now });

  const insights = new Insights(store.current.memoryLimitMb);
  const retention = startRetention({
    patterns: insights.patterns,
    aggregates: insights.aggregateStore,
    measurements: insights.measurementStore,
    config: () => ({ aggregatesDays: store.current.retention.aggregatesDays, measurementsDays: store.current.retention.measurementsDays }),
  });
  let buffer: TraceBuffer | undefined;
  const footprint = (): number => {
    const queued = queue ? queue.stats.queued + queue.stats.inFlight : 0;
    return footprintBytes({ spans: (buffer?.stats.bufferedSpans ?? 0) + queued, statements: statements.size, statsBytes: insights.estimateBytes() + statements.keyBytes + (options.footprint?.() ?? 0) });
  };
  const protection = new SelfProtection({
    config: () => store.current,
    limits: () => ({
      enabled: store.current.protection.enabled,
      memoryBytes: store.current.memoryLimitMb * 1048576,
      overheadMs: store.current.protection.overheadLimitMs,
    }),
    footprint,
    onChange: (effective) => sampler.update(effective.sampling),
  });
  const inForce = (): AgentConfig => protection.effective();
  store.onChange(() => {
    const config = inForce();
    sampler.update(config.sampling);
    failOn.setTypes(config.failOn);
  });

  const waiting = new Map<string, (result: AnalyzedTrace) => void>();
  const onTrace: TraceListener = (trace, findings, summary) => {
    if (waiting.size > 0) waiting.get(trace.traceId)?.({ trace, findings, summary });
    insights.record({ trace, findings, summary });
    options.onAnalyzed?.({ trace, findings, summary });
    // Keep-findings records an operation at its full rate while it has findings (OperationBudget).
    if (keepReason(trace, findings) !== undefined) sampler.noteFinding(trace.operation, trace.root.name, trace.root.attributes);
    if (findings.length === 0) return;
    const logFindings = store.current.logFindings;
    for (const finding of findings) {
      if (logFindings) findingLog.log(finding, trace.operation, trace.traceId);
      failOn.observe(finding, trace.operation);
    }
  };

  buffer = new TraceBuffer({
    config: inForce,
    analysis: {
      analyze: (trace, config) => analyzerRegistry.run(trace, analyzerContext(config)),
      health: (trace, findings, config) => healthScore(trace, findings, config),
    },
    sink: queue,
    limits: traceBufferBudget(store.current.memoryLimitMb),
    compress: (spans, config) =>
      compressSpans(spans, { exactMatchMaxMs: config.compression.exactMatchMaxMs, sameKindMaxMs: config.compression.sameKindMaxMs }).spans,
    allowKeep: () => exportBudget.tryTake(),
    onTrace,
    onOverhead: (ms) => protection.recordOverhead(ms),
    fingerprintOf: (text, dialect) => statements.get(text, dialect).fingerprint,
    // Shadow queries carry their dialect (unsampled-fast-path.ts pgShadowPath, mysqlShadowPath).
    normalize: (text, dialect) => statements.get(text, dialect),
  });
  const traceBuffer = buffer;
  // The driver wrappers outlive a stopped agent (instrumentations stay patched): they then
  // capture every query, as they do with no policy.
  let stopped = false;
  const callSitePolicy: CallSitePolicy = (active, statement, skipAbove, dialect) =>
    stopped ? captureStack(skipAbove) : traceBuffer.callSiteFor(active, statement, skipAbove, dialect);
  setShadowPolicy((active, traceId, parentSpanId, query, skipAbove) => traceBuffer.startShadow(active, traceId, parentSpanId, query, skipAbove));

  const idGenerator = new PresetIdGenerator();
  const incomingRequests: IncomingRequestDecision = {
    decide: (parent, traceId, spanName, attributes) => sampler.decideAhead(parent, traceId, spanName, SpanKind.SERVER, attributes),
    handOver: (traceId, newTrace) => {
      if (newTrace) idGenerator.presetTraceId(traceId);
    },
    clearHandOver: () => {
      idGenerator.presetTraceId(undefined);
      sampler.dropAhead();
    },
    newTraceId: () => idGenerator.generateTraceId(),
    newSpanId: () => idGenerator.generateSpanId(),
  };

  return {
    expectTrace: (traceId, receive) => waiting.set(traceId, receive),
    forgetTrace: (traceId) => waiting.delete(traceId),
    processors: [new DbStatementProcessor(statements), buffer],
    sampler,
    idGenerator,
    incomingRequests,
    buffer,
    callSitePolicy,
    protection,
    insights,
    footprint,
    shutdown: () => {
      stopped = true;
      setShadowPolicy(undefined);
      protection.stop();
      retention.stop();
    },
  };
}
