import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

let dir: string;
let receiver: Receiver;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'perf-agent-user-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
  const tarball = join(dir, packed[0].filename);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-app', private: true, dependencies: { 'otel-perf-agent': `file:${tarball}`, pg: '8.23.1' } }));
  writeFileSync(join(dir, 'server.js'), APP);
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
}, 240_000);

afterAll(async () => {
  await receiver?.close();
});

describe('installed from npm pack', () => {
  it('ships the built package and nothing it does not need', () => {
    const files = (JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: REPO, encoding: 'utf8' })) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    for (const needed of ['dist/register.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'package.json', 'README.md']) expect(files).toContain(needed);
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

  it('has the bin and the public API', () => {
    const config = spawnSync('npx', ['--no-install', 'otel-perf-agent', 'config'], { cwd: dir, encoding: 'utf8' });
    expect(config.status).toBe(0);
    expect(config.stdout).toContain('PERF_AGENT_SAMPLING_RATE');
    const api = execFileSync(process.execPath, ['-p', "Object.keys(require('otel-perf-agent')).sort().join(',')"], { cwd: dir, encoding: 'utf8' });
    const resolved = execFileSync(process.execPath, ['-p', "require.resolve('otel-perf-agent/register')"], { cwd: dir, encoding: 'utf8' }).trim();
    expect(resolved).toBe(join(dir, 'node_modules/otel-perf-agent/dist/register.js'));
    for (const name of ['startAgent', 'registerAnalyzer', 'getConfig', 'updateConfig']) expect(api).toContain(name);
  });
});
