import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBERS_API, startApp, type AppProcess } from '../support/app-process';
import { announceDatabase } from '../support/postgres';
import {
  binariesOrSkip, startGatewayCollector, getTrace, searchTraces, startJaeger, startPrometheus, stopAll, removeDir, tag, traceIdFor, traceparent, waitFor,
  type Collector, type Jaeger, type JaegerSpan, type JaegerTrace, type Prometheus,
} from './support';

/*
 * members-api under the agent -> the collector built from source running our otel-collector.yaml
 * -> Jaeger v2, and Prometheus scraping the collector with collector/alerts.yml. Only listening
 * addresses and two timings (decision_wait 1s, batch timeout 200ms) are set on the command line.
 */
const bins = binariesOrSkip('jaeger.test.ts');
const SERVICE = 'members-api-e2e';
const PROBABILISTIC_PERCENT = 25; // otel-collector.yaml's some-of-the-rest policy

describe.skipIf(!bins)('agent -> collector (otel-collector.yaml) -> Jaeger v2, Prometheus alerts', () => {
  let jaeger: Jaeger;
  let collector: Collector;
  let prometheus: Prometheus | undefined;
  let app: AppProcess;
  let sendDropped: () => Promise<void>;
  // The dice of the probabilistic policy say "drop" for the N+1 trace: it must be kept for its finding.
  const nPlusOneId = traceIdFor(false, PROBABILISTIC_PERCENT, 1);
  const healthyKept = traceIdFor(true, PROBABILISTIC_PERCENT, 2);
  const healthyDropped = traceIdFor(false, PROBABILISTIC_PERCENT, 3);

  beforeAll(async () => {
    await announceDatabase();
    jaeger = await startJaeger(bins!.jaeger);
    collector = await startGatewayCollector(bins!.otelcol, jaeger);
    if (bins!.prometheus) prometheus = await startPrometheus(bins!.prometheus, collector);
    app = await startApp(MEMBERS_API, {
      env: {
        OTEL_SERVICE_NAME: SERVICE,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
    });
    const get = async (path: string, traceId: string): Promise<void> => {
      const res = await fetch(`${app.url}${path}`, { headers: { traceparent: traceparent(traceId) } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    await get('/members/1/payments', nPlusOneId);
    await get('/members/1', healthyKept);
    sendDropped = () => get('/members/1', healthyDropped);
  }, 120_000);

  afterAll(async () => {
    await app?.stop('SIGKILL');
    await stopAll();
    removeDir(prometheus?.dir);
  });

  it('runs otel-collector.yaml with no deprecation warning (snake_case component names)', () => {
    expect(collector.proc.log()).toMatch(/Everything is ready/);
    expect(collector.proc.log()).not.toMatch(/deprecat/i);
  });

  it('finds the N+1 trace in Jaeger by its perf.* tags, with the perf.finding event, the composite span and the call site', async () => {
    const trace = await waitFor('the N+1 trace in Jaeger', () => getTrace(jaeger.query, nPlusOneId), 30_000);
    const root = rootOf(trace, '/members/1/payments');
    // The health band depends on how long the 21 queries took on this machine; the finding does not.
    expect(tag(root, 'perf.health')).toMatch(/^(excellent|good|warning|critical)$/);
    expect(Number(tag(root, 'perf.findings.count'))).toBeGreaterThanOrEqual(1);
    expect(tag(root, 'perf.n_plus_one.count')).toBe(1);

    // Searched the way a person would in the UI: by service and tags (values compared as strings).
    const byHealth = await searchTraces(jaeger.query, SERVICE, { 'perf.health': String(tag(root, 'perf.health')) });
    expect(byHealth.map((t) => t.traceID)).toContain(nPlusOneId);
    const byCount = await searchTraces(jaeger.query, SERVICE, { 'perf.findings.count': String(tag(root, 'perf.findings.count')) });
    expect(byCount.map((t) => t.traceID)).toEqual([nPlusOneId]);

    const finding = root.logs.find((l) => field(l.fields, 'event') === 'perf.finding' && field(l.fields, 'perf.finding.type') === 'n_plus_one');
    expect(finding, JSON.stringify(root.logs)).toBeDefined();
    expect(String(field(finding!.fields, 'code.filepath'))).toMatch(/examples\/members-api\/routes\/payments\.js$/);
    expect(field(finding!.fields, 'code.lineno')).toBe(9);
    expect(field(finding!.fields, 'perf.finding.repeat_count')).toBe(20);

    // The 20 per-invoice queries: composite spans (how many depends on their timings, as
    // compression only merges queries under its time limits) plus any left alone add up to 20.
    const fingerprint = field(finding!.fields, 'perf.query.fingerprint');
    expect(fingerprint).toBeTruthy();
    const repeated = trace.spans.filter((s) => tag(s, 'perf.query.fingerprint') === fingerprint);
    const composites = repeated.filter((s) => tag(s, 'perf.composite.count') !== undefined);
    expect(composites.length, 'composite spans').toBeGreaterThan(0);
    for (const c of composites) expect(tag(c, 'perf.composite.strategy')).toMatch(/^(exact_match|same_kind)$/);
    expect(repeated.reduce((n, s) => n + Number(tag(s, 'perf.composite.count') ?? 1), 0)).toBe(20);
    expect(trace.spans.length).toBeLessThan(22); // the root, the invoices query and 20 queries, fewer once compressed
  });

  it('keeps or drops the healthy requests exactly as the probabilistic policy decides from their trace ids', async () => {
    const kept = await waitFor('the healthy trace the policy keeps', () => getTrace(jaeger.query, healthyKept), 30_000);
    const root = rootOf(kept, '/members/1');
    expect(tag(root, 'perf.findings.count')).toBe(0);
    expect(tag(root, 'perf.health')).toMatch(/^(excellent|good)$/);
    // The other one is sent now, once everything before it has been decided: the collector's
    // count of traces decided "not sampled" must move, and Jaeger must not have it.
    const notSampled = async (): Promise<number> => {
      const text = await (await fetch(`${collector.telemetry}/metrics`)).text();
      const line = /^otelcol_processor_tail_sampling_global_count_traces_sampled\{[^}]*sampled="false"[^}]*\} (\S+)$/m.exec(text);
      return line ? Number(line[1]) : 0;
    };
    await new Promise((r) => setTimeout(r, 2000));
    const before = await notSampled();
    await sendDropped();
    await waitFor('a "not sampled" decision for the healthy trace', async () => ((await notSampled()) > before ? true : undefined), 20_000);
    await new Promise((r) => setTimeout(r, 1000)); // what a kept trace would need to reach Jaeger
    expect(await getTrace(jaeger.query, healthyDropped)).toBeUndefined();
  });

  it.skipIf(!bins?.prometheus)('fires the N+1 alert of collector/alerts.yml in Prometheus, on the route template', async () => {
    const alert = await waitFor('PerfNPlusOneNew firing', async () => {
      const res = await fetch(`${prometheus!.url}/api/v1/alerts`);
      const body = (await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return body.data.alerts.find((a) => a.labels.alertname === 'PerfNPlusOneNew' && a.state === 'firing');
    }, 45_000, 500);
    expect(alert.labels).toMatchObject({ job: SERVICE, operation: 'GET /members/:id/payments', severity: 'warning' });

    const nPlusOne = await promQuery(prometheus!.url, `perf_findings_total{job="${SERVICE}",type="n_plus_one"}`);
    expect(nPlusOne.map((s) => s.metric.operation)).toEqual(['GET /members/:id/payments']);
    // Every operation label is a template or a span name, never a path with an id in it.
    const all = await promQuery(prometheus!.url, `{job="${SERVICE}",operation!=""}`);
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) expect(s.metric.operation).not.toMatch(/\/\d/);
    const requests = await waitFor('both healthy requests in the health histogram', async () => {
      const health = await promQuery(prometheus!.url, `sum by (operation) (perf_request_health_score_count{job="${SERVICE}"})`);
      const byOperation = Object.fromEntries(health.map((s) => [s.metric.operation, Number(s.value[1])]));
      return byOperation['GET /members/:id'] === 2 ? byOperation : undefined;
    }, 15_000, 500);
    expect(requests['GET /members/:id/payments']).toBe(1);
    // The collector's own telemetry is scraped too, in the naming the pipeline alerts use.
    const accepted = await waitFor('the collector telemetry in Prometheus', async () => {
      const r = await promQuery(prometheus!.url, 'otelcol_receiver_accepted_spans{job="otel-collector"}');
      return r.length > 0 ? r : undefined;
    }, 15_000, 500);
    expect(accepted[0].metric.receiver).toBe('otlp');
    const queries = await promQuery(prometheus!.url, `perf_request_query_count_sum{job="${SERVICE}",operation="GET /members/:id/payments"}`);
    expect(Number(queries[0]?.value[1])).toBe(21);
  });
});

function field(fields: { key: string; value: unknown }[], key: string): unknown {
  return fields.find((f) => f.key === key)?.value;
}

function rootOf(trace: JaegerTrace, path: string): JaegerSpan {
  const root = trace.spans.find((s) => tag(s, 'url.path') === path && tag(s, 'span.kind') === 'server');
  if (!root) throw new Error(`no server span for ${path} in ${JSON.stringify(trace.spans.map((s) => s.operationName))}`);
  return root;
}

async function promQuery(url: string, query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`${query}: ${JSON.stringify(body)}`);
  return body.data.result;
}
