import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type Receiver } from '../../collector/receiver';
import { REPO, startApp } from '../support/app-process';

const EXAMPLE = resolve(REPO, 'examples/typescript');
const SOURCE = join(EXAMPLE, 'server.ts');
/** The TypeScript line of the per-invoice query: what the finding must name. */
const QUERY_LINE = readFileSync(SOURCE, 'utf8').split('\n').findIndex((l) => l.includes('await pool.query<Payment>(')) + 1;

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

async function findingOf(script: string, args: string[], nodeOptions = ''): Promise<Record<string, unknown>> {
  receiver.clear();
  const app = await startApp(script, { agent: false, cwd: REPO, args, env: { NODE_OPTIONS: nodeOptions, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
  expect((await fetch(app.url + '/members/3/payments')).status).toBe(200);
  await app.stop('SIGTERM');
  const spans = await receiver.waitFor((all) => all.some((s) => s.kind === 2), 15_000);
  const root = spans.find((s) => s.kind === 2)!;
  for (const q of spans.filter((s) => s.attributes['db.system.name'] === 'postgresql')) expect(q.parentSpanId).toBe(root.spanId);
  const findings = root.events.filter((e) => e.attributes['perf.finding.type'] === 'n_plus_one');
  expect(findings).toHaveLength(1);
  return findings[0].attributes;
}

describe('a TypeScript application: findings name the .ts file and line', () => {
  it('run with tsx (tsx --import otel-perf-agent/register server.ts)', async () => {
    const tsx = resolve(REPO, 'node_modules/tsx/dist/cli.mjs');
    const f = await findingOf(tsx, ['--import', 'otel-perf-agent/register', SOURCE]);
    expect([f['code.filepath'], f['code.lineno'], f['code.function']]).toEqual([SOURCE, QUERY_LINE, 'paymentsOf']);
  });

  it('compiled with tsc, run with --enable-source-maps --require otel-perf-agent/register', async () => {
    // Into the example's own dist/ (ignored by git), where `pg` resolves as in a user's project.
    execFileSync(process.execPath, [resolve(REPO, 'node_modules/typescript/bin/tsc'), '-p', EXAMPLE], { cwd: REPO, stdio: 'inherit' });
    const compiled = join(EXAMPLE, 'dist/server.js');
    // The JavaScript line differs (the interfaces are gone): only the source map gets it right.
    expect(readFileSync(compiled, 'utf8').split('\n').findIndex((l) => l.includes('await pool.query(')) + 1).not.toBe(QUERY_LINE);
    const f = await findingOf(compiled, [], '--enable-source-maps --require otel-perf-agent/register');
    expect([f['code.filepath'], f['code.lineno'], f['code.function']]).toEqual([SOURCE, QUERY_LINE, 'paymentsOf']);
  });
});
