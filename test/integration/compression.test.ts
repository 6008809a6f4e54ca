import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../collector/receiver';
import { MEMBERS_API, startApp } from '../support/app-process';

const SERVER = 2;

async function trace(path: string, env: NodeJS.ProcessEnv = {}) {
  const receiver = await startOtlpReceiver();
  const app = await startApp(MEMBERS_API, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_LOG_FINDINGS: 'false', ...env } });
  try {
    expect((await fetch(app.url + path)).status).toBe(200);
    await app.stop('SIGTERM');
    const spans = await receiver.waitFor((all) => all.some((s) => s.kind === SERVER), 15_000);
    const root = spans.find((s) => s.kind === SERVER)!;
    return { root, spans: spans.filter((s) => s.traceId === root.traceId), requests: receiver.requests };
  } finally {
    await app.stop('SIGKILL');
    await receiver.close();
  }
}

describe('span compression on the wire', () => {
  it('collapses the 20 repeated payment queries of the N+1 endpoint into one composite span', async () => {
    const { root, spans } = await trace('/members/1/payments');
    expect(spans).toHaveLength(3); // root, the invoices query, one composite
    const composite = spans.find((s) => s.attributes['perf.composite.count'] !== undefined)!;
    const a = composite.attributes;
    expect(a['perf.composite.count']).toBe(20);
    expect(a['perf.composite.strategy']).toBe('exact_match');
    expect(a['db.query.text']).toBe('SELECT id, paid_on, amount_cents, method FROM payments WHERE invoice_id = $1');
    const sum = Number(a['perf.composite.sum_ms']);
    const min = Number(a['perf.composite.min_ms']);
    const max = Number(a['perf.composite.max_ms']);
    expect(min).toBeGreaterThan(0);
    expect(min).toBeLessThanOrEqual(max);
    expect(sum).toBeGreaterThanOrEqual(max * 1);
    expect(sum).toBeLessThanOrEqual(max * 20 + 1e-6);
    // Sequential queries: the composite spans from the first start to the last end.
    expect(composite.durationMs).toBeGreaterThanOrEqual(sum - 0.01);
    expect(composite.parentSpanId).toBe(root.spanId);
    expect(root.attributes['perf.query_count']).toBe(21); // analysis saw every query before compression
  });

  it('keeps every span with PERF_AGENT_COMPRESSION_ENABLED=false', async () => {
    const { spans } = await trace('/members/1/payments', { PERF_AGENT_COMPRESSION_ENABLED: 'false' });
    expect(spans).toHaveLength(22);
    expect(spans.some((s) => s.attributes['perf.composite.count'] !== undefined)).toBe(false);
  });

  it('collapses different statements to the same database with the same_kind strategy when enabled', async () => {
    const { spans } = await trace('/members/2', { PERF_AGENT_COMPRESSION_SAME_KIND_MAX_MS: '1000' });
    const composite = spans.find((s) => s.attributes['perf.composite.strategy'] === 'same_kind');
    expect(composite?.attributes['perf.composite.count']).toBe(2);
    expect(spans).toHaveLength(2);
  });
});
