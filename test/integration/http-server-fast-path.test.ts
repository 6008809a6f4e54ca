import { request as httpRequest, Agent } from 'node:http';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver, type DecodedSpan, type Receiver } from '../../collector/receiver';
import { startApp, type AppProcess } from '../support/app-process';

/*
 * Incoming requests the sampler will not record skip instrumentation-http
 * (src/instrumentation/http-server-fast-path.ts). The fixture is a real node:http service with a
 * real pg pool and a real downstream call; the test compares it with the fast path on and off.
 */

const FIXTURE = resolve(__dirname, '../fixtures/http-fast-path-app.js');

interface Seen {
  i: number;
  traceId: string;
  spanId: string;
  recording: boolean;
  sampledFlag: number;
  body: string;
  downstream: string | null;
  mismatches: string[];
}

interface Run {
  seen: Seen[];
  fastPath: number;
  spans: DecodedSpan[];
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const traceIdOf = (i: number): string => `4bf92f3577b34da6a3ce929d${hex(0x1000 + i, 8)}`;
const parentIdOf = (i: number): string => `00f067aa${hex(0x100 + i, 8)}`;

function post(agent: Agent, base: string, i: number, traceparent: string | undefined): Promise<void> {
  return new Promise((done, fail) => {
    const req = httpRequest(`${base}/work?i=${i}`, { method: 'POST', agent, headers: traceparent ? { traceparent } : {} }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? done() : fail(new Error(`request ${i}: HTTP ${res.statusCode}`))));
    });
    req.on('error', fail);
    // Two chunks, so 'data' fires after the handler returned.
    req.write(`body-${i}-`);
    setImmediate(() => req.end('end'));
  });
}

/** `count` requests, `parallel` at a time, over keep-alive sockets reused across requests. */
async function run(env: Record<string, string>, count: number, traceparentOf: (i: number) => string | undefined, parallel = 4): Promise<Run> {
  const receiver: Receiver = await startOtlpReceiver();
  const app: AppProcess = await startApp(FIXTURE, {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_LOG_FINDINGS: 'false', PERF_AGENT_COMPRESSION_ENABLED: 'false', ...env },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  try {
    for (let start = 1; start <= count; start += parallel) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < start + parallel && i <= count; i++) batch.push(post(agent, app.url, i, traceparentOf(i)));
      await Promise.all(batch);
    }
    const stats = await fetch(`${app.url}/stats`).then((r) => r.json() as Promise<{ fastPath: number }>);
    await app.stop('SIGTERM');
    const seen = app
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Seen)
      .sort((a, b) => a.i - b.i);
    expect(seen, app.stderr()).toHaveLength(count);
    const sampled = seen.filter((s) => s.sampledFlag === 1).length;
    const spans = sampled > 0 ? await receiver.waitFor((all) => workSpans(all).length >= sampled, 15_000) : receiver.spans();
    return { seen, fastPath: stats.fastPath, spans };
  } finally {
    agent.destroy();
    await app.stop('SIGKILL');
    await receiver.close();
  }
}

/** Server spans of the requests to /work (bare node:http: the span is named by its method). */
function workSpans(spans: DecodedSpan[]): DecodedSpan[] {
  return spans.filter((s) => s.kind === 2 && s.attributes['url.path'] === '/work');
}

/** The XOR of a trace id's four 32-bit words: what the ratio sampler compares with its bound. */
function traceIdWord(traceId: string): number {
  let acc = 0;
  for (let i = 0; i < 32; i += 8) acc = (acc ^ parseInt(traceId.slice(i, i + 8), 16)) >>> 0;
  return acc;
}

/** Server spans of /work by request, with what may differ run to run (ids, times, ports) left out. */
function shapes(spans: DecodedSpan[]): string[] {
  const volatile = new Set(['network.peer.port', 'server.port', 'client.port', 'http.response.body.size']);
  return workSpans(spans)
    .map((s) => {
      const attrs = Object.entries(s.attributes)
        .filter(([k]) => !volatile.has(k) && !k.startsWith('perf.'))
        .map(([k, v]) => `${k}=${String(v)}`)
        .sort()
        .join(',');
      return `${s.name}|${s.parentSpanId === '' ? 'root' : s.parentSpanId}|${attrs}`;
    })
    .sort();
}

const QUIET = { PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'false', PERF_AGENT_SAMPLING_MAX_TRACES_PER_SECOND: '100000' };

describe('incoming requests the sampler will not record skip instrumentation-http', () => {
  it('propagates the trace downstream with sampled=0 and keeps every listener in its request, as the contrib path does', async () => {
    // Every third request arrives with an unsampled traceparent, the rest start a trace here.
    const parentOf = (i: number): string | undefined => (i % 3 === 0 ? `00-${traceIdOf(i)}-${parentIdOf(i)}-00` : undefined);
    const env = { ...QUIET, PERF_AGENT_SAMPLING_RATE: '0' };
    const fast = await run(env, 12, parentOf);
    const contrib = await run({ ...env, FIXTURE_HTTP_FAST_PATH: 'off' }, 12, parentOf);
    // 12 requests to /work and the 12 downstream calls they made.
    expect(fast.fastPath).toBe(24);
    expect(contrib.fastPath).toBe(0);
    for (const r of [fast, contrib]) {
      for (const s of r.seen) {
        expect(s.mismatches, `request ${s.i}`).toEqual([]);
        expect(s.recording).toBe(false);
        expect(s.sampledFlag).toBe(0);
        expect(s.body).toBe(`body-${s.i}-end`);
        expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(s.traceId).not.toBe('0'.repeat(32));
        if (s.i % 3 === 0) expect(s.traceId).toBe(traceIdOf(s.i));
        // The downstream call carries this request's trace, not sampled.
        expect(s.downstream).toMatch(new RegExp(`^00-${s.traceId}-[0-9a-f]{16}-00$`));
      }
      expect(new Set(r.seen.map((s) => s.traceId)).size).toBe(12);
      expect(workSpans(r.spans)).toEqual([]);
    }
  });

  it('leaves sampled traces exactly as they are', async () => {
    const parentOf = (i: number): string | undefined => (i % 2 === 0 ? `00-${traceIdOf(i)}-${parentIdOf(i)}-01` : undefined);
    const env = { ...QUIET, PERF_AGENT_SAMPLING_RATE: '1' };
    const fast = await run(env, 8, parentOf);
    const contrib = await run({ ...env, FIXTURE_HTTP_FAST_PATH: 'off' }, 8, parentOf);
    expect(fast.fastPath).toBe(0);
    expect(fast.seen.every((s) => s.recording && s.sampledFlag === 1)).toBe(true);
    const withFast = shapes(fast.spans);
    expect(withFast).toHaveLength(8);
    expect(withFast).toEqual(shapes(contrib.spans));
    // A sampled remote parent is the server span's parent, in its trace.
    for (const s of fast.seen.filter((x) => x.i % 2 === 0)) {
      const span = fast.spans.find((x) => x.spanId === s.spanId)!;
      expect(span.traceId).toBe(traceIdOf(s.i));
      expect(span.parentSpanId).toBe(parentIdOf(s.i));
    }
  });

  it('gives a new trace the id its ratio decision was taken for, and decides once', async () => {
    const fast = await run({ ...QUIET, PERF_AGENT_SAMPLING_RATE: '0.5' }, 40, () => undefined);
    const bound = Math.floor(0.5 * 0xffffffff);
    for (const s of fast.seen) expect(s.recording, `request ${s.i} trace ${s.traceId}`).toBe(traceIdWord(s.traceId) < bound);
    const recorded = fast.seen.filter((s) => s.recording);
    // With 40 draws at 0.5 both sides are all but certain to be there.
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.length).toBeLessThan(40);
    // The unrecorded requests and their downstream calls (whose parent is not sampled).
    expect(fast.fastPath).toBe(2 * (40 - recorded.length));
    const exported = new Set(workSpans(fast.spans).map((s) => s.traceId));
    expect(exported).toEqual(new Set(recorded.map((s) => s.traceId)));
  });

  it('charges the keep-findings budget once per request', async () => {
    const started = Date.now();
    const fast = await run(
      { ...QUIET, PERF_AGENT_SAMPLING_RATE: '0', PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'true', PERF_AGENT_SAMPLING_KEEP_FINDINGS_MAX_PER_SECOND: '3', PERF_AGENT_SAMPLING_KEEP_FINDINGS_QUIET_PER_SECOND: '3' },
      8,
      () => undefined,
      1,
    );
    const seconds = (Date.now() - started) / 1000;
    const recorded = fast.seen.filter((s) => s.recording).length;
    // 3 in the bucket at start, 3 more per second since: charged twice, a request would use two.
    expect(recorded).toBeGreaterThanOrEqual(3);
    expect(recorded).toBeLessThanOrEqual(3 + Math.ceil(seconds * 3));
    expect(fast.seen.every((s) => s.sampledFlag === 0 && s.mismatches.length === 0)).toBe(true);
  });
});
