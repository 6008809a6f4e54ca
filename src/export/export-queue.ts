import { context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { log } from '../util/log';
import type { AgentExporter } from './create-exporter';

export interface ExportQueueOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

/** OTEL_BSP_* as the specification defines them, with its defaults. */
export function exportQueueOptionsFromEnv(env: NodeJS.ProcessEnv): ExportQueueOptions {
  const read = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (Number.isInteger(n) && n > 0) return n;
    log.warn(`${name}=${JSON.stringify(raw)} is not a positive whole number; using ${fallback}.`);
    return fallback;
  };
  const maxQueueSize = read('OTEL_BSP_MAX_QUEUE_SIZE', 2048);
  return {
    maxQueueSize,
    maxExportBatchSize: Math.min(read('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512), maxQueueSize),
    scheduledDelayMillis: read('OTEL_BSP_SCHEDULE_DELAY', 5000),
    exportTimeoutMillis: read('OTEL_BSP_EXPORT_TIMEOUT', 30000),
  };
}

function pendingResources(batch: ReadableSpan[]): Promise<void>[] {
  const seen = new Set<unknown>();
  const pending: Promise<void>[] = [];
  for (const span of batch) {
    const resource = span.resource;
    if (!resource.asyncAttributesPending || seen.has(resource) || !resource.waitForAsyncAttributes) continue;
    seen.add(resource);
    pending.push(resource.waitForAsyncAttributes());
  }
  return pending;
}

/**
 * A bounded batching queue in front of the exporter, like the SDK's BatchSpanProcessor but fed
 * by the trace buffer (which owns it and passes its forceFlush and shutdown on), with one
 * addition the agent needs: `drainSync()` delivers whatever is still queued or in flight when
 * the process exits, because an application that calls `process.exit()` leaves no event loop to
 * finish an export.
 */
export class ExportQueue {
  private queue: ReadableSpan[] = [];
  private readonly inFlight = new Set<ReadableSpan[]>();
  private timer: NodeJS.Timeout | undefined;
  private dropped = 0;
  private exported = 0;
  private closed = false;
  /** The last export ended with the collector refusing the connection (nothing listens there). */
  private refused = false;

  constructor(
    private readonly target: AgentExporter,
    private readonly options: ExportQueueOptions,
  ) {}

  add(span: ReadableSpan): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    if (this.queue.length >= this.options.maxQueueSize) {
      this.dropped++;
      log.warnOnce('export-queue-full', `export queue full (${this.options.maxQueueSize} spans): spans are being dropped; is the collector reachable?`);
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.options.maxExportBatchSize) this.exportBatch();
    else this.schedule();
  }

  get stats(): { queued: number; inFlight: number; dropped: number; exported: number } {
    let inFlight = 0;
    for (const batch of this.inFlight) inFlight += batch.length;
    return { queued: this.queue.length, inFlight, dropped: this.dropped, exported: this.exported };
  }

  async forceFlush(): Promise<void> {
    const pending: Promise<void>[] = [];
    while (this.queue.length > 0) pending.push(this.exportBatch());
    for (const batch of this.inFlight) pending.push(this.settled(batch));
    await Promise.all(pending);
  }

  private stopping: Promise<void> | undefined;

  /**
   * Once: later and concurrent calls share the first call's promise. When the last export found
   * the collector refusing connections, it does not wait for retries that cannot succeed: what is
   * still queued or in flight is dropped at once, and counted and said.
   */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.refused) {
        this.giveUp();
        return;
      }
      await this.forceFlush();
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      await this.target.exporter.shutdown();
    })();
    return this.stopping;
  }

  private giveUp(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    let lost = this.queue.length;
    for (const batch of this.inFlight) lost += batch.length;
    this.queue = [];
    this.inFlight.clear(); // their late callbacks find nothing to count
    this.dropped += lost;
    log.warn(`shutdown: the collector refused the connection on the last export (ECONNREFUSED), so nothing more is sent; spans dropped: ${lost} now, ${this.dropped} since start`);
    // The exporter's own shutdown would wait for its retries; its in-flight sends end by themselves.
    void this.target.exporter.shutdown().catch(() => undefined);
  }

  /** Synchronous delivery of everything not yet acknowledged; for the `exit` event only. */
  drainSync(): void {
    const spans: ReadableSpan[] = [];
    for (const batch of this.inFlight) spans.push(...batch);
    spans.push(...this.queue);
    this.queue = [];
    this.inFlight.clear();
    if (spans.length === 0) return;
    if (this.target.exportSync(spans)) this.exported += spans.length;
    else this.dropped += spans.length;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      while (this.queue.length > 0) void this.exportBatch();
    }, this.options.scheduledDelayMillis);
    this.timer.unref(); // never keep the host alive for telemetry
  }

  private readonly waiters = new Map<ReadableSpan[], Promise<void>>();

  private settled(batch: ReadableSpan[]): Promise<void> {
    return this.waiters.get(batch) ?? Promise.resolve();
  }

  private exportBatch(): Promise<void> {
    if (this.timer && this.queue.length <= this.options.maxExportBatchSize) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue.splice(0, this.options.maxExportBatchSize);
    if (batch.length === 0) return Promise.resolve();
    this.inFlight.add(batch);
    const done = new Promise<void>((resolve) => {
      const timeout = setTimeout(() => finish(false, 'timed out'), this.options.exportTimeoutMillis);
      timeout.unref();
      let finished = false;
      const finish = (ok: boolean, why?: string, error?: unknown): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timeout);
        this.refused = !ok && isConnectionRefused(error, why);
        if (this.inFlight.delete(batch)) {
          if (ok) this.exported += batch.length;
          else {
            this.dropped += batch.length;
            log.warnOnce('export-failed', `export of ${batch.length} spans failed (${why}); later failures are counted in the export queue's stats, not logged.`);
          }
        }
        this.waiters.delete(batch);
        resolve();
      };
      // Export without tracing, or the exporter's own HTTP request would become a span.
      const send = (): void =>
        context.with(suppressTracing(context.active()), () => {
          try {
            this.target.exporter.export(batch, (result) =>
              finish(result.code === ExportResultCode.SUCCESS, result.error?.message ?? 'rejected', result.error),
            );
          } catch (err) {
            finish(false, (err as Error).message, err);
          }
        });
      // Resource detectors (host id) may still be settling just after start; wait as the SDK does.
      const pending = pendingResources(batch);
      if (pending.length === 0) send();
      else Promise.all(pending).then(send, send);
    });
    // A synchronous exporter may already have finished; remember only what is still pending.
    if (this.inFlight.has(batch)) this.waiters.set(batch, done);
    return done;
  }
}

/** ECONNREFUSED, however the exporter wrapped it (code on the error or its cause, or in the message). */
function isConnectionRefused(error: unknown, why: string | undefined): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return e?.code === 'ECONNREFUSED' || e?.cause?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(why ?? '');
}
