import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { arch, hostname } from 'node:os';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type DecodedSpan, type Receiver } from '../../collector/receiver';
import { startApp, type AppProcess } from '../support/app-process';

/*
 * What NodeSDK gave the agent and users rely on, now that the agent sets the tracer provider up
 * itself (src/sdk-setup.ts): the resource as it arrives in the real OTLP payload, and the
 * propagator chosen by OTEL_PROPAGATORS, seen on the wire of an outgoing request.
 */
const OUTGOING_APP = resolve(__dirname, '../fixtures/outgoing-app.js');
const SERVER = 2;
const CLIENT = 3;

let receiver: Receiver | undefined;
let app: AppProcess | undefined;
let downstream: Server | undefined;

afterEach(async () => {
  await app?.stop('SIGKILL');
  await receiver?.close();
  await new Promise((done) => (downstream ? downstream.close(done) : done(undefined)));
  app = undefined;
  receiver = undefined;
  downstream = undefined;
});

/** One request through the app (with `headers`), its exported spans, and the headers its outgoing request carried. */
async function run(env: NodeJS.ProcessEnv, headers: Record<string, string> = {}) {
  const seen: IncomingHttpHeaders[] = [];
  downstream = createServer((req, res) => {
    seen.push(req.headers);
    res.end('ok');
  });
  await new Promise<void>((done) => downstream!.listen(0, '127.0.0.1', done));
  const port = (downstream.address() as { port: number }).port;
  receiver = await startOtlpReceiver();
  app = await startApp(OUTGOING_APP, {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, DOWNSTREAM_URL: `http://127.0.0.1:${port}/down`, ...env },
  });
  const res = await fetch(app.url, { headers });
  expect(await res.json()).toEqual({ downstream: 200 });
  const pid = app.child.pid;
  await app.stop('SIGTERM');
  const spans = await receiver.waitFor((all) => all.some((s) => s.kind === SERVER) && all.some((s) => s.kind === CLIENT), 5000);
  return { spans, outgoing: seen[0], pid };
}

const serverSpan = (spans: DecodedSpan[]) => spans.find((s) => s.kind === SERVER)!;
const clientSpan = (spans: DecodedSpan[]) => spans.find((s) => s.kind === CLIENT)!;

describe('resource of the exported spans', () => {
  it('service.name from OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, host and process attributes, the SDK\'s own', async () => {
    const { spans, pid } = await run({
      OTEL_SERVICE_NAME: 'members-api-res',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci,team=payments',
    });
    const attributes = serverSpan(spans).resource.attributes;
    expect(attributes['service.name']).toBe('members-api-res');
    expect(attributes['deployment.environment.name']).toBe('ci');
    expect(attributes.team).toBe('payments');
    expect(attributes['host.name']).toBe(hostname());
    expect(attributes['host.arch']).toBe(arch() === 'x64' ? 'amd64' : arch());
    expect(attributes['process.pid']).toBe(pid);
    expect(attributes['process.runtime.name']).toBe('nodejs');
    expect(attributes['process.runtime.version']).toBe(process.versions.node);
    expect(attributes['process.command_args']).toContain(OUTGOING_APP);
    expect(attributes['telemetry.sdk.language']).toBe('nodejs');
    expect(attributes['telemetry.sdk.name']).toBe('opentelemetry');
    // host.id is read asynchronously: it is there only if the export waited for it.
    const machineId = ['/etc/machine-id', '/var/lib/dbus/machine-id'].find((p) => existsSync(p));
    if (machineId) expect(attributes['host.id']).toBe(readFileSync(machineId, 'utf8').trim());
  });

  it('without OTEL_SERVICE_NAME, service.name is unknown_service:<executable>', async () => {
    const { spans } = await run({});
    expect(serverSpan(spans).resource.attributes['service.name']).toMatch(/^unknown_service:.*node/);
  });

  it('OTEL_NODE_RESOURCE_DETECTORS picks the detectors', async () => {
    const { spans } = await run({ OTEL_NODE_RESOURCE_DETECTORS: 'env,os', OTEL_RESOURCE_ATTRIBUTES: 'team=payments' });
    const attributes = serverSpan(spans).resource.attributes;
    expect(attributes.team).toBe('payments');
    expect(attributes['os.type']).toBe('linux');
    expect(attributes['host.name']).toBeUndefined();
    expect(attributes['process.pid']).toBeUndefined();
  });
});

describe('OTEL_PROPAGATORS', () => {
  const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
  const SPAN_ID = '00f067aa0ba902b7';

  it('default: W3C traceparent goes downstream, no b3', async () => {
    const { spans, outgoing } = await run({});
    const client = clientSpan(spans);
    expect(outgoing.traceparent).toBe(`00-${client.traceId}-${client.spanId}-01`);
    expect(outgoing.b3).toBeUndefined();
  });

  it('b3: the single b3 header is read from the incoming request and written on the outgoing one', async () => {
    const { spans, outgoing } = await run({ OTEL_PROPAGATORS: 'b3' }, { b3: `${TRACE_ID}-${SPAN_ID}-1` });
    const server = serverSpan(spans);
    expect(server.traceId).toBe(TRACE_ID);
    expect(server.parentSpanId).toBe(SPAN_ID);
    const client = clientSpan(spans);
    expect(outgoing.b3).toBe(`${TRACE_ID}-${client.spanId}-1`);
    expect(outgoing.traceparent).toBeUndefined();
  });

  it('b3multi,tracecontext: X-B3-* headers and traceparent both go downstream', async () => {
    const { spans, outgoing } = await run({ OTEL_PROPAGATORS: 'b3multi,tracecontext' });
    const client = clientSpan(spans);
    expect(outgoing['x-b3-traceid']).toBe(client.traceId);
    expect(outgoing['x-b3-spanid']).toBe(client.spanId);
    expect(outgoing['x-b3-sampled']).toBe('1');
    expect(outgoing.traceparent).toBe(`00-${client.traceId}-${client.spanId}-01`);
  });

  it('jaeger: uber-trace-id goes downstream', async () => {
    const { spans, outgoing } = await run({ OTEL_PROPAGATORS: 'jaeger' });
    const client = clientSpan(spans);
    expect(outgoing['uber-trace-id']).toBe(`${client.traceId}:${client.spanId}:0:01`);
  });

  it('none: nothing goes downstream, spans are still exported', async () => {
    const { outgoing } = await run({ OTEL_PROPAGATORS: 'none' }, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` });
    expect(outgoing.traceparent).toBeUndefined();
    expect(outgoing.b3).toBeUndefined();
  });
});

describe('OTEL_LOG_LEVEL', () => {
  it('info: the diag logger prints on the console at that level (the agent\'s start line included)', async () => {
    await run({ OTEL_LOG_LEVEL: 'info' });
    expect(app!.stdout()).toMatch(/otel-perf-agent: started \(development\); exporting/);
  });

  it('unset: info stays quiet', async () => {
    await run({});
    expect(app!.stdout() + app!.stderr()).not.toContain('otel-perf-agent: started');
  });
});
