import { ConfigStore, formatIssues, loadConfig, type AgentConfig, type UpdateResult } from './config';
import { createExporter } from './export/create-exporter';
import { ExportQueue, exportQueueOptionsFromEnv } from './export/export-queue';
import { createInstrumentations } from './instrumentation';
import { installExitHooks } from './lifecycle/exit-hooks';
import { loadPlugins } from './plugins/load-plugins';
import { analyzerRegistry, type AnalyzerStatus } from './plugins/registry';
import type { TraceBufferStats } from './processing/trace-buffer';
import type { ProtectionState } from './protection/self-protection';
import { createPipeline } from './pipeline';
import { startSdk } from './sdk-setup';
import { startMetrics } from './metrics';
import { startAdminServer } from './api/admin-server';
import { BaselineStore } from './api/baselines';
import { setConfigControl, setRuntime } from './api/runtime';
import { installDefaultLogger, log, quietedCounts } from './util/log';
import { describeError } from './util/safe';

export interface StartOptions {
  /** Where settings are read from; defaults to process.env. The SDK itself always reads process.env. */
  env?: NodeJS.ProcessEnv;
  /** Flush on SIGTERM/SIGINT, beforeExit and exit. Default true. */
  exitHooks?: boolean;
}

export interface AgentHandle {
  /** False when OTEL_SDK_DISABLED is set or the configuration was rejected: the app runs untraced. */
  readonly enabled: boolean;
  readonly config: AgentConfig | undefined;
  updateConfig(patch: Record<string, unknown>): UpdateResult;
  /** What the agent is doing to itself: shedding level, buffers, export queue, analyzers. */
  status(): AgentStatus | undefined;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface AgentStatus {
  protection: ProtectionState;
  footprintBytes: number;
  traceBuffer: TraceBufferStats;
  exportQueue: ExportQueue['stats'] | undefined;
  analyzers: AnalyzerStatus[];
  /** Repeating SDK warnings said once and then only counted (see util/log.ts), by kind. */
  diagnostics: Record<string, number>;
}

let current: AgentHandle | undefined;

/** The public config functions reach the agent through api/runtime, which the agent fills. */
function setCurrent<T extends AgentHandle | undefined>(handle: T): T {
  current = handle;
  setConfigControl(handle);
  return handle;
}

/**
 * Starts tracing, analysis and export once per process. Never throws: a bad setting is reported
 * in one line on stderr and the application runs untraced.
 */
export function startAgent(options: StartOptions = {}): AgentHandle {
  if (current) return current;
  const env = options.env ?? process.env;
  try {
    return setCurrent(start(env, options.exitHooks !== false));
  } catch (err) {
    process.stderr.write(`otel-perf-agent: could not start, the application runs untraced: ${describeError(err)}\n`);
    return setCurrent(disabledAgent('start failed'));
  }
}

export function getAgent(): AgentHandle | undefined {
  return current;
}

function start(env: NodeJS.ProcessEnv, exitHooks: boolean): AgentHandle {
  if (/^\s*true\s*$/i.test(env.OTEL_SDK_DISABLED ?? '')) return disabledAgent('OTEL_SDK_DISABLED');
  installDefaultLogger(env);

  const loaded = loadConfig(env);
  if (!loaded.ok) {
    process.stderr.write(formatIssues(loaded.issues) + '\n');
    return disabledAgent('invalid configuration');
  }
  const store = new ConfigStore(loaded);
  const config = store.current;

  const exporter = createExporter(env);
  const queue = exporter ? new ExportQueue(exporter, exportQueueOptionsFromEnv(env)) : undefined;
  for (const problem of loadPlugins(config.plugins, analyzerRegistry)) process.stderr.write(`otel-perf-agent: ${problem}\n`);
  const metrics = startMetrics(env);
  const baselines = new BaselineStore(1000, config.stateDir, () => store.current.retention.baselinesDays);
  const pipeline = createPipeline(store, queue, {
    footprint: () => baselines.estimateBytes(),
    onAnalyzed: metrics && (({ trace, findings, summary }) => metrics.record({ operation: trace.operation, findings, summary })),
  });
  setRuntime({
    expectTrace: pipeline.expectTrace,
    forgetTrace: pipeline.forgetTrace,
    baselines,
    recordReport: (report) => pipeline.insights.recordMeasurement(report),
  });

  const sdk = startSdk({
    instrumentations: createInstrumentations(config, pipeline.callSitePolicy, pipeline.incomingRequests),
    spanProcessors: pipeline.processors,
    sampler: pipeline.sampler,
    idGenerator: pipeline.idGenerator,
  });
  const admin = config.admin.port > 0
    ? startAdminServer(config.admin.port, config.admin.host, config.admin.token, { store, insights: pipeline.insights, status: () => handle.status() })
    : undefined;
  log.info(`started (${config.env}); exporting ${exporter ? exporter.description : 'nowhere (OTEL_TRACES_EXPORTER=none)'}`);

  if (metrics) log.info(`metrics: ${metrics.description}`);

  // The trace buffer owns the export queue: flushing it flushes the queue.
  const flush = async (): Promise<void> => {
    await pipeline.buffer.forceFlush();
    await metrics?.forceFlush().catch(() => undefined);
  };
  const removeHooks = exitHooks && queue ? installExitHooks(
    { flush, hasPending: () => hasPending(queue), drainSync: () => queue.drainSync() },
    exporter?.timeoutMillis ?? 1000,
  ) : () => undefined;

  let stopped: Promise<void> | undefined;
  const handle: AgentHandle = {
    enabled: true,
    get config() {
      return store.current;
    },
    updateConfig: (patch) => store.update(patch),
    status: () => ({
      protection: pipeline.protection.state,
      footprintBytes: pipeline.footprint(),
      traceBuffer: pipeline.buffer.stats,
      exportQueue: queue?.stats,
      analyzers: analyzerRegistry.list(),
      diagnostics: Object.fromEntries(quietedCounts),
    }),
    flush,
    shutdown() {
      stopped ??= (async () => {
        removeHooks();
        await admin?.close();
        pipeline.shutdown();
        await baselines.save();
        // The tracer provider shuts the trace buffer down: it hands over what it still holds, then
        // flushes and closes the export queue it owns.
        await sdk.shutdown();
        await metrics?.shutdown().catch(() => undefined);
        setCurrent(undefined);
        setRuntime(undefined);
      })();
      return stopped;
    },
  };
  return handle;
}

function hasPending(queue: ExportQueue): boolean {
  const { queued, inFlight } = queue.stats;
  return queued + inFlight > 0;
}

function disabledAgent(reason: string): AgentHandle {
  return {
    enabled: false,
    config: undefined,
    status: () => undefined,
    updateConfig: () => ({ ok: false, issues: [{ key: '(agent)', env: '-', value: reason, allowed: 'a running agent', source: 'runtime' }] }),
    flush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
