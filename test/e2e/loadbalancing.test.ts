import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBERS_API, startApp, type AppProcess } from '../support/app-process';
import { announceDatabase } from '../support/postgres';
import {
  binariesOrSkip, startGatewayCollector, getTrace, startCollector, startJaeger, stopAll, traceIdFor, traceparent, waitFor,
  type Collector, type Jaeger,
} from './support';

/*
 * collector/loadbalancing/: tier 1 (tier1.yaml, load_balancing by trace id, static resolver on two
 * loopback ports) in front of two tier-2 collectors running otel-collector.yaml (tail sampling).
 * Two agents (two members-api processes) send spans of the same traces. Each trace whose tail
 * sampling sees an N+1 in agent A's spans must keep agent B's healthy spans too: they can only be
 * kept together if both reached the same tier-2 instance.
 */
const bins = binariesOrSkip('loadbalancing.test.ts');
const TRACES = 6;

describe.skipIf(!bins)('two-tier collectors: load balancing by trace id, then tail sampling', () => {
  let jaeger: Jaeger;
  let tier2: Collector[];
  let apps: AppProcess[];
  // The probabilistic policy would drop every one of these; only the N+1 in A's spans keeps a trace.
  const kept = Array.from({ length: TRACES }, (_, i) => traceIdFor(false, 25, 100 + i));
  const dropped = Array.from({ length: TRACES }, (_, i) => traceIdFor(false, 25, 200 + i));

  beforeAll(async () => {
    await announceDatabase();
    jaeger = await startJaeger(bins!.jaeger);
    tier2 = [];
    for (const name of ['tier2-a', 'tier2-b']) {
      // debug: every span it exports (after sampling) is printed with its trace id: who got which trace.
      tier2.push(await startGatewayCollector(bins!.otelcol, jaeger, { decisionWait: '2s', debug: true, name }));
    }
    const tier1 = await startCollector(bins!.otelcol, 'collector/loadbalancing/tier1.yaml', [
      `exporters::load_balancing::resolver::static::hostnames=[${tier2.map((c) => c.otlpGrpc).join(', ')}]`,
    ], undefined, 'tier1');
    const env = (service: string) => ({ OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: tier1.otlpHttp, OTEL_BSP_SCHEDULE_DELAY: '200' });
    apps = await Promise.all([startApp(MEMBERS_API, { env: env('lb-agent-a') }), startApp(MEMBERS_API, { env: env('lb-agent-b') })]);
    const get = async (app: AppProcess, path: string, traceId: string, spanId: string): Promise<void> => {
      const res = await fetch(`${app.url}${path}`, { headers: { traceparent: traceparent(traceId, spanId) } });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    };
    for (const id of kept) {
      await get(apps[0], '/members/1/payments', id, '000000000000000a');
      await get(apps[1], '/members/2', id, '000000000000000b');
    }
    for (const id of dropped) {
      await get(apps[0], '/members/3', id, '000000000000000a');
      await get(apps[1], '/members/4', id, '000000000000000b');
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all((apps ?? []).map((a) => a.stop('SIGKILL')));
    await stopAll();
  });

  it("keeps both agents' spans of a trace together, each trace on exactly one tier-2 instance", async () => {
    for (const id of kept) {
      const trace = await waitFor(`trace ${id} from both agents in Jaeger`, async () => {
        const t = await getTrace(jaeger.query, id);
        const services = new Set(Object.values(t?.processes ?? {}).map((p) => p.serviceName));
        return services.has('lb-agent-a') && services.has('lb-agent-b') ? t : undefined;
      }, 30_000);
      expect(trace.spans.length).toBeGreaterThan(2);
      const holders = tier2.filter((c) => exportedTraceIds(c.proc.log()).has(id));
      expect(holders.map((c) => c.proc.name), `trace ${id}`).toHaveLength(1);
    }
    const perInstance = tier2.map((c) => kept.filter((id) => exportedTraceIds(c.proc.log()).has(id)).length);
    expect(perInstance.reduce((a, b) => a + b, 0)).toBe(TRACES);
    // eslint-disable-next-line no-console
    console.log(`load balancing: kept traces per tier-2 instance: ${perInstance.join(' / ')}`);
  });

  it("drops both agents' spans of a healthy trace together", async () => {
    // Decided after the kept ones (sent later, same decision_wait); allow one more period.
    await new Promise((r) => setTimeout(r, 4000));
    for (const id of dropped) {
      expect(await getTrace(jaeger.query, id), `trace ${id}`).toBeUndefined();
      for (const c of tier2) expect(exportedTraceIds(c.proc.log()).has(id)).toBe(false);
    }
  });
});

function exportedTraceIds(log: string): Set<string> {
  return new Set([...log.matchAll(/Trace ID\s*:\s*([0-9a-f]{32})/g)].map((m) => m[1]));
}
