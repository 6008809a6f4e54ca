import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type Receiver } from '../../collector/receiver';
import { findingLines } from '../support/findings';
import { POSTGRES_URL } from '../support/postgres';
import { REGISTER, startApp } from '../support/app-process';

const FIXTURES = resolve(__dirname, '../fixtures/orm');

/** The 1-based line of `needle` in `file`: the test fails if the call site is any other line. */
function lineOf(file: string, needle: string): number {
  const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;
  expect(line, `${needle} in ${file}`).toBeGreaterThan(0);
  return line;
}

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

/** One request of the app's N+1 route under the agent; its n_plus_one findings as exported. */
async function nPlusOneOf(script: string, cwd?: string) {
  receiver.clear();
  const app = await startApp(script, {
    agent: false,
    cwd,
    env: { NODE_OPTIONS: `--require ${REGISTER}`, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_LOG_FINDINGS: 'true', DATABASE_URL: POSTGRES_URL },
    timeoutMs: 60_000,
  });
  const body = (await (await fetch(app.url + '/members/1/payments')).json()) as { payments: number[] }[];
  expect(body).toHaveLength(6);
  expect(body.every((row) => row.payments.length === 1)).toBe(true);
  await app.stop('SIGTERM');
  const spans = await receiver.waitFor((all) => all.some((s) => s.kind === 2 && s.attributes['url.path'] === '/members/1/payments'), 20_000);
  const root = spans.find((s) => s.kind === 2 && s.attributes['url.path'] === '/members/1/payments')!;
  const findings = root.events.filter((e) => e.attributes['perf.finding.type'] === 'n_plus_one');
  return { root, findings, lines: findingLines(app.stderr()).filter((l) => l.type === 'n_plus_one') };
}

describe('ORMs and query builders on PostgreSQL: the N+1 they hide', () => {
  it('Sequelize 6: findAll, then a lazy getPayments() per row', async () => {
    const script = join(FIXTURES, 'sequelize-app.js');
    const { findings, lines } = await nPlusOneOf(script);
    expect(findings).toHaveLength(1);
    const f = findings[0].attributes;
    expect(f['perf.finding.repeat_count']).toBe(6);
    expect([f['code.filepath'], f['code.lineno']]).toEqual([script, lineOf(script, 'await invoice.getPayments()')]);
    expect(f['perf.finding.recommendation']).toContain('Sequelize');
    expect(f['perf.finding.recommendation']).toContain('`include`');
    expect(f['perf.finding.recommendation']).toContain('invoice_id" = ANY($1)');
    expect(lines).toHaveLength(1);
  });

  it('Knex 3: a loop of where({ invoice_id })', async () => {
    const script = join(FIXTURES, 'knex-app.js');
    const { findings } = await nPlusOneOf(script);
    expect(findings).toHaveLength(1);
    const f = findings[0].attributes;
    expect(f['perf.finding.repeat_count']).toBe(6);
    expect([f['code.filepath'], f['code.lineno']]).toEqual([script, lineOf(script, "knex('knex_payments').where({ invoice_id")]);
    expect(f['perf.finding.recommendation']).toContain(".whereIn('invoice_id', ids)");
    expect(f['perf.finding.recommendation']).toContain('= ANY($1)');
  });

  describe('Prisma 7 with @prisma/adapter-pg, installed into a fresh app', () => {
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'perf-agent-prisma-'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'prisma-app', private: true, dependencies: { prisma: '7.10.1', '@prisma/client': '7.10.0', '@prisma/adapter-pg': '7.10.1', pg: '8.23.1' } }));
      // Prisma's CLI pulls a package that declares Node >= 22 (@prisma/streams-local); npm only
      // warns about it by default, as it does in a user's project.
      execFileSync('npm', ['install', '--engine-strict=false', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
      mkdirSync(join(dir, 'prisma'));
      copyFileSync(join(FIXTURES, 'prisma/schema.prisma'), join(dir, 'prisma/schema.prisma'));
      copyFileSync(join(FIXTURES, 'prisma/app.js'), join(dir, 'app.js'));
      writeFileSync(join(dir, 'prisma.config.js'), `module.exports = { schema: 'prisma/schema.prisma', datasource: { url: ${JSON.stringify(POSTGRES_URL)} } };\n`);
      // `prisma generate` runs on WebAssembly, yet the CLI first downloads its schema engine
      // binary, which this network cannot reach: any existing file stands in for it.
      execFileSync('npx', ['--no-install', 'prisma', 'generate'], { cwd: dir, stdio: 'inherit', env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' } });
      const db = new Client({ connectionString: POSTGRES_URL });
      await db.connect();
      try {
        await db.query('CREATE TABLE IF NOT EXISTS prisma_invoices (id serial PRIMARY KEY, member_id int NOT NULL)');
        await db.query('CREATE TABLE IF NOT EXISTS prisma_payments (id serial PRIMARY KEY, invoice_id int NOT NULL REFERENCES prisma_invoices (id), amount_cents int NOT NULL)');
        const { rows } = await db.query('SELECT count(*)::int AS n FROM prisma_invoices');
        if (rows[0].n === 0) {
          for (let i = 1; i <= 6; i++) {
            const inv = await db.query('INSERT INTO prisma_invoices (member_id) VALUES (1) RETURNING id');
            await db.query('INSERT INTO prisma_payments (invoice_id, amount_cents) VALUES ($1, $2)', [inv.rows[0].id, 100 * i]);
          }
        }
      } finally {
        await db.end();
      }
    }, 240_000);

    it('findMany per invoice: one finding at the app line, Prisma include advised', async () => {
      const script = join(dir, 'app.js');
      const { findings } = await nPlusOneOf(script, dir);
      expect(findings).toHaveLength(1);
      const f = findings[0].attributes;
      expect(f['perf.finding.repeat_count']).toBe(6);
      expect([f['code.filepath'], f['code.lineno']]).toEqual([script, lineOf(script, 'await prisma.payment.findMany(')]);
      expect(f['perf.finding.recommendation']).toContain('Prisma: `include`');
      expect(f['perf.finding.recommendation']).toContain('= ANY($1)');
    });
  });
});
