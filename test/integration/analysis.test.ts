import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type DecodedSpan, type Receiver } from '../../collector/receiver';
import { MEMBERS_API, REPO, getJson, startApp, type AppProcess } from '../support/app-process';

const SERVER = 2;
const THROWING_PLUGIN = resolve(__dirname, '../fixtures/throwing-plugin.js');

const roots = (spans: DecodedSpan[]) => spans.filter((s) => s.kind === SERVER && s.parentSpanId === '');

function rootOf(spans: DecodedSpan[], path: string): DecodedSpan {
  const root = roots(spans).find((s) => s.attributes['url.path'] === path);
  if (!root) throw new Error(`no root span for ${path}; roots: ${roots(spans).map((s) => s.attributes['url.path']).join(', ')}`);
  return root;
}

function findings(root: DecodedSpan, type?: string) {
  return root.events.filter((e) => e.name === 'perf.finding' && (!type || e.attributes['perf.finding.type'] === type));
}

async function runMembers(env: NodeJS.ProcessEnv, paths: string[], expectedRoots = paths.length) {
  const receiver = await startOtlpReceiver();
  const app = await startApp(MEMBERS_API, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...env } });
  for (const path of paths) expect((await fetch(app.url + path)).status).toBe(200);
  const exit = await app.stop('SIGTERM');
  const spans = expectedRoots > 0 ? await receiver.waitFor((all) => roots(all).length >= expectedRoots, 15_000) : [];
  return { receiver, app, exit, spans };
}

describe('analysis of the members service, read from the OTLP payload', () => {
  let run: Awaited<ReturnType<typeof runMembers>>;

  beforeAll(async () => {
    run = await runMembers({ PERF_AGENT_LOG_FINDINGS: 'true' }, [
      '/members/1/payments',
      '/members/1/payments-batched',
      '/members/1/payments-parallel',
      '/reports/slow?seconds=0.15',
    ]);
  });
  afterAll(async () => {
    await run?.receiver.close();
  });

  it('finds exactly one N+1 with its count and the call site in the example source', () => {
    const root = rootOf(run.spans, '/members/1/payments');
    const nPlusOne = findings(root, 'n_plus_one');
    expect(nPlusOne).toHaveLength(1);
    const f = nPlusOne[0].attributes;
    expect(f['perf.finding.repeat_count']).toBe(20);
    expect(f['perf.finding.severity']).toBe('warning');
    expect(f['perf.query.pattern']).toBe('SELECT id, paid_on, amount_cents, method FROM payments WHERE invoice_id = $1');
    expect(f['perf.query.fingerprint']).toMatch(/^[0-9a-f]{16}$/);
    expect(Number(f['perf.finding.total_ms'])).toBeGreaterThan(0);
    expect(String(f['code.filepath'])).toBe(resolve(REPO, 'examples/members-api/routes/payments.js'));
    expect(f['code.lineno']).toBe(9);
    expect(f['code.function']).toBe('findPaymentsForInvoice');
    expect(String(f['perf.finding.recommendation'])).toContain('invoice_id = ANY($1)');
  });

  it('annotates the local root with counts, health and sampling', () => {
    const a = rootOf(run.spans, '/members/1/payments').attributes;
    expect(a['perf.query_count']).toBe(21);
    expect(Number(a['perf.query_time_ms'])).toBeGreaterThan(0);
    expect(a['perf.n_plus_one.count']).toBe(1);
    expect(a['perf.findings.count']).toBe(findings(rootOf(run.spans, '/members/1/payments')).length);
    expect(Number(a['perf.health_score'])).toBeLessThan(100);
    expect(a['perf.health']).not.toBe('excellent');
    expect(a['perf.sampling.reason']).toBe('ratio');
    expect(a['perf.sampling.rate']).toBe(1);
  });

  it('finds the same N+1 when the queries run concurrently', () => {
    const nPlusOne = findings(rootOf(run.spans, '/members/1/payments-parallel'), 'n_plus_one');
    expect(nPlusOne).toHaveLength(1);
    expect(nPlusOne[0].attributes['perf.finding.repeat_count']).toBe(20);
    expect(nPlusOne[0].attributes['code.lineno']).toBe(9);
  });

  it('calls the sequential loop nothing but sequential, and the Promise.all twin concurrent (issue 11)', () => {
    const sequential = findings(rootOf(run.spans, '/members/1/payments'), 'n_plus_one')[0].attributes;
    expect(String(sequential['perf.finding.message'])).not.toMatch(/concurren/);
    expect(String(sequential['perf.finding.recommendation'])).not.toMatch(/concurren|Promise\.all/);
    const parallel = findings(rootOf(run.spans, '/members/1/payments-parallel'), 'n_plus_one')[0].attributes;
    expect(String(parallel['perf.finding.message'])).toContain('issued concurrently');
    expect(String(parallel['perf.finding.recommendation'])).toContain('Running them concurrently (Promise.all) does not fix it');
  });

  it('gives each N+1 the loop above the query helper as perf.finding.call_stack', () => {
    const payments = resolve(REPO, 'examples/members-api/routes/payments.js');
    const lineOf = (text: string): number => readFileSync(payments, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
    const stackOf = (path: string): string[] => String(findings(rootOf(run.spans, path), 'n_plus_one')[0].attributes['perf.finding.call_stack']).split('\n');
    const sequential = stackOf('/members/1/payments');
    expect(sequential.slice(0, 2)).toEqual([
      `at findPaymentsForInvoice (${payments}:9)`,
      `at paymentsNPlusOne (${payments}:${lineOf('await findPaymentsForInvoice(pool, invoice.id)')})`,
    ]);
    const parallel = stackOf('/members/1/payments-parallel');
    expect(parallel.slice(0, 2)).toEqual([
      `at findPaymentsForInvoice (${payments}:9)`,
      `at paymentsParallel (${payments}:${lineOf('Promise.all(invoices.map(')})`,
    ]);
    for (const stack of [sequential, parallel]) {
      expect(stack.length).toBeLessThanOrEqual(3);
      expect(stack.join('\n')).not.toMatch(/node_modules|otel-perf-agent\/(src|dist)/);
    }
  });

  it('finds nothing on the batched twin', () => {
    const root = rootOf(run.spans, '/members/1/payments-batched');
    expect(findings(root)).toEqual([]);
    expect(root.attributes['perf.findings.count']).toBe(0);
    expect(root.attributes['perf.query_count']).toBe(2);
    expect(root.attributes['perf.health_score']).toBe(100);
    expect(root.attributes['perf.health']).toBe('excellent');
  });

  it('reports a pg_sleep query as slow_query with its call site', () => {
    const slow = findings(rootOf(run.spans, '/reports/slow'), 'slow_query');
    expect(slow).toHaveLength(1);
    expect(slow[0].attributes['perf.query.pattern']).toBe('SELECT pg_sleep($1)');
    expect(String(slow[0].attributes['code.filepath'])).toMatch(/examples\/members-api\/routes\/reports\.js$/);
  });

  it('writes one JSON line per finding on stderr, readable as it is', () => {
    const lines = run.app.stderr().split('\n').filter((l) => l.startsWith('{'));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const nPlusOne = parsed.filter((p) => p.type === 'n_plus_one');
    expect(nPlusOne).toHaveLength(2); // sequential and parallel endpoints
    expect(nPlusOne[0].summary).toMatch(/^N\+1 in GET \/members\/:id\/payments: 20x SELECT .* FROM payments WHERE invoice_id = \$1 .* at examples\/members-api\/routes\/payments\.js:9 \(called from examples\/members-api\/routes\/payments\.js:50, examples\/members-api\/server\.js:\d+\) -> /);
    expect(String(nPlusOne[0].call_stack).split('\n')[1]).toMatch(/^at paymentsNPlusOne \(.*payments\.js:50\)$/);
    expect(parsed.some((p) => p.type === 'slow_query')).toBe(true);
  });
});

describe('keep-findings at sampling rate 0', () => {
  it('exports the N+1 trace, kept for its finding, and not the healthy one', async () => {
    const { receiver, spans } = await runMembers({ PERF_AGENT_SAMPLING_RATE: '0' }, ['/members/1', '/members/1/payments'], 1);
    try {
      await new Promise((done) => setTimeout(done, 300));
      const all = receiver.spans();
      expect(roots(all).map((r) => r.attributes['url.path'])).toEqual(['/members/1/payments']);
      expect(rootOf(spans, '/members/1/payments').attributes['perf.sampling.reason']).toBe('finding');
      expect(findings(rootOf(spans, '/members/1/payments'), 'n_plus_one')).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('exports nothing at rate 0 with keep-findings off', async () => {
    const { receiver } = await runMembers({ PERF_AGENT_SAMPLING_RATE: '0', PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'false' }, ['/members/1/payments'], 0);
    try {
      await new Promise((done) => setTimeout(done, 500));
      expect(receiver.spans()).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});

describe('PERF_AGENT_FAIL_ON', () => {
  it('turns a clean exit into exit code 1 with a summary when an N+1 was seen', async () => {
    const { receiver, app, exit } = await runMembers({ PERF_AGENT_FAIL_ON: 'n_plus_one' }, ['/members/1/payments']);
    await receiver.close();
    expect(exit).toEqual({ code: 1, signal: null });
    expect(app.stderr()).toMatch(/PERF_AGENT_FAIL_ON: this process saw 1 n_plus_one; exiting with code 1\./);
    expect(app.stderr()).toMatch(/- N\+1 in GET \/members\/:id\/payments: 20x/);
  });

  it('leaves the exit code alone when no such finding was seen', async () => {
    const { receiver, app, exit } = await runMembers({ PERF_AGENT_FAIL_ON: 'n_plus_one' }, ['/members/1/payments-batched']);
    await receiver.close();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(app.stderr()).not.toContain('PERF_AGENT_FAIL_ON');
  });
});

describe('plugins from PERF_AGENT_PLUGINS', () => {
  it('isolates plugins that throw, return garbage or run over budget; a good one adds its finding', async () => {
    const { receiver, app, spans } = await runMembers(
      { PERF_AGENT_PLUGINS: THROWING_PLUGIN },
      ['/members/1/payments', '/members/1/payments', '/members/1/payments', '/members/1/payments-batched'],
    );
    try {
      const all = roots(spans);
      expect(all).toHaveLength(4);
      // The built-in analyzers run undisturbed beside the misbehaving plugins.
      const nPlusOneRoute = '/members/1/payments';
      expect(all.map((root) => root.attributes['url.path']).sort()).toEqual([nPlusOneRoute, nPlusOneRoute, nPlusOneRoute, '/members/1/payments-batched']);
      for (const root of all) {
        const nPlusOne = root.attributes['url.path'] === nPlusOneRoute;
        expect(findings(root, 'plugin_seen')).toHaveLength(1);
        expect(root.attributes['perf.query_count']).toBe(nPlusOne ? 21 : 2);
        expect(findings(root, 'n_plus_one')).toHaveLength(nPlusOne ? 1 : 0);
      }
      const stderr = app.stderr();
      expect(stderr.match(/analyzer "always-throws" threw: boom from a plugin/g)).toHaveLength(1);
      expect(stderr).toMatch(/analyzer "returns-garbage" returned a finding whose type undefined/);
      expect(stderr).toMatch(/analyzer "too-slow" took [\d.]+ ms, over the 5 ms budget/);
      expect(stderr).toMatch(/analyzer "always-throws" failed 3 times in a row and is disabled/);
    } finally {
      await receiver.close();
    }
  });

  it('reports a plugin that cannot be loaded in one line and runs on', async () => {
    const { receiver, app, spans } = await runMembers({ PERF_AGENT_PLUGINS: './no/such/plugin.js' }, ['/members/1']);
    try {
      expect(roots(spans)).toHaveLength(1);
      expect(app.stderr()).toMatch(/PERF_AGENT_PLUGINS: ".\/no\/such\/plugin.js" could not be loaded \(Cannot find module/);
    } finally {
      await receiver.close();
    }
  });
});
