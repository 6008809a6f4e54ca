import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../collector/receiver';
import { MEMBERS_API, startApp } from '../support/app-process';

const SERVER = 2;

describe('queries under pool contention', () => {
  it("keeps every request's queries in its own trace when requests wait for a pooled client", async () => {
    const receiver = await startOtlpReceiver();
    // 12 requests x 20 parallel queries on a pool of 10: most queries wait for a client that
    // another request releases.
    const app = await startApp(MEMBERS_API, {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_COMPRESSION_ENABLED: 'false', PERF_AGENT_LOG_FINDINGS: 'false' },
    });
    try {
      const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
      const bodies = await Promise.all(ids.map((id) => fetch(`${app.url}/members/${id}/payments-parallel`).then((r) => r.json())));
      await app.stop('SIGTERM');
      const spans = await receiver.waitFor((all) => all.filter((s) => s.kind === SERVER).length >= ids.length, 15_000);
      for (const [i, id] of ids.entries()) {
        const root = spans.find((s) => s.kind === SERVER && s.attributes['url.path'] === `/members/${id}/payments-parallel`)!;
        const expected = 1 + (bodies[i] as { invoices: unknown[] }).invoices.length;
        const queries = spans.filter((s) => s.traceId === root.traceId && s.attributes['db.system.name'] === 'postgresql');
        expect(queries, `member ${id}`).toHaveLength(expected);
        expect(root.attributes['perf.query_count'], `member ${id}`).toBe(expected);
        for (const q of queries) expect(q.parentSpanId).toBe(root.spanId);
      }
    } finally {
      await app.stop('SIGKILL');
      await receiver.close();
    }
  });
});
