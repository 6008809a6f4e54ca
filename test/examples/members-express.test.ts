import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../collector/receiver';
import { REPO, startApp } from '../support/app-process';

const SERVER = resolve(REPO, 'examples/members-express/server.js');
const LAZY_LINE = readFileSync(SERVER, 'utf8').split('\n').findIndex((l) => l.includes('await invoice.getPayments(')) + 1;

describe('examples/members-express (Express 5 + Sequelize 6) under the agent', () => {
  it('names operations by route template; the lazy N+1 gets the Sequelize cure, the eager twin no finding', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const app = await startApp(SERVER, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, timeoutMs: 60_000 });
      const lazy = await (await fetch(app.url + '/members/1/payments')).text();
      const eager = await (await fetch(app.url + '/members/1/payments-eager')).text();
      expect(JSON.parse(lazy).invoices).toHaveLength(20);
      expect(eager).toBe(lazy);
      await app.stop('SIGTERM');

      const spans = await receiver.waitFor((all) => all.filter((s) => s.kind === 2).length >= 2, 15_000);
      const roots = new Map(spans.filter((s) => s.kind === 2).map((s) => [s.name, s]));
      expect([...roots.keys()].sort()).toEqual(['GET /members/:id/payments', 'GET /members/:id/payments-eager']);

      const nPlusOne = roots.get('GET /members/:id/payments')!.events.filter((e) => e.attributes['perf.finding.type'] === 'n_plus_one');
      expect(nPlusOne).toHaveLength(1);
      const f = nPlusOne[0].attributes;
      expect(f['perf.finding.repeat_count']).toBe(20);
      expect([f['code.filepath'], f['code.lineno']]).toEqual([SERVER, LAZY_LINE]);
      expect(f['perf.finding.message']).toContain('N+1 in GET /members/:id/payments');
      expect(f['perf.finding.recommendation']).toContain('Sequelize: load the association with `include`');
      expect(f['perf.finding.recommendation']).toContain('"invoice_id" = ANY($1)');

      const fixed = roots.get('GET /members/:id/payments-eager')!;
      expect(fixed.events.filter((e) => e.attributes['perf.finding.type'] === 'n_plus_one')).toHaveLength(0);
      expect(fixed.attributes['perf.query_count']).toBe(1);
    } finally {
      await receiver.close();
    }
  });
});
