import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBERS_API, startApp, type AppProcess } from '../support/app-process';
import { announceDatabase } from '../support/postgres';

/*
 * The wiring from the agent to its metrics, without a collector: members-api under the agent with
 * OTEL_METRICS_EXPORTER=otlp sends /v1/metrics to a bare HTTP endpoint. (test/e2e/jaeger.test.ts
 * runs the same through the real collector into Prometheus.)
 */
describe('agent metrics over OTLP (OTEL_METRICS_EXPORTER=otlp)', () => {
  let server: Server;
  let app: AppProcess | undefined;
  let off: AppProcess | undefined;
  const bodies: { path: string; text: string }[] = [];

  beforeAll(async () => {
    await announceDatabase();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        bodies.push({ path: req.url ?? '', text: body.toString('latin1') });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const env = { OTEL_SERVICE_NAME: 'metrics-test', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_METRIC_EXPORT_INTERVAL: '500', OTEL_BSP_SCHEDULE_DELAY: '200' };
    app = await startApp(MEMBERS_API, { env: { ...env, OTEL_METRICS_EXPORTER: 'otlp' } });
    off = await startApp(MEMBERS_API, { env: { ...env, OTEL_SERVICE_NAME: 'metrics-off' } });
    for (const url of [`${app.url}/members/1/payments`, `${app.url}/members/7`, `${off.url}/members/1/payments`]) {
      const res = await fetch(url);
      await res.arrayBuffer();
    }
  });

  afterAll(async () => {
    await app?.stop('SIGKILL');
    await off?.stop('SIGKILL');
    await new Promise((r) => server.close(r));
  });

  it('exports the three instruments with route templates as operations, and only when asked', async () => {
    const deadline = Date.now() + 15_000;
    const has = (s: string): boolean => bodies.some((b) => b.path === '/v1/metrics' && b.text.includes(s));
    while (!(has('perf.findings') && has('GET /members/:id') && bodies.some((b) => b.text.includes('metrics-off'))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    for (const text of ['perf.findings', 'perf.request.health_score', 'perf.request.query_count', 'n_plus_one', 'GET /members/:id/payments', 'GET /members/:id', 'metrics-test']) {
      expect(has(text), text).toBe(true);
    }
    const metrics = bodies.filter((b) => b.path === '/v1/metrics');
    expect(metrics.some((b) => /\/members\/\d/.test(b.text))).toBe(false);
    // Only the agent's own meter: no HTTP or pg instrumentation metrics.
    expect(metrics.some((b) => b.text.includes('http.server'))).toBe(false);
    // The second app (no OTEL_METRICS_EXPORTER) sent its traces, but no metrics.
    expect(bodies.some((b) => b.path === '/v1/traces' && b.text.includes('metrics-off'))).toBe(true);
    expect(metrics.some((b) => b.text.includes('metrics-off'))).toBe(false);
  });
});
