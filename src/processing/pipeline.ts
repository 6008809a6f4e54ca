import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BUILT_IN_ANALYZERS } from '../analysis/analyzers';
import { FailOnGuard } from '../analysis/fail-on';
import { FindingLog } from '../analysis/finding-log';
import { healthScore } from '../analysis/health-score';
import type { ConfigStore } from '../config';
import type { ExportQueue } from '../export/export-queue';
import { analyzerRegistry } from '../plugins/registry';
import { RateLimiter } from '../sampling';
import { compressSpans } from './compression';
import { DbStatementProcessor } from './db-statement-processor';
import { StatementCache } from './sql';
import { TraceBuffer, limitsFor, type TraceListener } from './trace-buffer';

/** Normalized statements repeat; this bounds the memo of raw text -> normalized + fingerprint. */
const STATEMENT_CACHE_ENTRIES = 2000;

export interface Pipeline {
  processors: SpanProcessor[];
  buffer: TraceBuffer;
  failOn: FailOnGuard;
}

/**
 * The span processors in the order they must run: statements are normalized first (so every
 * later step sees fingerprints), then the trace buffer analyzes, decides and compresses, and
 * hands what is exported to the export queue.
 */
export function createPipeline(store: ConfigStore, queue: ExportQueue | undefined): Pipeline {
  for (const analyzer of BUILT_IN_ANALYZERS) {
    if (!analyzerRegistry.list().some((a) => a.name === analyzer.name)) analyzerRegistry.register(analyzer, { builtIn: true });
  }
  const findingLog = new FindingLog();
  const failOn = new FailOnGuard(store.current.failOn);
  // Traces kept for a finding although the dice said no share the collector's protection.
  const keepLimiter = new RateLimiter(store.current.sampling.maxTracesPerSecond);
  store.onChange((config) => {
    failOn.setTypes(config.failOn);
    keepLimiter.setRate(config.sampling.maxTracesPerSecond);
  });

  const onTrace: TraceListener = (trace, findings) => {
    if (findings.length === 0) return;
    const logFindings = store.current.logFindings;
    for (const finding of findings) {
      if (logFindings) findingLog.log(finding, trace.operation, trace.traceId);
      failOn.observe(finding, trace.operation);
    }
  };

  const buffer = new TraceBuffer({
    config: () => store.current,
    analysis: {
      analyze: (trace, config) => analyzerRegistry.run(trace, { config }),
      health: (trace, findings, config) => healthScore(trace, findings, config),
    },
    sink: queue,
    limits: limitsFor(store.current.memoryLimitMb),
    compress: (spans, config) =>
      compressSpans(spans, { exactMatchMaxMs: config.compression.exactMatchMaxMs, sameKindMaxMs: config.compression.sameKindMaxMs }).spans,
    allowKeep: () => keepLimiter.tryTake(),
    onTrace,
  });

  return { processors: [new DbStatementProcessor(new StatementCache(STATEMENT_CACHE_ENTRIES)), buffer], buffer, failOn };
}
