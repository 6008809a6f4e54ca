import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type HistogramMetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/analysis/types';
import { AgentMetrics, METRIC, startMetrics, type MetricsHandle } from '../../src/metrics';
import { BoundedNames, OTHER } from '../../src/metrics/bounded-names';

const nPlusOne: Finding = { type: 'n_plus_one', severity: 'critical', message: 'm', recommendation: 'r' };
const summary = (healthScore: number, queryCount: number) => ({ healthScore, queryCount, queryTimeMs: 1, health: 'good' });

async function collect(record: (m: AgentMetrics) => void, maxOperations?: number) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  record(new AgentMetrics(provider.getMeter('test'), maxOperations));
  await provider.forceFlush();
  const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  await provider.shutdown();
  return (name: string) => metrics.find((m) => m.descriptor.name === name);
}

describe('AgentMetrics', () => {
  it('counts findings by type, severity and operation, and records health and query count per operation', async () => {
    const find = await collect((m) => {
      m.record({ operation: 'GET /members/:id/payments', summary: summary(35, 21), findings: [nPlusOne, { ...nPlusOne, type: 'slow_query', severity: 'warning' }] });
      m.record({ operation: 'GET /members/:id/payments', summary: summary(40, 21), findings: [nPlusOne] });
      m.record({ operation: 'GET /members/:id', summary: summary(100, 2), findings: [] });
    });
    const findings = find(METRIC.findings) as SumMetricData;
    const points = findings.dataPoints.map((p) => ({ ...p.attributes, value: p.value }));
    expect(points).toEqual(expect.arrayContaining([
      { type: 'n_plus_one', severity: 'critical', operation: 'GET /members/:id/payments', value: 2 },
      { type: 'slow_query', severity: 'warning', operation: 'GET /members/:id/payments', value: 1 },
    ]));
    expect(points).toHaveLength(2);

    const health = find(METRIC.healthScore) as HistogramMetricData;
    const byOp = Object.fromEntries(health.dataPoints.map((p) => [p.attributes.operation, p.value]));
    expect(byOp['GET /members/:id/payments']).toMatchObject({ count: 2, sum: 75, min: 35, max: 40 });
    expect(byOp['GET /members/:id']).toMatchObject({ count: 1, sum: 100 });
    expect(health.dataPoints[0].value.buckets.boundaries).toContain(60);

    const queries = find(METRIC.queryCount) as HistogramMetricData;
    expect(queries.descriptor.unit).toBe('{query}');
    expect(queries.dataPoints.find((p) => p.attributes.operation === 'GET /members/:id')?.value.sum).toBe(2);
  });

  it('bounds the operations: past the limit every new one is counted as _other', async () => {
    const find = await collect((m) => {
      for (let i = 0; i < 10; i++) m.record({ operation: `GET /page-${i}`, summary: summary(90, 1), findings: [] });
    }, 3);
    const ops = (find(METRIC.healthScore) as HistogramMetricData).dataPoints.map((p) => p.attributes.operation);
    expect(ops.sort()).toEqual([OTHER, 'GET /page-0', 'GET /page-1', 'GET /page-2'].sort());
    const other = (find(METRIC.healthScore) as HistogramMetricData).dataPoints.find((p) => p.attributes.operation === OTHER);
    expect(other?.value.count).toBe(7);
  });
});

describe('BoundedNames', () => {
  it('keeps known names after the limit and cuts very long ones', () => {
    const names = new BoundedNames(2);
    expect(names.name('a')).toBe('a');
    expect(names.name('b')).toBe('b');
    expect(names.name('c')).toBe(OTHER);
    expect(names.name('a')).toBe('a');
    expect(names.name('x'.repeat(500))).toBe(OTHER);
    expect(new BoundedNames(5).name('y'.repeat(500))).toHaveLength(128);
  });
});

describe('startMetrics', () => {
  let server: Server | undefined;
  let handle: MetricsHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  it('is off unless OTEL_METRICS_EXPORTER names otlp', () => {
    expect(startMetrics({})).toBeUndefined();
    expect(startMetrics({ OTEL_METRICS_EXPORTER: 'none' })).toBeUndefined();
    expect(startMetrics({ OTEL_METRICS_EXPORTER: 'prometheus' })).toBeUndefined();
  });

  it('posts gzip protobuf to <endpoint>/v1/metrics with the three instruments', async () => {
    const received: { url?: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    handle = startMetrics({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_METRIC_EXPORT_INTERVAL: '3600000' });
    expect(handle).toBeDefined();
    handle!.record({ operation: 'GET /members/:id/payments', summary: summary(35, 21), findings: [nPlusOne] });
    await handle!.forceFlush();
    expect(received).toHaveLength(1);
    expect(received[0].url).toBe('/v1/metrics');
    expect(received[0].headers['content-type']).toBe('application/x-protobuf');
    expect(received[0].headers['content-encoding']).toBe('gzip');
    const body = gunzipSync(received[0].body).toString('latin1');
    for (const text of [METRIC.findings, METRIC.healthScore, METRIC.queryCount, 'GET /members/:id/payments', 'n_plus_one']) expect(body).toContain(text);
  });
});
