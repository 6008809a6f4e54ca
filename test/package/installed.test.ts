import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type Receiver } from '../../collector/receiver';
import { REPO, startApp } from '../support/app-process';

/*
 * The product as a user gets it: `npm pack`, installed into an app that has never seen this
 * repository, preloaded by package name, judged on the decoded OTLP payload.
 */
const APP = `
const http = require('node:http');
const { Pool } = require('pg');
const pool = new Pool({ connectionString: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' });
async function titleOf(id) {
  const { rows } = await pool.query('SELECT $1::int AS id, md5($1::text) AS title', [id]);
  return rows[0];
}
http.createServer(async (req, res) => {
  const items = [];
  for (let id = 1; id <= 6; id++) items.push(await titleOf(id));
  res.end(JSON.stringify(items));
}).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });
`;

// The same service as an ES module, for `node --import otel-perf-agent/register`.
const ESM_APP = APP.replace("const http = require('node:http');\nconst { Pool } = require('pg');", "import http from 'node:http';\nimport pg from 'pg';\nconst { Pool } = pg;");

// The application's own copy of the API, older than the one the agent is built with.
const APP_API = '1.9.0';

let dir: string;
let receiver: Receiver;
interface Tree {
  version?: string;
  resolved?: string;
  dependencies?: Record<string, Tree>;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'perf-agent-user-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
  const tarball = join(dir, packed[0].filename);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-app', private: true, dependencies: { 'otel-perf-agent': `file:${tarball}`, pg: '8.23.1', '@opentelemetry/api': APP_API } }));
  writeFileSync(join(dir, 'server.js'), APP);
  writeFileSync(join(dir, 'server.mjs'), ESM_APP);
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
}, 240_000);

afterAll(async () => {
  await receiver?.close();
});

describe('installed from npm pack', () => {
  it('ships the built package and nothing it does not need', () => {
    const files = (JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: REPO, encoding: 'utf8' })) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    for (const needed of ['dist/register.js', 'dist/register.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'package.json', 'README.md']) expect(files).toContain(needed);
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('node_modules/'))).toBe(false);
  });

  it('traces and analyzes an app preloaded by package name', async () => {
    receiver = await startOtlpReceiver();
    const app = await startApp(join(dir, 'server.js'), {
      agent: false,
      // In the user's folder: from inside this repository the name would resolve to the repository itself.
      cwd: dir,
      env: { NODE_OPTIONS: '--require otel-perf-agent/register', OTEL_SERVICE_NAME: 'user-app', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });
    await fetch(app.url + '/items');
    await app.stop('SIGTERM');
    const spans = await receiver.waitFor((all) => all.some((s) => s.kind === 2), 15_000);
    const root = spans.find((s) => s.kind === 2)!;
    expect(root.resource.attributes['service.name']).toBe('user-app');
    expect(root.attributes['perf.query_count']).toBe(6);
    const finding = root.events.find((e) => e.attributes['perf.finding.type'] === 'n_plus_one')!;
    expect(finding.attributes['perf.finding.repeat_count']).toBe(6);
    expect(finding.attributes['code.filepath']).toBe(join(dir, 'server.js'));
    expect(receiver.requests[0].contentEncoding).toBe('gzip');
    expect(app.stderr()).not.toContain(REPO + '/dist');
  });

  it('traces an ES module app under one flag, --import otel-perf-agent/register: HTTP server span above the queries', async () => {
    expect(ESM_APP).toContain("import pg from 'pg'");
    const esmReceiver = await startOtlpReceiver();
    try {
      const app = await startApp(join(dir, 'server.mjs'), {
        agent: false,
        cwd: dir,
        env: { NODE_OPTIONS: '--import otel-perf-agent/register', OTEL_SERVICE_NAME: 'user-esm-app', OTEL_EXPORTER_OTLP_ENDPOINT: esmReceiver.url },
      });
      await fetch(app.url + '/items');
      await app.stop('SIGTERM');
      const spans = await esmReceiver.waitFor((all) => all.some((s) => s.kind === 2), 15_000);
      const root = spans.find((s) => s.kind === 2)!;
      expect(root.resource.attributes['service.name']).toBe('user-esm-app');
      const queries = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
      expect(queries.length).toBeGreaterThan(0);
      for (const q of queries) expect([q.traceId, q.parentSpanId]).toEqual([root.traceId, root.spanId]);
      expect(root.attributes['perf.query_count']).toBe(6);
      const finding = root.events.find((e) => e.attributes['perf.finding.type'] === 'n_plus_one')!;
      expect(finding.attributes['code.filepath']).toBe(join(dir, 'server.mjs'));
    } finally {
      await esmReceiver.close();
    }
  });

  it("takes @opentelemetry/api as a peer: the app's own copy is the only one", () => {
    const tree = JSON.parse(execFileSync('npm', ['ls', '@opentelemetry/api', '--all', '--json'], { cwd: dir, encoding: 'utf8' })) as Tree;
    const versions = new Set<string>();
    const walk = (node: Tree, path: string): void => {
      for (const [name, child] of Object.entries(node.dependencies ?? {})) {
        if (name === '@opentelemetry/api' && child.version) versions.add(child.resolved ?? child.version);
        walk(child, `${path}/${name}`);
      }
    };
    walk(tree, '');
    expect([...versions]).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, 'node_modules/@opentelemetry/api/package.json'), 'utf8')).version).toBe(APP_API);
    const installed = execFileSync('find', [join(dir, 'node_modules'), '-path', '*/@opentelemetry/api/package.json', '-not', '-path', '*/build/*'], { encoding: 'utf8' }).trim().split('\n');
    expect(installed).toEqual([join(dir, 'node_modules/@opentelemetry/api/package.json')]);
  });

  it('has the bin and the public API', () => {
    const config = spawnSync('npx', ['--no-install', 'otel-perf-agent', 'config'], { cwd: dir, encoding: 'utf8' });
    expect(config.status).toBe(0);
    expect(config.stdout).toContain('PERF_AGENT_SAMPLING_RATE');
    const api = execFileSync(process.execPath, ['-p', "Object.keys(require('otel-perf-agent')).sort().join(',')"], { cwd: dir, encoding: 'utf8' });
    const resolved = execFileSync(process.execPath, ['-p', "require.resolve('otel-perf-agent/register')"], { cwd: dir, encoding: 'utf8' }).trim();
    expect(resolved).toBe(join(dir, 'node_modules/otel-perf-agent/dist/register.js'));
    const imported = execFileSync(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('otel-perf-agent/register'))"], { cwd: dir, encoding: 'utf8' }).trim();
    expect(imported).toBe('file://' + join(dir, 'node_modules/otel-perf-agent/dist/register.mjs'));
    for (const name of ['startAgent', 'registerAnalyzer', 'getConfig', 'updateConfig']) expect(api).toContain(name);
  });
});
