import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type Receiver } from '../../collector/receiver';
import { REGISTER, startApp, type AppProcess } from '../support/app-process';

const QUERY_APP = resolve(__dirname, '../fixtures/query-app.js');
const SERVER = 2;

let receiver: Receiver | undefined;
let app: AppProcess | undefined;

afterEach(async () => {
  await app?.stop('SIGKILL');
  await receiver?.close();
  app = undefined;
  receiver = undefined;
});

async function run(env: NodeJS.ProcessEnv, options: { agent?: boolean } = {}) {
  receiver = await startOtlpReceiver();
  app = await startApp(QUERY_APP, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...env }, ...options });
  const res = await fetch(app.url);
  return { receiver, app, body: await res.json() };
}

const hasServerSpan = (spans: { kind: number }[]) => spans.some((s) => s.kind === SERVER);

describe('flushing at the end of the process, without changing how it ends', () => {
  it('SIGTERM with no handler in the app: spans flushed, then the default action (killed by SIGTERM)', async () => {
    const { receiver: r, app: a } = await run({ EXIT_MODE: 'signal-default' });
    expect(await a.stop('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });
    const spans = await r.waitFor(hasServerSpan, 5000);
    expect(spans.some((s) => s.name.startsWith('pg.query'))).toBe(true);
  });

  it('SIGINT with no handler: flushed, then killed by SIGINT', async () => {
    const { receiver: r, app: a } = await run({ EXIT_MODE: 'signal-default' });
    expect(await a.stop('SIGINT')).toEqual({ code: null, signal: 'SIGINT' });
    await r.waitFor(hasServerSpan, 5000);
  });

  it('process.exit(3) right after a request: spans delivered, exit code 3 kept', async () => {
    const { receiver: r, app: a } = await run({ EXIT_MODE: 'exit-code' });
    expect(await a.exited).toEqual({ code: 3, signal: null });
    const spans = await r.waitFor(hasServerSpan, 5000);
    expect(spans.some((s) => s.name.startsWith('pg.query'))).toBe(true);
  });

  it('event loop running dry: spans delivered before the process ends with 0', async () => {
    const { receiver: r, app: a } = await run({ EXIT_MODE: 'drain' });
    expect(await a.exited).toEqual({ code: 0, signal: null });
    await r.waitFor(hasServerSpan, 5000);
  });

  it('also works preloaded through NODE_OPTIONS', async () => {
    const { receiver: r, app: a } = await run({ EXIT_MODE: 'signal-default', NODE_OPTIONS: `--require ${REGISTER}` }, { agent: false });
    await a.stop('SIGTERM');
    await r.waitFor(hasServerSpan, 5000);
  });

  it('keeps literals of the query out of the payload', async () => {
    const { receiver: r, app: a, body } = await run({ EXIT_MODE: 'signal-default' });
    expect(body).toEqual({ email: 'secret@example.com', answer: 42 });
    await a.stop('SIGTERM');
    const spans = await r.waitFor((all) => all.some((s) => s.name.startsWith('pg.query')), 5000);
    const query = spans.find((s) => s.name.startsWith('pg.query'))!;
    expect(query.attributes['db.query.text']).toBe('SELECT ? AS email, ? AS answer WHERE ? = $1');
    expect(JSON.stringify(spans, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('secret@example.com');
  });
});

describe('the application runs untraced when the agent is off', () => {
  it.each([
    ['an invalid setting', { PERF_AGENT_SAMPLING_RATE: '1.5' }, /PERF_AGENT_SAMPLING_RATE=1\.5 is not allowed; expected a number from 0 to 1/],
    ['a port that is not a number', { PERF_AGENT_ADMIN_PORT: 'abc' }, /PERF_AGENT_ADMIN_PORT="abc"/],
    ['OTEL_SDK_DISABLED', { OTEL_SDK_DISABLED: 'true' }, null],
  ])('%s', async (_what, env, message) => {
    const { receiver: r, app: a, body } = await run({ EXIT_MODE: 'signal-default', ...env });
    expect(body).toEqual({ email: 'secret@example.com', answer: 42 });
    await a.stop('SIGTERM');
    await new Promise((done) => setTimeout(done, 300));
    expect(r.requests).toHaveLength(0);
    if (message) {
      const lines = a.stderr().split('\n').filter((l) => l.includes('otel-perf-agent'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    } else {
      expect(a.stderr()).not.toContain('otel-perf-agent');
    }
  });
});

describe('OTEL_TRACES_EXPORTER', () => {
  it('console prints spans on stdout and sends nothing', async () => {
    const { receiver: r, app: a } = await run({ EXIT_MODE: 'signal-default', OTEL_TRACES_EXPORTER: 'console' });
    await a.stop('SIGTERM');
    expect(a.stdout()).toMatch(/pg\.query/);
    expect(a.stdout()).toContain('perf.query.fingerprint');
    expect(r.requests).toHaveLength(0);
  });

  it('none sends nothing and the app still works', async () => {
    const { receiver: r, app: a, body } = await run({ EXIT_MODE: 'signal-default', OTEL_TRACES_EXPORTER: 'none' });
    expect(body.answer).toBe(42);
    await a.stop('SIGTERM');
    await new Promise((done) => setTimeout(done, 300));
    expect(r.requests).toHaveLength(0);
  });
});

describe('endpoint and header variables', () => {
  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is, and headers are sent', async () => {
    receiver = await startOtlpReceiver();
    const r = receiver;
    app = await startApp(QUERY_APP, {
      env: {
        EXIT_MODE: 'signal-default',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${r.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20def,x-tenant=t1',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci,team=payments',
      },
    });
    await fetch(app.url);
    await app.stop('SIGTERM');
    const spans = await r.waitFor(hasServerSpan, 5000);
    expect(spans[0].resource.attributes['deployment.environment.name']).toBe('ci');
    expect(spans[0].resource.attributes.team).toBe('payments');
    expect(r.requests[0].headers['x-api-key']).toBe('abc def');
    expect(r.requests[0].headers['x-tenant']).toBe('t1');
  });
});
