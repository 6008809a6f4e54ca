import { context, diag, DiagLogLevel } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, isTracingSuppressed, type ExportResult } from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import type { AgentExporter } from '../../src/export/create-exporter';
import { ExportQueue, exportQueueOptionsFromEnv, type ExportQueueOptions } from '../../src/export/export-queue';

type Callback = (result: ExportResult) => void;

/** A fake AgentExporter: records every batch; answers at once, or later when `manual`. */
class FakeTarget implements AgentExporter {
  readonly batches: ReadableSpan[][] = [];
  readonly callbacks: Callback[] = [];
  readonly syncBatches: ReadableSpan[][] = [];
  readonly suppressed: boolean[] = [];
  readonly description = 'fake';
  shutdowns = 0;
  syncResult = true;
  answer: 'success' | 'failure' | 'manual' | 'throw' = 'success';
  readonly exporter: SpanExporter;

  constructor() {
    this.exporter = {
      export: (spans, callback) => {
        this.suppressed.push(isTracingSuppressed(context.active()));
        this.batches.push(spans);
        if (this.answer === 'throw') throw new Error('exporter exploded');
        if (this.answer === 'manual') this.callbacks.push(callback);
        else if (this.answer === 'success') callback({ code: ExportResultCode.SUCCESS });
        else callback({ code: ExportResultCode.FAILED, error: new Error('collector said 503') });
      },
      shutdown: async () => {
        this.shutdowns++;
      },
    };
  }

  exportSync(spans: ReadableSpan[]): boolean {
    this.syncBatches.push(spans);
    return this.syncResult;
  }

  get exportedCount(): number {
    return this.batches.reduce((n, b) => n + b.length, 0);
  }
}

const OPTIONS: ExportQueueOptions = { maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelayMillis: 1000, exportTimeoutMillis: 30_000 };

const providers: BasicTracerProvider[] = [];

/** Ended, sampled spans with the SDK's default resource. */
function spans(count: number, prefix = 's'): ReadableSpan[] {
  const collected: ReadableSpan[] = [];
  const provider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [
      {
        onStart: () => undefined,
        onEnd: (span) => collected.push(span),
        forceFlush: async () => undefined,
        shutdown: async () => undefined,
      },
    ],
  });
  providers.push(provider);
  const tracer = provider.getTracer('export-queue-test');
  for (let i = 0; i < count; i++) tracer.startSpan(`${prefix}${i}`).end();
  return collected;
}

const names = (list: ReadableSpan[]): string[] => list.map((s) => s.name);
const flushMicrotasks = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

afterEach(async () => {
  vi.useRealTimers();
  for (const p of providers.splice(0)) await p.shutdown();
});

describe('ExportQueue', () => {
  it('exports a full batch at once, in order, and keeps the rest queued', () => {
    const target = new FakeTarget();
    const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 3 });
    for (const span of spans(7)) queue.add(span);
    expect(target.batches.map(names)).toEqual([
      ['s0', 's1', 's2'],
      ['s3', 's4', 's5'],
    ]);
    expect(queue.stats).toEqual({ queued: 1, inFlight: 0, dropped: 0, exported: 6 });
  });

  it('exports a partial batch after the scheduled delay, not before', () => {
    vi.useFakeTimers();
    const target = new FakeTarget();
    const queue = new ExportQueue(target, { ...OPTIONS, scheduledDelayMillis: 500 });
    for (const span of spans(2)) queue.add(span);
    vi.advanceTimersByTime(499);
    expect(target.batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(target.batches.map(names)).toEqual([['s0', 's1']]);
    expect(queue.stats).toMatchObject({ queued: 0, exported: 2 });

    // the delay starts again with the next span
    queue.add(spans(1, 'later')[0]);
    vi.advanceTimersByTime(499);
    expect(target.batches).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(target.batches.map(names)).toEqual([['s0', 's1'], ['later0']]);
  });

  it('does not export twice when a full batch went out before the delay', () => {
    vi.useFakeTimers();
    const target = new FakeTarget();
    const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 2, scheduledDelayMillis: 100 });
    const [a, b] = spans(2);
    queue.add(a);
    queue.add(b);
    expect(target.batches).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(target.batches).toHaveLength(1);
  });

  it('does not hold the process open with its timer', () => {
    const target = new FakeTarget();
    const queue = new ExportQueue(target, OPTIONS);
    queue.add(spans(1)[0]);
    const timer = (queue as unknown as { timer: NodeJS.Timeout | undefined }).timer;
    expect(timer).toBeDefined();
    expect(timer?.hasRef()).toBe(false);
  });

  it('bounds the queue at maxQueueSize and counts what it drops', () => {
    const target = new FakeTarget();
    const queue = new ExportQueue(target, { ...OPTIONS, maxQueueSize: 5, maxExportBatchSize: 10 });
    for (const span of spans(8)) queue.add(span);
    expect(queue.stats).toEqual({ queued: 5, inFlight: 0, dropped: 3, exported: 0 });
  });

  it('counts spans of a batch still in flight, and frees queue room as batches leave', () => {
    const target = new FakeTarget();
    target.answer = 'manual';
    const queue = new ExportQueue(target, { ...OPTIONS, maxQueueSize: 4, maxExportBatchSize: 2 });
    for (const span of spans(6)) queue.add(span);
    expect(queue.stats).toEqual({ queued: 0, inFlight: 6, dropped: 0, exported: 0 });
    for (const cb of target.callbacks) cb({ code: ExportResultCode.SUCCESS });
    expect(queue.stats).toEqual({ queued: 0, inFlight: 0, dropped: 0, exported: 6 });
  });

  it('forceFlush exports what is queued and waits for exports in flight', async () => {
    const target = new FakeTarget();
    target.answer = 'manual';
    const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 2 });
    for (const span of spans(3)) queue.add(span); // one batch in flight, one span queued
    expect(target.batches).toHaveLength(1);
    let flushed = false;
    const flushing = queue.forceFlush().then(() => {
      flushed = true;
    });
    expect(target.batches.map(names)).toEqual([['s0', 's1'], ['s2']]);
    await flushMicrotasks();
    expect(flushed).toBe(false);
    target.callbacks[0]({ code: ExportResultCode.SUCCESS });
    await flushMicrotasks();
    expect(flushed).toBe(false);
    target.callbacks[1]({ code: ExportResultCode.SUCCESS });
    await flushing;
    expect(queue.stats).toEqual({ queued: 0, inFlight: 0, dropped: 0, exported: 3 });
  });

  it('forceFlush with nothing to do resolves at once', async () => {
    const queue = new ExportQueue(new FakeTarget(), OPTIONS);
    await expect(queue.forceFlush()).resolves.toBeUndefined();
  });

  it('counts the spans of a failed export as dropped', async () => {
    const target = new FakeTarget();
    target.answer = 'failure';
    const queue = new ExportQueue(target, OPTIONS);
    for (const span of spans(4)) queue.add(span);
    await queue.forceFlush();
    expect(queue.stats).toEqual({ queued: 0, inFlight: 0, dropped: 4, exported: 0 });
  });

  it('counts the spans of an exporter that throws as dropped, and the throw stays inside', async () => {
    const target = new FakeTarget();
    target.answer = 'throw';
    const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 2 });
    const [a, b] = spans(2);
    queue.add(a);
    expect(() => queue.add(b)).not.toThrow();
    await queue.forceFlush();
    expect(queue.stats).toMatchObject({ dropped: 2, exported: 0, inFlight: 0 });
  });

  it('gives up on an export after exportTimeoutMillis, and a late answer changes nothing', async () => {
    vi.useFakeTimers();
    const target = new FakeTarget();
    target.answer = 'manual';
    const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 2, exportTimeoutMillis: 1000 });
    for (const span of spans(2)) queue.add(span);
    vi.advanceTimersByTime(999);
    expect(queue.stats).toMatchObject({ inFlight: 2, dropped: 0 });
    vi.advanceTimersByTime(1);
    expect(queue.stats).toMatchObject({ inFlight: 0, dropped: 2, exported: 0 });
    target.callbacks[0]({ code: ExportResultCode.SUCCESS });
    expect(queue.stats).toMatchObject({ inFlight: 0, dropped: 2, exported: 0 });
    await queue.forceFlush();
  });

  describe('with a context manager', () => {
    const manager = new AsyncLocalStorageContextManager();
    beforeAll(() => {
      manager.enable();
      context.setGlobalContextManager(manager);
    });
    afterAll(() => {
      context.disable();
    });

    it('exports with tracing suppressed, so the exporter never traces itself', async () => {
      const target = new FakeTarget();
      const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 1 });
      queue.add(spans(1)[0]);
      queue.add(spans(1)[0]);
      await queue.forceFlush();
      expect(target.suppressed).toEqual([true, true]);
      expect(isTracingSuppressed(context.active())).toBe(false);
    });

    it('also when the export waits for async resource attributes', async () => {
      const target = new FakeTarget();
      const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 1 });
      let settle: () => void = () => undefined;
      const pending = new Promise<void>((resolve) => (settle = resolve));
      const base = spans(1)[0];
      const resource = Object.create(base.resource, {
        asyncAttributesPending: { value: true },
        waitForAsyncAttributes: { value: () => pending },
      });
      const span = Object.create(base, { resource: { value: resource } }) as ReadableSpan;
      queue.add(span);
      await flushMicrotasks();
      expect(target.batches).toEqual([]);
      expect(queue.stats.inFlight).toBe(1);
      settle();
      await queue.forceFlush();
      expect(target.batches).toHaveLength(1);
      expect(target.suppressed).toEqual([true]);
      expect(queue.stats).toMatchObject({ inFlight: 0, exported: 1 });
    });
  });

  it('exports even when waiting for async resource attributes fails', async () => {
    const target = new FakeTarget();
    const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 1 });
    const base = spans(1)[0];
    const resource = Object.create(base.resource, {
      asyncAttributesPending: { value: true },
      waitForAsyncAttributes: { value: () => Promise.reject(new Error('detector failed')) },
    });
    queue.add(Object.create(base, { resource: { value: resource } }) as ReadableSpan);
    await queue.forceFlush();
    expect(target.batches).toHaveLength(1);
    expect(queue.stats.exported).toBe(1);
  });

  describe('drainSync', () => {
    it('hands queued and in-flight spans to exportSync in one call and counts them exported', () => {
      const target = new FakeTarget();
      target.answer = 'manual';
      const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 2 });
      for (const span of spans(3)) queue.add(span); // s0, s1 in flight; s2 queued
      queue.drainSync();
      expect(target.syncBatches.map(names)).toEqual([['s0', 's1', 's2']]);
      expect(queue.stats).toEqual({ queued: 0, inFlight: 0, dropped: 0, exported: 3 });
      // the asynchronous export answering afterwards does not count them again
      target.callbacks[0]({ code: ExportResultCode.SUCCESS });
      expect(queue.stats.exported).toBe(3);
    });

    it('counts them dropped when the synchronous delivery fails', () => {
      const target = new FakeTarget();
      target.syncResult = false;
      const queue = new ExportQueue(target, OPTIONS);
      for (const span of spans(3)) queue.add(span);
      queue.drainSync();
      expect(target.syncBatches).toHaveLength(1);
      expect(queue.stats).toEqual({ queued: 0, inFlight: 0, dropped: 3, exported: 0 });
    });

    it('does not call exportSync when nothing is pending', () => {
      const target = new FakeTarget();
      const queue = new ExportQueue(target, OPTIONS);
      queue.drainSync();
      expect(target.syncBatches).toEqual([]);
    });
  });

  describe('shutdown', () => {
    it('flushes, shuts the exporter down once and takes no more spans', async () => {
      const target = new FakeTarget();
      const queue = new ExportQueue(target, OPTIONS);
      for (const span of spans(2)) queue.add(span);
      await queue.shutdown();
      expect(target.batches.map(names)).toEqual([['s0', 's1']]);
      expect(target.shutdowns).toBe(1);
      await queue.shutdown();
      expect(target.shutdowns).toBe(1);
      queue.add(spans(1)[0]);
      // A span after shutdown is refused and counted as dropped.
      expect(queue.stats).toEqual({ queued: 0, inFlight: 0, dropped: 1, exported: 2 });
      await queue.forceFlush();
      expect(target.batches).toHaveLength(1);
    });

    it('waits for an export in flight before shutting the exporter down', async () => {
      const target = new FakeTarget();
      target.answer = 'manual';
      const queue = new ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 1 });
      queue.add(spans(1)[0]);
      const done = queue.shutdown();
      await flushMicrotasks();
      expect(target.shutdowns).toBe(0);
      target.callbacks[0]({ code: ExportResultCode.SUCCESS });
      await done;
      expect(target.shutdowns).toBe(1);
      expect(queue.stats.exported).toBe(1);
    });

    it('shuts the exporter down once when shutdown() is called twice at the same time', async () => {
      const target = new FakeTarget();
      const queue = new ExportQueue(target, OPTIONS);
      queue.add(spans(1)[0]);
      await Promise.all([queue.shutdown(), queue.shutdown()]);
      expect(target.shutdowns).toBe(1);
    });
  });

  it('warns once (per process) when the queue is full, and once about failed exports', async () => {
    // a fresh copy of the module graph: the agent's warn-once memory is per process
    vi.resetModules();
    const fresh = await import('../../src/export/export-queue');
    const warn = vi.fn();
    diag.setLogger({ warn, error: vi.fn(), info: vi.fn(), debug: vi.fn(), verbose: vi.fn() }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    try {
      const full = new fresh.ExportQueue(new FakeTarget(), { ...OPTIONS, maxQueueSize: 1, maxExportBatchSize: 5 });
      for (const span of spans(4)) full.add(span);
      expect(full.stats.dropped).toBe(3);

      const target = new FakeTarget();
      target.answer = 'failure';
      const failing = new fresh.ExportQueue(target, { ...OPTIONS, maxExportBatchSize: 2 });
      for (const span of spans(6)) failing.add(span);
      await failing.forceFlush();
    } finally {
      diag.disable();
    }
    const messages = warn.mock.calls.map(([m]) => String(m));
    expect(messages).toEqual([
      'otel-perf-agent: export queue full (1 spans): spans are being dropped; is the collector reachable?',
      "otel-perf-agent: export of 2 spans failed (collector said 503); later failures are counted in the export queue's stats, not logged.",
    ]);
  });
});

describe('exportQueueOptionsFromEnv', () => {
  it('uses the specification defaults', () => {
    expect(exportQueueOptionsFromEnv({})).toEqual({ maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000 });
  });

  it('reads OTEL_BSP_*', () => {
    expect(
      exportQueueOptionsFromEnv({
        OTEL_BSP_MAX_QUEUE_SIZE: '4096',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: ' 256 ',
        OTEL_BSP_SCHEDULE_DELAY: '1000',
        OTEL_BSP_EXPORT_TIMEOUT: '2500',
      }),
    ).toEqual({ maxQueueSize: 4096, maxExportBatchSize: 256, scheduledDelayMillis: 1000, exportTimeoutMillis: 2500 });
  });

  it('caps the batch size at the queue size', () => {
    expect(exportQueueOptionsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '100' })).toMatchObject({ maxQueueSize: 100, maxExportBatchSize: 100 });
    expect(exportQueueOptionsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1000' })).toMatchObject({ maxExportBatchSize: 100 });
  });

  it.each(['abc', '-5', '0', 'Infinity', 'NaN', '12ms'])('falls back to the default for %j', (raw) => {
    const options = exportQueueOptionsFromEnv({
      OTEL_BSP_MAX_QUEUE_SIZE: raw,
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: raw,
      OTEL_BSP_SCHEDULE_DELAY: raw,
      OTEL_BSP_EXPORT_TIMEOUT: raw,
    });
    expect(options).toEqual({ maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000 });
  });

  it('treats an empty or blank value as unset', () => {
    expect(exportQueueOptionsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '', OTEL_BSP_SCHEDULE_DELAY: '   ' })).toMatchObject({ maxQueueSize: 2048, scheduledDelayMillis: 5000 });
  });

  it('warns about an invalid value, naming the variable and the fallback', () => {
    const warn = vi.fn();
    diag.setLogger({ warn, error: vi.fn(), info: vi.fn(), debug: vi.fn(), verbose: vi.fn() }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    try {
      exportQueueOptionsFromEnv({ OTEL_BSP_SCHEDULE_DELAY: 'soon' });
    } finally {
      diag.disable();
    }
    expect(warn).toHaveBeenCalledWith('otel-perf-agent: OTEL_BSP_SCHEDULE_DELAY="soon" is not a positive whole number; using 5000.');
  });

  it('rejects a fractional size', () => {
    expect(exportQueueOptionsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '1.5' }).maxQueueSize).toBe(2048);
  });
});
