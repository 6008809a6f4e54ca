import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBERS_API, startApp, type AppProcess } from '../support/app-process';
import { announceDatabase } from '../support/postgres';
import {
  binariesOrSkip, startGatewayCollector, getTrace, startJaeger, stopAll, traceIdFor, traceparent, waitFor,
  type Collector, type Jaeger, type JaegerTrace,
} from './support';

/*
 * The collector goes away in the middle of a run and comes back on the same address. What the agent
 * exported meanwhile is retried by the OTLP exporter (up to 5 attempts with backoff, within
 * OTEL_EXPORTER_OTLP_TIMEOUT) and must all arrive, each span once.
 */
const bins = binariesOrSkip('restart.test.ts');

describe.skipIf(!bins)('collector restarted during a run', () => {
  let jaeger: Jaeger;
  let collector: Collector;
  let app: AppProcess;
  const before = traceIdFor(false, 25, 300);
  const during = [301, 302, 303].map((seed) => traceIdFor(false, 25, seed));
  let reference: JaegerTrace;

  beforeAll(async () => {
    await announceDatabase();
    jaeger = await startJaeger(bins!.jaeger);
    // debug: every exported span is printed with its ids, so a span delivered twice shows twice.
    collector = await startGatewayCollector(bins!.otelcol, jaeger, { debug: true });
    app = await startApp(MEMBERS_API, {
      env: { OTEL_SERVICE_NAME: 'restart-e2e', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_EXPORTER_OTLP_TIMEOUT: '30000' },
    });
  }, 120_000);

  afterAll(async () => {
    await app?.stop('SIGKILL');
    await stopAll();
  });

  const get = async (traceId: string): Promise<void> => {
    const res = await fetch(`${app.url}/members/1/payments`, { headers: { traceparent: traceparent(traceId) } });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  };

  it('delivers what the agent held while the collector was down, each span once', async () => {
    await get(before);
    reference = await waitFor('the first trace in Jaeger', () => getTrace(jaeger.query, before), 30_000);

    const first = collector.proc;
    await first.stop('SIGTERM');
    for (const id of during) await get(id);
    // Long enough for the first export attempts to be refused, short of the exporter's retries.
    await new Promise((r) => setTimeout(r, 1500));
    await collector.restart();

    for (const id of during) {
      const trace = await waitFor(`trace ${id} after the restart`, async () => {
        const t = await getTrace(jaeger.query, id);
        return t && t.spans.length >= reference.spans.length ? t : undefined;
      }, 45_000);
      expect(trace.spans.length).toBe(reference.spans.length);
      expect(new Set(trace.spans.map((s) => s.spanID)).size).toBe(trace.spans.length);
      expect([...trace.spans.map((s) => s.operationName)].sort()).toEqual([...reference.spans.map((s) => s.operationName)].sort());
    }
    // They were made after the first collector stopped: only the restarted one can have them.
    const early = exportedSpans(first.log());
    for (const id of during) expect(early.some((s) => s.traceId === id)).toBe(false);
    const exported = exportedSpans(first.log() + collector.proc.log());
    for (const id of [before, ...during]) {
      const ids = exported.filter((s) => s.traceId === id).map((s) => s.spanId);
      expect(ids.length, `spans of ${id} through the collector`).toBe(reference.spans.length);
      expect(new Set(ids).size).toBe(ids.length);
    }
  }, 120_000);
});

function exportedSpans(log: string): { traceId: string; spanId: string }[] {
  return [...log.matchAll(/Trace ID\s*:\s*([0-9a-f]{32})\s+Parent ID\s*:\s*[0-9a-f]*\s+ID\s*:\s*([0-9a-f]{16})/g)].map((m) => ({ traceId: m[1], spanId: m[2] }));
}
