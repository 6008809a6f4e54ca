import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver, type DecodedSpan } from '../../collector/receiver';
import { REGISTER, REPO, startApp } from '../support/app-process';

const ESM_APP = resolve(__dirname, '../fixtures/esm-app.mjs');
const REGISTER_ESM = resolve(REPO, 'dist/register.mjs');

/** Runs the fixture (one N+1 request, then it exits) under `nodeOptions`; its decoded spans. */
async function run(nodeOptions: string): Promise<DecodedSpan[]> {
  const receiver = await startOtlpReceiver();
  try {
    const app = await startApp(ESM_APP, {
      agent: false,
      waitForListening: false,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, NODE_OPTIONS: nodeOptions },
      cwd: REPO,
    });
    expect((await app.exited).code, app.stderr()).toBe(0);
    return await receiver.waitFor((all) => all.some((s) => s.kind === 2), 10_000);
  } finally {
    await receiver.close();
  }
}

function expectHttpAboveQueries(spans: DecodedSpan[]): void {
  const server = spans.filter((s) => s.kind === 2);
  expect(server).toHaveLength(1);
  const root = server[0];
  expect(root.attributes['http.request.method']).toBe('GET');
  const queries = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
  expect(queries.length).toBeGreaterThan(0);
  // Every query belongs to the request's trace, under its server span (not a trace of its own).
  for (const q of queries) expect([q.traceId, q.parentSpanId]).toEqual([root.traceId, root.spanId]);
  expect(root.attributes['perf.query_count']).toBe(6);
  const finding = root.events.find((e) => e.attributes['perf.finding.type'] === 'n_plus_one')!;
  expect(finding.attributes['code.filepath']).toBe(ESM_APP);
  expect(finding.attributes['perf.finding.message']).toContain('GET /items');
}

describe('an ES module application', () => {
  it('is traced with one flag: --import otel-perf-agent/register (loader hook registered, agent started)', async () => {
    expectHttpAboveQueries(await run(`--import ${REGISTER_ESM}`));
  });

  it('is traced with the fallback: the loader hook next to --require', async () => {
    expectHttpAboveQueries(await run(`--experimental-loader=@opentelemetry/instrumentation/hook.mjs --require ${REGISTER}`));
  });
});
