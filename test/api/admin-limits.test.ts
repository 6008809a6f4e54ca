import { connect, createServer, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, startApp, type AppProcess } from '../support/app-process';
import { assertValidReport } from '../support/report-schema';

// The admin API's bounds, probed from outside against a real agent process: what an
// unauthenticated, slow or hostile client can make it hold, and what a client is told.

const BUSY_APP = resolve(__dirname, '../fixtures/busy-app.js');
const TOKEN = 'limits-token-456';

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

let app: AppProcess;
let port: number;
let admin: string;

beforeAll(async () => {
  port = await freePort();
  admin = `http://127.0.0.1:${port}`;
  app = await startApp(BUSY_APP, {
    env: {
      OTEL_TRACES_EXPORTER: 'none',
      PERF_AGENT_ADMIN_PORT: String(port),
      PERF_AGENT_ADMIN_TOKEN: TOKEN,
      PERF_AGENT_LOG_FINDINGS: 'false',
      AGENT_MODULE: resolve(REPO, 'dist/index.js'),
      // 5,000 measure() calls that never settle, more than the trace buffer's 4,096 traces.
      HANG_MEASURES: '5000',
    },
  });
  // The worker listens shortly after the app does.
  for (let i = 0; i < 50; i++) {
    if (await fetch(admin + '/perf/health').then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await app?.stop('SIGKILL');
});

/** Sends raw bytes and collects what comes back until the server closes or `waitMs` passes. */
function raw(data: string, waitMs: number): Promise<{ text: string; closed: boolean; socket: Socket }> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const timer = setTimeout(() => done({ text, closed, socket }), waitMs);
    socket.on('data', (d) => {
      text += d;
      if (/\r\n\r\n/.test(text) && /"metadata"/.test(text)) {
        clearTimeout(timer);
        done({ text, closed, socket });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      done({ text, closed, socket });
    });
    socket.write(data);
  });
}

const patchHead = (length: number, auth?: string): string =>
  `PATCH /perf/config HTTP/1.1\r\nHost: admin\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n${auth ? `authorization: ${auth}\r\n` : ''}\r\n`;

describe('measure() in the admin API', () => {
  it('keeps never-settling measure() calls in their own bound: requests are still analyzed', async () => {
    for (let i = 0; i < 3; i++) expect(await (await fetch(`${app.url}/?i=${i}`)).text()).toBe('ok');
    const health = (await (await fetch(admin + '/perf/health?after=requests')).json()) as Record<string, any>;
    expect(health.traceBuffer.bypassedTraces).toBe(0);
    expect(health.traceBuffer.analyzedTraces).toBeGreaterThanOrEqual(3);
    expect(health.traceBuffer.tracesInFlight).toBeLessThanOrEqual(64 + 1);
    expect(app.stderr()).toContain('more than 64 measure() calls are open at once');
  });

  it('records the report of a measure() whose function threw, while the caller gets the error', async () => {
    expect(await (await fetch(`${app.url}/measure-fail`)).text()).toBe('caught job failed');
    const res = await fetch(admin + '/perf/report?operation=' + encodeURIComponent('failing job'));
    const body = (await res.json()) as Record<string, any>;
    expect(res.status).toBe(200);
    const report = body.reports.find((r: { operation: string; status: string }) => r.operation === 'failing job' && r.status === 'error');
    expect(report, JSON.stringify(body)).toBeDefined();
    assertValidReport(report);
    expect(report).toMatchObject({ status: 'error', error: { name: 'Error', message: 'job failed' } });
  });
});

describe('admin API bounds', () => {
  it('answers an unauthenticated PATCH with 401 on its headers, without waiting for the body', async () => {
    const { text, socket } = await raw(patchHead(60_000), 2000);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 401/);
    expect(text.toLowerCase()).toContain('connection: close');
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ status: 'error', metadata: { version: expect.any(String) } });
    expect(body.error).toContain('bearer token');
  });

  it('answers an oversized body with 413 that the client actually receives', async () => {
    const res = await fetch(admin + '/perf/config', {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ 'sampling.rate': 0.5, padding: 'x'.repeat(1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as Record<string, any>;
    expect(body.status).toBe('error');
    expect(body.error).toContain('65536 bytes');
    expect(body.metadata.version).toBeTruthy();
  });

  it('answers 413 to a chunked body that grows past the limit, then closes', async () => {
    const chunk = 'a'.repeat(16 * 1024);
    const head = `PATCH /perf/config HTTP/1.1\r\nHost: admin\r\nauthorization: Bearer ${TOKEN}\r\ntransfer-encoding: chunked\r\n\r\n`;
    const body = Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const { text, socket } = await raw(head + body, 3000);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 413/);
  });

  it('answers a malformed request with 400 in the envelope', async () => {
    const { text, socket } = await raw('THIS IS NOT HTTP\r\n\r\n', 3000);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 400/);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).status).toBe('error');
  });

  it('refuses a 10,000-deep body with 400, not a stack overflow', async () => {
    const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const res = await fetch(admin + '/perf/config', { method: 'PATCH', headers: { authorization: `Bearer ${TOKEN}` }, body: deep });
    const body = (await res.json()) as Record<string, any>;
    expect(res.status).toBe(400);
    expect(body.issues[0].allowed).toContain('nested at most');
  });

  it('closes connections past its cap at once, and the slow ones after a short header timeout', async () => {
    const sockets: { socket: Socket; closedAt?: number }[] = [];
    const opened = Date.now();
    for (let i = 0; i < 80; i++) {
      const entry: { socket: Socket; closedAt?: number } = { socket: connect(port, '127.0.0.1') };
      entry.socket.on('error', () => undefined);
      entry.socket.resume(); // read what the server says (a 408), so its close is seen
      entry.socket.on('close', () => (entry.closedAt = Date.now()));
      entry.socket.write('GET /perf/health HTTP/1.1\r\nHost: admin\r\n'); // headers never finished
      sockets.push(entry);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const closedEarly = sockets.filter((s) => s.closedAt !== undefined).length;
    expect(closedEarly).toBeGreaterThanOrEqual(80 - 32);
    // The rest are held at most for the header timeout (3 s, checked every 0.5 s), not Node's 60 s.
    const deadline = Date.now() + 10_000;
    while (sockets.some((s) => s.closedAt === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    for (const s of sockets) s.socket.destroy();
    expect(sockets.filter((s) => s.closedAt === undefined)).toHaveLength(0);
    expect(Math.max(...sockets.map((s) => s.closedAt!)) - opened).toBeLessThan(10_000);
    // And it still answers afterwards.
    expect((await fetch(admin + '/perf/health')).status).toBe(200);
  }, 20_000);

  it('closes a request whose body never comes, after the request timeout', async () => {
    const started = Date.now();
    const { text, closed, socket } = await raw(patchHead(100, `Bearer ${TOKEN}`) + '{"sampling', 12_000);
    socket.destroy();
    expect(text, `closed: ${closed}`).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 'error', error: expect.stringContaining('not complete within 5000 ms'), metadata: { version: expect.any(String) } });
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 15_000);

  it('never applies a PATCH it answered 503 (the main thread was busy past the deadline)', async () => {
    // Read from the per-setting rows, which every version of the API has.
    const slowQueryMs = async (query: string) =>
      ((await (await fetch(`${admin}/perf/config?${query}`)).json()) as { settings: { key: string; current: string }[] }).settings.find((s) => s.key === 'thresholds.slowQueryMs')!.current;
    expect(await slowQueryMs('before')).toBe('100');
    const blocked = fetch(`${app.url}/block?ms=7000`);
    await new Promise((r) => setTimeout(r, 300));
    const res = await fetch(admin + '/perf/config', {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ 'thresholds.slowQueryMs': 7 }),
    });
    const body = (await res.json()) as Record<string, any>;
    expect(res.status).toBe(503);
    await blocked;
    await new Promise((r) => setTimeout(r, 200));
    // Told "failed", so it must not have happened later either.
    expect(await slowQueryMs('after')).toBe('100');
    expect(body).toMatchObject({ status: 'error', applied: false, metadata: { version: expect.any(String) } });
    expect(body.error).toContain('not applied');
  }, 20_000);
});
