import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver, type DecodedSpan } from '../../collector/receiver';
import { reachable } from '../support/net';
import { startApp } from '../support/app-process';

const FIXTURE = resolve(__dirname, '../fixtures/fast-path-app.js');
const REQUESTS = 6;


interface FixtureResult {
  checks: number;
  mismatches: string[];
  fastPath: number;
  shadow: number;
}

async function run(env: Record<string, string>): Promise<{ result: FixtureResult; spans: DecodedSpan[] }> {
  const receiver = await startOtlpReceiver();
  const app = await startApp(FIXTURE, {
    waitForListening: false,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_COMPRESSION_ENABLED: 'false', PERF_AGENT_LOG_FINDINGS: 'false', ...env },
  });
  try {
    const exit = await app.exited;
    expect(exit.code, app.stderr()).toBe(0);
    const line = app.stdout().split('\n').find((l) => l.startsWith('{'));
    expect(line, app.stdout() + app.stderr()).toBeDefined();
    const sampled = env.PERF_AGENT_SAMPLING_RATE === '1' || env.PERF_AGENT_SAMPLING_KEEP_FINDINGS === 'true';
    const spans = sampled ? await receiver.waitFor((all) => all.filter((s) => s.name === 'GET /fixture').length >= REQUESTS, 15_000) : receiver.spans();
    return { result: JSON.parse(line!) as FixtureResult, spans };
  } finally {
    await app.stop('SIGKILL');
    await receiver.close();
  }
}

/**
 * Each request's trace with ids, times and timing-dependent values taken out: numbers, the
 * finding's message (it quotes milliseconds) and recommendation (it notes queries that overlap,
 * which the SDK's millisecond start times decide by chance, run to run).
 */
const TIMED = new Set(['perf.finding.message', 'perf.finding.recommendation']);
function shapes(spans: DecodedSpan[]): string[][] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const roots = spans.filter((s) => s.name === 'GET /fixture').sort((a, b) => Number(a.attributes['fixture.request']) - Number(b.attributes['fixture.request']));
  return roots.map((root) =>
    spans
      .filter((s) => s.traceId === root.traceId)
      .map((s) => {
        const attrs = Object.entries(s.attributes)
          .map(([k, v]) => `${k}=${k.startsWith('perf.') && typeof v === 'number' ? 'number' : String(v)}`)
          .sort()
          .join(',');
        const events = s.events
          .map((e) => `${e.name}{${Object.entries(e.attributes).map(([k, v]) => `${k}=${TIMED.has(k) || typeof v === 'number' ? typeof v : String(v)}`).sort().join(',')}}`)
          .sort()
          .join(',');
        return `${s.name}|${s.kind}|${byId.get(s.parentSpanId)?.name ?? '-'}|${s.status.code}|${s.status.message ?? ''}|${attrs}|${events}`;
      })
      .sort(),
  );
}

/**
 * Context checks outside mysql2 connection callbacks: the contrib path leaves those in the
 * context of the socket's request, which varies run to run.
 */
function poolLevel(mismatches: string[]): string[] {
  return mismatches.filter((m) => !m.startsWith('mysql2 Connection'));
}

describe('queries under an unsampled request skip the contrib instrumentations', async () => {
  const mysqlUp = await reachable(3306);
  const base = {
    FIXTURE_MYSQL: mysqlUp ? '1' : '0',
    PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'false',
    // Findings and composites that depend on timing would make two runs differ by chance (a
    // loaded machine makes queries slow).
    PERF_AGENT_THRESHOLDS_SLOW_QUERY_MS: '60000',
    PERF_AGENT_THRESHOLDS_EXECUTION_TIME_MS_EXCELLENT: '60000',
    PERF_AGENT_THRESHOLDS_EXECUTION_TIME_MS_GOOD: '60001',
    PERF_AGENT_THRESHOLDS_EXECUTION_TIME_MS_WARNING: '60002',
    PERF_AGENT_THRESHOLDS_EXECUTION_TIME_MS_CRITICAL: '60003',
    PERF_AGENT_COMPRESSION_EXACT_MATCH_MAX_MS: '60000',
  };

  it('runs every callback and continuation in its own request, as the contrib path does', async () => {
    const unsampled = { ...base, PERF_AGENT_SAMPLING_RATE: '0' };
    const [fast, contrib] = [await run(unsampled), await run({ ...unsampled, FIXTURE_FAST_PATH: 'off' })];
    // 6 pg Client#query per request (2 of them through Pool#query), 8 mysql2 connection queries
    // (3 of them through Pool#query).
    expect(fast.result.fastPath).toBe(REQUESTS * (6 + (mysqlUp ? 8 : 0)));
    expect(contrib.result.fastPath).toBe(0);
    expect(fast.result.checks).toBeGreaterThanOrEqual(REQUESTS * 5);
    expect(fast.result.mismatches.filter((m) => m.startsWith('pg '))).toEqual([]);
    expect(poolLevel(fast.result.mismatches)).toEqual(poolLevel(contrib.result.mismatches));
    expect(fast.spans.filter((s) => s.name === 'GET /fixture')).toEqual([]);
  });

  it('leaves sampled traces exactly as they are: same spans, same attributes', async () => {
    const sampled = { ...base, PERF_AGENT_SAMPLING_RATE: '1' };
    const [fast, contrib] = [await run(sampled), await run({ ...sampled, FIXTURE_FAST_PATH: 'off' })];
    expect(fast.result.fastPath).toBe(0);
    const withFast = shapes(fast.spans);
    expect(withFast).toHaveLength(REQUESTS);
    // 1 root + 6 pg queries (+ 8 mysql2) per request: nothing went missing.
    for (const t of withFast) expect(t).toHaveLength(1 + 6 + (mysqlUp ? 8 : 0));
    expect(withFast).toEqual(shapes(contrib.spans));
    expect(poolLevel(fast.result.mismatches)).toEqual(poolLevel(contrib.result.mismatches));
  });

  it('builds sampled traces from the shadow record exactly as full recording does', async () => {
    const sampled = { ...base, PERF_AGENT_SAMPLING_RATE: '1', FIXTURE_REPEATS: '6' };
    const [shadow, full] = [await run(sampled), await run({ ...sampled, FIXTURE_SHADOW: 'off' })];
    // 10 pg queries (4 + 6 repeats) and 12 mysql2 connection queries (6 + 6 repeats) per request
    // left a shadow instead of a span; none with the shadow off.
    expect(shadow.result.shadow).toBe(REQUESTS * (10 + (mysqlUp ? 12 : 0)));
    expect(full.result.shadow).toBe(0);
    expect(poolLevel(shadow.result.mismatches)).toEqual(poolLevel(full.result.mismatches));
    expect(shadow.result.mismatches.filter((m) => m.startsWith('mysql2 Connection'))).toEqual([]);
    const traces = shapes(shadow.spans);
    expect(traces).toHaveLength(REQUESTS);
    for (const t of traces) expect(t.filter((s) => s.startsWith('pg.query:'))).toHaveLength(10);
    if (mysqlUp) for (const t of traces) expect(t.filter((s) => s.includes('db.system.name=mysql'))).toHaveLength(12);
    expect(traces).toEqual(shapes(full.spans));
  });

  it('keeps a trace with a finding (or an error) from the shadow record exactly as full recording kept it', async () => {
    const keep = {
      ...base,
      PERF_AGENT_SAMPLING_RATE: '0',
      PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'true',
      FIXTURE_REPEATS: '6',
      FIXTURE_ERRORS: '1',
    };
    // Compression off: it is the same pure function over the same spans either way, but which
    // queries form one run can differ by chance where start times tie within a millisecond.
    const [shadow, full] = [await run(keep), await run({ ...keep, FIXTURE_SHADOW: 'off' })];
    // Per request, 10 pg queries (4 + 6 repeats) and 12 mysql2 connection queries (6 + 6 repeats,
    // 3 of them Query commands from Pool#query) left a shadow instead of a span, and request 1's
    // failing queries; none with the shadow off.
    expect(shadow.result.shadow).toBe(REQUESTS * (10 + (mysqlUp ? 12 : 0)) + 1 + (mysqlUp ? 1 : 0));
    expect(full.result.shadow).toBe(0);
    expect(poolLevel(shadow.result.mismatches)).toEqual(poolLevel(full.result.mismatches));
    // Shadowed mysql2 callbacks are bound to their caller's context.
    expect(shadow.result.mismatches.filter((m) => m.startsWith('mysql2 Connection'))).toEqual([]);
    const kept = shapes(shadow.spans);
    expect(kept).toHaveLength(REQUESTS);
    for (const [n, t] of kept.entries()) {
      const root = t.find((s) => s.startsWith('GET /fixture|'));
      expect(root).toContain(`perf.sampling.reason=${n === 0 ? 'error' : 'finding'}`);
      expect(root).toContain('perf.finding.type=n_plus_one');
      expect(root).toContain(`code.filepath=${FIXTURE}`);
      if (!mysqlUp) continue;
      // Both N+1s were found: pg's and mysql2's, the latter from shadow queries only.
      expect(root).toMatch(/perf\.finding\{[^}]*perf\.finding\.type=n_plus_one[^}]*UNION ALL/);
      expect(t.filter((s) => s.includes('db.system.name=mysql'))).toHaveLength(6 + 6 + (n === 0 ? 1 : 0));
      expect(t.filter((s) => s.startsWith('SET|') && s.includes('db.query.text=SET @fixture_n = ?'))).toHaveLength(1);
    }
    // The failed queries: error status and exception event with the value scrubbed out of their
    // messages, the code kept, as the statement processor does to a span.
    const pgFailed = kept[0].find((s) => s.startsWith('pg.query:') && s.includes('|2|'));
    expect(pgFailed).toContain('db.response.status_code=22P02');
    expect(pgFailed).toContain('exception{exception.message=');
    expect(pgFailed).not.toContain('secret');
    if (mysqlUp) {
      const failed = kept[0].find((s) => s.includes('information_schema'));
      expect(failed).toMatch(/^SELECT\|\d\|GET \/fixture\|2\|Duplicate entry /);
      expect(failed).toContain('db.response.status_code=1062');
      expect(failed).not.toContain('secret');
    }
    expect(kept).toEqual(shapes(full.spans));
  });
});
