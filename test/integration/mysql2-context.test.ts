import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../collector/receiver';
import { reachable } from '../support/net';
import { startApp } from '../support/app-process';

const APP = resolve(__dirname, '../fixtures/mysql-context-app.js');
const SERVER = 2;
const MODES = ['callback', 'execute', 'promise'] as const;
const IDS = [1, 2, 3, 4, 5, 6];


describe('mysql2 pool continuations under contention (MariaDB on 127.0.0.1:3306)', async () => {
  const up = await reachable(3306);
  if (!up) console.log('mysql2 context tests: no MariaDB/MySQL on 127.0.0.1:3306; skipped');

  it.runIf(up)("runs each Pool#query/execute callback and promise continuation in its own request's trace", async () => {
    const receiver = await startOtlpReceiver();
    const app = await startApp(APP, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_COMPRESSION_ENABLED: 'false', PERF_AGENT_LOG_FINDINGS: 'false' } });
    try {
      // 6 requests at a time on a pool of 2: most first queries wait for a connection another request releases.
      for (const mode of MODES) {
        const statuses = await Promise.all(IDS.map((i) => fetch(`${app.url}/${mode}/${i}`).then((r) => r.status)));
        expect(statuses, mode).toEqual(IDS.map(() => 200));
      }
      await app.stop('SIGTERM');
      const total = MODES.length * IDS.length;
      const spans = await receiver.waitFor((all) => all.filter((s) => s.kind === SERVER).length >= total, 15_000);
      const wrong: string[] = [];
      for (const mode of MODES) {
        for (const i of IDS) {
          const path = `/${mode}/${i}`;
          const root = spans.find((s) => s.kind === SERVER && s.attributes['url.path'] === path);
          expect(root, path).toBeDefined();
          const queries = spans.filter((s) => s.traceId === root!.traceId && s.attributes['db.system.name'] === 'mysql');
          const text = (s: (typeof queries)[number]) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement']);
          // Both the first query and the follow-up started from its continuation belong to this request.
          const firsts = queries.filter((q) => text(q).includes('SLEEP')).length;
          const follows = queries.filter((q) => text(q).includes('follow_up')).length;
          if (firsts !== 1 || follows !== 1) wrong.push(`${path}: ${firsts} first, ${follows} follow-up queries in its trace`);
        }
      }
      expect(wrong).toEqual([]);
    } finally {
      await app.stop('SIGKILL');
      await receiver.close();
    }
  });
});
