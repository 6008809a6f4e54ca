import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../collector/receiver';
import { findingLines } from '../support/findings';
import { REPO, REGISTER, startApp } from '../support/app-process';

const ROUTE = 'GET /members/:slug/payments';

/** Line of the app's query, so the test fails when the call site points anywhere else. */
function queryLine(file: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('await pool.query(')) + 1;
}

async function routeOf(script: string, nodeOptions: string): Promise<void> {
  const receiver = await startOtlpReceiver();
  try {
    const app = await startApp(script, {
      agent: false,
      cwd: REPO,
      env: { NODE_OPTIONS: nodeOptions, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_LOG_FINDINGS: 'true' },
    });
    const res = await fetch(app.url + '/members/ada-lovelace/payments');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { payments: unknown[] }).payments).toHaveLength(6);
    await app.stop('SIGTERM');
    const spans = await receiver.waitFor((all) => all.some((s) => s.kind === 2), 15_000);
    const root = spans.find((s) => s.kind === 2)!;
    expect(root.name).toBe(ROUTE);
    expect(root.attributes['http.route']).toBe('/members/:slug/payments');
    expect(root.attributes['url.path']).toBe('/members/ada-lovelace/payments');
    const queries = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) expect(q.traceId).toBe(root.traceId);

    const events = root.events.filter((e) => e.name === 'perf.finding');
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(String(e.attributes['perf.finding.message'])).toContain(ROUTE);
    const nPlusOne = events.filter((e) => e.attributes['perf.finding.type'] === 'n_plus_one');
    expect(nPlusOne).toHaveLength(1);
    expect(nPlusOne[0].attributes['code.filepath']).toBe(script);
    expect(nPlusOne[0].attributes['code.lineno']).toBe(queryLine(script));

    // The operation the agent keeps statistics and findings under (the finding log's `operation`).
    const lines = findingLines(app.stderr());
    expect(lines.length).toBe(events.length);
    for (const line of lines) {
      expect(line.operation).toBe(ROUTE);
      expect(line.summary).not.toContain('ada-lovelace');
    }
  } finally {
    await receiver.close();
  }
}

describe('framework routes name the operations, with no code change in the app', () => {
  it('Express 5 (ES module, --import): a router mounted at /members, route /:slug/payments', async () => {
    await routeOf(resolve(__dirname, '../fixtures/express-app.mjs'), `--import ${resolve(REPO, 'dist/register.mjs')}`);
  });

  it('Fastify 5 (CommonJS, --require): a plugin with prefix /members, route /:slug/payments', async () => {
    await routeOf(resolve(__dirname, '../fixtures/fastify-app.js'), `--require ${REGISTER}`);
  });
});
