import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigStore, loadConfig } from '../src/config';
import type { ExportQueue } from '../src/export/export-queue';
import { createPipeline, type Pipeline } from '../src/pipeline';

const open: { pipeline: Pipeline; provider: BasicTracerProvider }[] = [];
afterEach(async () => {
  for (const { pipeline, provider } of open.splice(0)) {
    pipeline.shutdown();
    await provider.shutdown();
  }
});

function setup(env: NodeJS.ProcessEnv) {
  const loaded = loadConfig({ PERF_AGENT_LOG_FINDINGS: 'false', ...env });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  const exported: ReadableSpan[] = [];
  const clock = { t: 1000 };
  const queue = { add: (span: ReadableSpan) => exported.push(span) } as unknown as ExportQueue;
  const pipeline = createPipeline(new ConfigStore(loaded), queue, { now: () => clock.t });
  const provider = new BasicTracerProvider({ sampler: pipeline.sampler, spanProcessors: pipeline.processors });
  open.push({ pipeline, provider });
  const tracer = provider.getTracer('pipeline-test');
  /** One request with an N+1 (6 lookups): a finding, so the trace is worth keeping either way. */
  const request = (): void => {
    const root = tracer.startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/orders' } });
    const active = trace.setSpan(ROOT_CONTEXT, root);
    for (let i = 0; i < 6; i++) {
      tracer.startSpan('pg.query:SELECT', { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': `SELECT * FROM lines WHERE order_id = ${i}` } }, active).end();
    }
    root.end();
  };
  const exportedRoots = () => exported.filter((s) => s.kind === SpanKind.SERVER);
  return { pipeline, request, exportedRoots, clock };
}

describe('PERF_AGENT_SAMPLING_MAX_TRACES_PER_SECOND: one budget for every exported trace (issue 11)', () => {
  it('exports no more than the limit, whether the sampler kept the traces or the trace buffer kept them for a finding', () => {
    const { request, exportedRoots, clock } = setup({
      PERF_AGENT_SAMPLING_RATE: '0.5',
      PERF_AGENT_SAMPLING_MAX_TRACES_PER_SECOND: '5',
      PERF_AGENT_SAMPLING_KEEP_FINDINGS_MAX_PER_SECOND: '1000',
    });
    for (let i = 0; i < 40; i++) request();
    let roots = exportedRoots();
    expect(roots).toHaveLength(5); // the bucket holds one second's worth; the clock stands still
    const reasons = new Set(roots.map((r) => r.attributes['perf.sampling.reason']));
    for (const reason of reasons) expect(['ratio', 'finding']).toContain(reason);

    clock.t += 1000; // one more second: five more
    for (let i = 0; i < 40; i++) request();
    roots = exportedRoots();
    expect(roots).toHaveLength(10);
  });
});

describe('keep-findings recording follows the findings (PERF_AGENT_SAMPLING_KEEP_FINDINGS_QUIET_PER_SECOND)', () => {
  it('records a clean operation at the quiet rate, one with findings at the full rate', () => {
    const { pipeline, request, clock } = setup({
      PERF_AGENT_SAMPLING_RATE: '0',
      PERF_AGENT_SAMPLING_KEEP_FINDINGS_MAX_PER_SECOND: '5',
      PERF_AGENT_SAMPLING_KEEP_FINDINGS_QUIET_PER_SECOND: '1',
    });
    const provider = open[open.length - 1].provider;
    const tracer = provider.getTracer('pipeline-test');
    const clean = (): void => {
      const root = tracer.startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/health' } });
      tracer.startSpan('pg.query:SELECT', { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT 1' } }, trace.setSpan(ROOT_CONTEXT, root)).end();
      root.end();
    };
    /** Traces analyzed in one second of 20 requests of each kind, by kind. */
    const oneSecond = (): { clean: number; nPlusOne: number } => {
      let before = pipeline.buffer.stats.analyzedTraces;
      for (let i = 0; i < 20; i++) {
        clean();
        clock.t += 25;
      }
      const cleanCount = pipeline.buffer.stats.analyzedTraces - before;
      before = pipeline.buffer.stats.analyzedTraces;
      for (let i = 0; i < 20; i++) {
        request();
        clock.t += 25;
      }
      return { clean: cleanCount, nPlusOne: pipeline.buffer.stats.analyzedTraces - before };
    };
    // /health never has a finding: after its first burst of five, one a second. /orders has an
    // N+1 in its first recorded request: five a second from then on.
    const first = oneSecond();
    expect(first.clean).toBe(5);
    const steady = [oneSecond(), oneSecond(), oneSecond()];
    expect(steady).toEqual([{ clean: 1, nPlusOne: 5 }, { clean: 1, nPlusOne: 5 }, { clean: 1, nPlusOne: 5 }]);
    // Its findings keep it there: a minute and a half later, still five a second.
    for (let i = 0; i < 90; i++) oneSecond();
    expect(oneSecond()).toEqual({ clean: 1, nPlusOne: 5 });
  });
});
