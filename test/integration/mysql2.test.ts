import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../collector/receiver';
import { reachable } from '../support/net';
import { startApp } from '../support/app-process';

const MYSQL_APP = resolve(__dirname, '../fixtures/mysql-app.js');
const SERVER = 2;


describe('mysql2 under the agent (MariaDB on 127.0.0.1:3306)', async () => {
  const up = await reachable(3306);
  if (!up) console.log('mysql2 tests: no MariaDB/MySQL on 127.0.0.1:3306; skipped');

  it.runIf(up)('normalizes statements and finds the N+1, recommending IN (?)', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startApp(MYSQL_APP, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_COMPRESSION_ENABLED: 'false' } });
    try {
      const orders = (await (await fetch(app.url)).json()) as unknown[];
      await app.stop('SIGTERM');
      const spans = await receiver.waitFor((all) => all.some((s) => s.kind === SERVER), 15_000);
      const root = spans.find((s) => s.kind === SERVER)!;
      const queries = spans.filter((s) => s.traceId === root.traceId && s.attributes['db.system.name'] === 'mysql');
      expect(queries).toHaveLength(1 + orders.length);
      for (const q of queries) {
        const text = String(q.attributes['db.query.text'] ?? q.attributes['db.statement']);
        expect(text).not.toMatch(/\b\d+\b/);
        expect(q.attributes['perf.query.fingerprint']).toMatch(/^[0-9a-f]{16}$/);
      }
      const lines = queries.slice(1).map((q) => q.attributes['perf.query.fingerprint']);
      expect(new Set(lines).size).toBe(1);
      const nPlusOne = root.events.filter((e) => e.attributes['perf.finding.type'] === 'n_plus_one');
      expect(nPlusOne).toHaveLength(1);
      expect(nPlusOne[0].attributes['perf.finding.repeat_count']).toBe(orders.length);
      expect(String(nPlusOne[0].attributes['perf.finding.recommendation'])).toContain('IN (?)');
      // The call site is where the app called Pool#query, found through mysql2's pool as through pg's.
      const source = readFileSync(MYSQL_APP, 'utf8').split('\n');
      expect(nPlusOne[0].attributes['code.filepath']).toBe(MYSQL_APP);
      expect(source[Number(nPlusOne[0].attributes['code.lineno']) - 1]).toContain('WHERE order_id = ${');
    } finally {
      await app.stop('SIGKILL');
      await receiver.close();
    }
  });
});
