'use strict';
// One run of the application under one configuration: receiver (or Elastic sink) up, app up,
// optional warm-up, measured load, SIGTERM, exit, telemetry summary. Every failure is returned
// as { ok: false, error }, never thrown, and every process it started is gone when it returns.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { ROOT, childEnv } = require('./configs');
const { spawnNode, waitForLine, stop, describeOutput, formatExit } = require('./processes');
const { startElasticSink } = require('./elastic-sink');
const { sampleRss, readCpuMs, readCpuMsOf } = require('./proc');
const { median, max } = require('./stats');
const net = require('node:net');

/** The local PostgreSQL server's processes (`postgres: ...` backends are named postgres too). */
const DB_SERVER = /^postgres/;

const SERVER = path.join(ROOT, 'examples', 'members-api', 'server.js');
const RECEIVER = path.join(ROOT, 'bench', 'lib', 'receiver-process.js');
const CPU_PROBE = path.join(ROOT, 'bench', 'preload', 'cpu-probe.js');

const N_PLUS_ONE = '/members/1/payments';
/** The load: per connection, in turn, three N+1 requests, one batched, one healthy. */
const MIX = [N_PLUS_ONE, N_PLUS_ONE, N_PLUS_ONE, '/members/1/payments-batched', '/members/1'];

const TIMEOUTS = {
  receiverStart: 10_000,
  appStart: 30_000,
  probeMark: 5_000,
  /** beyond the load's own duration */
  loadSlack: 30_000,
  /** in-flight grace 3 s + exit grace 5 s in the app, plus an exporter's last flush */
  appStop: 20_000,
  receiverStop: 10_000,
};

/** Longest wait for the requests in flight when a load stops. */
const DRAIN_MAX_MS = 3000;

/** More failed requests than this share fails the run; fewer are reported. */
const MAX_ERROR_SHARE = 0.01;

/**
 * phase 'load': warm-up, then the measured mixed load; CPU probe marks before and after each.
 * phase 'soak': the same, keeping the RSS series. phase 'n1': N+1 requests only, no warm-up,
 * for the bytes per N+1 trace (CPU and RSS are not taken).
 * @param {import('./configs').BenchConfig} config
 * @param {{ phase: 'load' | 'n1' | 'soak', durationSec: number, warmupSec: number, connections: number }} opts
 */
async function runConfig(config, opts) {
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-bench-'));
  const probeFile = path.join(tmp, 'cpu.json');
  /** @type {any} */
  const result = { config: config.name, phase: opts.phase, ok: false, notes: [], loadAvg1m: { start: os.loadavg()[0] } };
  let receiver;
  let sink;
  let app;
  let rss;
  try {
    receiver = spawnNode([RECEIVER], { env: childEnv({}), cwd: ROOT, name: 'otlp receiver' });
    const [, receiverUrl] = await waitForLine(receiver, 'out', /otlp receiver listening on (\S+)/, TIMEOUTS.receiverStart, 'listening line');
    if (config.exports === 'elastic') sink = await startElasticSink();

    const args = appArgs(config, opts.appArgs);
    const env = appEnv(config, receiverUrl, probeFile, sink ? { ELASTIC_APM_SERVER_URL: sink.url } : {});
    const adminPort = config.adminProbe && opts.phase === 'load' ? await freePort() : 0;
    if (adminPort) env.PERF_AGENT_ADMIN_PORT = String(adminPort);
    const appStarted = Date.now();
    app = spawnNode(args, { env, cwd: ROOT, name: `app (${config.name})`, node: opts.node });
    rss = sampleRss(app.pid);
    const [, appUrl] = await waitForLine(app, 'out', /members-api listening on (http:\/\/\S+)/, TIMEOUTS.appStart, 'listening line');
    result.startupMs = Date.now() - appStarted;

    let warmupRequests = 0;
    let receiverCpuStart = null;
    if (opts.phase === 'n1') {
      rss.phase = 'load';
      const res = await load(appUrl, { durationSec: opts.durationSec, paths: [N_PLUS_ONE], connections: opts.connections, rate: opts.rate });
      await drain(res);
      result.load = summarizeLoad(res);
      result.servedRequests = result.load.sent;
    } else {
      rss.phase = 'warmup';
      // A mark before the warm-up too: what the first seconds cost (JIT compilation of the
      // agent's less frequent paths) is reported beside the steady figure, not hidden by it.
      await mark(app, 1);
      if (opts.warmupSec > 0) {
        const warm = await load(appUrl, { durationSec: opts.warmupSec, paths: MIX, connections: opts.connections, rate: opts.rate });
        warmupRequests = warm.requests.sent;
        await drain(warm);
      }
      await mark(app, 2);
      rss.phase = 'load';
      const loadStarted = Date.now();
      receiverCpuStart = readCpuMs(receiver.pid);
      const dbCpuStart = readCpuMsOf(DB_SERVER);
      const harnessCpuStart = process.cpuUsage();
      const probe = adminPort ? probeAdmin(`http://127.0.0.1:${adminPort}`) : undefined;
      const res = await load(appUrl, { durationSec: opts.durationSec, paths: MIX, connections: opts.connections, rate: opts.rate });
      const harnessCpu = process.cpuUsage(harnessCpuStart);
      const dbCpuEnd = readCpuMsOf(DB_SERVER);
      if (probe) result.admin = await probe.stop();
      await drain(res);
      result.load = summarizeLoad(res);
      const loadEnded = Date.now();
      rss.phase = 'stop';
      await mark(app, 3);
      result.servedRequests = warmupRequests + result.load.sent;
      result.harnessCpuMsPerRequest = (harnessCpu.user + harnessCpu.system) / 1000 / result.load.sent;
      // Over the measured load only (the requests still in flight at its end are few).
      if (dbCpuStart != null && dbCpuEnd != null && result.load.sent > 0) result.dbCpuMsPerRequest = (dbCpuEnd - dbCpuStart) / result.load.sent;
      result.rss = summarizeRss(rss.samples, loadStarted, loadEnded, opts.phase === 'soak');
    }

    rss.phase = 'stop';
    const appExit = await stop(app, 'SIGTERM', TIMEOUTS.appStop);
    rss.stop();
    if (appExit.code !== 0) throw new Error(`app exited with ${formatExit(appExit)} after SIGTERM${describeOutput(app)}`);

    // The receiver's CPU from the start of the load to the app's exit: decoding what the load
    // produced. It runs on the same cores as the app, so it is part of the noise.
    const receiverCpuEnd = readCpuMs(receiver.pid);
    if (receiverCpuStart != null && receiverCpuEnd != null) {
      result.receiverCpuMsPerRequest = (receiverCpuEnd - receiverCpuStart) / result.load.sent;
    }
    const receiverExit = await stop(receiver, 'SIGTERM', TIMEOUTS.receiverStop);
    if (receiverExit.code !== 0) throw new Error(`receiver exited with ${formatExit(receiverExit)}${describeOutput(receiver)}`);
    const summaryLine = receiver.out.tail.filter((l) => l.startsWith('{')).pop();
    if (!summaryLine) throw new Error(`receiver printed no summary${describeOutput(receiver)}`);
    const otlp = JSON.parse(summaryLine);
    result.telemetry = sink ? elasticTelemetry(sink.stats()) : otlpTelemetry(otlp);
    if (sink && otlp.spans > 0) result.notes.push(`unexpected OTLP spans: ${otlp.spans}`);

    if (opts.phase !== 'n1') {
      const probe = readProbe(probeFile);
      result.cpu = summarizeCpu(probe, result.load.sent, warmupRequests);
      if (result.rss) result.rss.maxRssMiB = probe.maxRssKiB / 1024;
    }

    check(config, result);
    result.ok = true;
  } catch (err) {
    result.error = err && err.message ? err.message : String(err);
  } finally {
    if (rss) rss.stop();
    // Normally both are gone already; after an error they are killed here.
    if (app && !app.exitInfo) await stop(app, 'SIGKILL', 5_000).catch(() => undefined);
    if (receiver && !receiver.exitInfo) await stop(receiver, 'SIGKILL', 5_000).catch(() => undefined);
    if (sink) await sink.close().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
    result.wallMs = Date.now() - started;
    result.loadAvg1m.end = os.loadavg()[0];
  }
  return result;
}

/** The app's node arguments: extra node options, the configuration's preloads, the CPU probe last. */
function appArgs(config, extra = []) {
  const args = [...extra];
  for (const preload of config.preloads()) args.push('--require', preload);
  args.push('--require', CPU_PROBE, SERVER);
  return args;
}

/** The app's environment: a random port, traces to the receiver, the probe's file, the configuration's own. */
function appEnv(config, receiverUrl, probeFile, more = {}) {
  return childEnv({
    PORT: '0',
    OTEL_SERVICE_NAME: 'members-api',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    ...more,
    BENCH_CPU_PROBE_FILE: probeFile,
    // Read by the preloads that report per configuration (measured-window.js).
    BENCH_CONFIG: config.name,
    ...config.env,
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The admin API while the load runs, timed from a process of its own (bench/lib/admin-probe.js). */
function probeAdmin(base) {
  const child = spawnNode([path.join(ROOT, 'bench', 'lib', 'admin-probe.js'), base], { env: childEnv({}), cwd: ROOT, name: 'admin probe' });
  return {
    async stop() {
      await stop(child, 'SIGTERM', 5_000);
      const line = child.out.tail.filter((l) => l.startsWith('{')).pop();
      return line ? JSON.parse(line) : { requests: 0, failures: 0, p50: null, p99: null, max: null };
    },
  };
}

/**
 * When autocannon stops, up to one request per connection is still being served: the app
 * finishes (and traces) it anyway. Waiting for those before the next CPU mark or the SIGTERM
 * keeps every figure per request sent, and spares them an SDK that shuts down under them
 * (plain OpenTelemetry's shutdown at SIGTERM drops spans that end after it).
 */
function drain(res) {
  const ms = Math.min(DRAIN_MAX_MS, (res.latency.max || 0) + 100);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asks the CPU probe for a snapshot and waits until it took it. */
async function mark(app, n) {
  app.kill('SIGUSR2');
  await waitForLine(app, 'err', new RegExp(`^bench-cpu-probe: mark ${n}$`), TIMEOUTS.probeMark, `CPU probe mark ${n}`);
}

/**
 * The mixed load on `paths`, from autocannon in this process: for `durationSec`, or exactly
 * `amount` requests (then `guardMs` bounds how long they may take, and `timeoutSec` each request:
 * an app under valgrind is slow). Resolves with its result, or rejects on error or overrun.
 */
function load(baseUrl, { durationSec, amount, guardMs: amountGuardMs, timeoutSec = 10, paths, connections, rate }) {
  return new Promise((resolve, reject) => {
    const guardMs = amount !== undefined ? amountGuardMs : durationSec * 1000 + TIMEOUTS.loadSlack;
    let settled = false;
    const instance = autocannon(
      {
        url: baseUrl,
        connections,
        ...(amount !== undefined ? { amount } : { duration: durationSec }),
        requests: paths.map((p) => ({ method: 'GET', path: p })),
        timeout: timeoutSec,
        // A fixed request rate: the same share of requests meets per-second budgets in every configuration.
        ...(rate ? { overallRate: rate } : {}),
      },
      (err, res) => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        if (err) reject(err);
        else resolve(res);
      },
    );
    const guard = setTimeout(() => {
      if (settled) return;
      settled = true;
      instance.stop();
      reject(new Error(`load did not finish within ${guardMs} ms`));
    }, guardMs);
  });
}

function summarizeLoad(res) {
  const requests = res.requests.total;
  return {
    requests,
    // Sent includes the requests still in flight when the load stopped: the app serves them
    // (and traces them) all the same, so the per-request figures divide by this.
    sent: Math.max(res.requests.sent, requests),
    durationSec: res.duration,
    rps: res.duration > 0 ? requests / res.duration : null,
    p50Ms: res.latency.p50,
    p90Ms: res.latency.p90,
    p99Ms: res.latency.p99,
    maxMs: res.latency.max,
    ok2xx: res['2xx'],
    non2xx: res.non2xx,
    errors: res.errors,
    timeouts: res.timeouts,
  };
}

function summarizeRss(samples, loadStarted, loadEnded, keepSeries) {
  const mib = (s) => s.kib / 1024;
  const inLoad = samples.filter((s) => s.t >= loadStarted && s.t <= loadEnded);
  const secondHalf = inLoad.filter((s) => s.t >= (loadStarted + loadEnded) / 2);
  const out = {
    samples: samples.length,
    peakSampledMiB: max(samples.map(mib)),
    steadyMiB: median(secondHalf.map(mib)),
  };
  if (keepSeries) out.series = inLoad.map((s) => ({ sec: (s.t - loadStarted) / 1000, mib: mib(s) }));
  return out;
}

function readProbe(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error('the CPU probe wrote no file: the app did not reach a normal exit');
  }
  const probe = JSON.parse(text);
  if (!Array.isArray(probe.marks) || probe.marks.length < 3) throw new Error(`CPU probe has ${probe.marks && probe.marks.length} marks, expected 3`);
  return probe;
}

function summarizeCpu(probe, requests, warmupRequests) {
  const us = (c) => c.user + c.system;
  const [beforeWarmup, start, end] = probe.marks;
  const warmupMs = (us(start.cpu) - us(beforeWarmup.cpu)) / 1000;
  const loadMs = (us(end.cpu) - us(start.cpu)) / 1000;
  const toExitMs = (us(probe.exit.cpu) - us(start.cpu)) / 1000;
  return {
    loadMs,
    toExitMs,
    // Primary figure: from the start of the load to the exit, so the spans the load produced
    // and that were only exported in the final flush are paid for; per request sent.
    perRequestMs: requests > 0 ? toExitMs / requests : null,
    perRequestLoadOnlyMs: requests > 0 ? loadMs / requests : null,
    // The warm-up's requests: the same load, while V8 still compiles (the app's and the agent's code).
    perRequestWarmupMs: warmupRequests > 0 ? warmupMs / warmupRequests : null,
    // Traces the agent recorded and analyzed over the measured load, per request (none: null).
    analyzedPerRequest: requests > 0 && typeof end.analyzedTraces === 'number' && typeof start.analyzedTraces === 'number' ? (end.analyzedTraces - start.analyzedTraces) / requests : null,
    // Kernel time (socket writes on loopback, wake-ups) apart from JavaScript's own.
    perRequestUserMs: requests > 0 ? (probe.exit.cpu.user - start.cpu.user) / 1000 / requests : null,
    perRequestSystemMs: requests > 0 ? (probe.exit.cpu.system - start.cpu.system) / 1000 / requests : null,
    rssAtStartMiB: start.rss / 1048576,
    rssAtEndMiB: end.rss / 1048576,
    // V8's heap at the end of the load: used (live and not yet collected) and reserved.
    heapUsedAtEndMiB: typeof end.heapUsed === 'number' ? end.heapUsed / 1048576 : null,
    heapTotalAtEndMiB: typeof end.heapTotal === 'number' ? end.heapTotal / 1048576 : null,
    externalAtEndMiB: typeof end.external === 'number' ? end.external / 1048576 : null,
  };
}

/**
 * traces, spans and bytes count request traces only (root = the HTTP server span); all* count
 * everything, startup queries included.
 */
function otlpTelemetry(s) {
  return {
    posts: s.requests,
    traces: s.requestTraces,
    spans: s.requestSpans,
    wireBytes: s.requestWireBytes,
    rawBytes: s.requestRawBytes,
    allTraces: s.traces,
    allSpans: s.spans,
    allWireBytes: s.wireBytes,
    allRawBytes: s.rawBytes,
  };
}

/** Elastic makes a transaction per request and drops spans outside one: all of it is requests. */
function elasticTelemetry(s) {
  return {
    posts: s.requests,
    traces: s.transactions,
    spans: s.transactions + s.spans,
    wireBytes: s.wireBytes,
    rawBytes: s.rawBytes,
    allTraces: s.transactions,
    allSpans: s.transactions + s.spans,
    allWireBytes: s.wireBytes,
    allRawBytes: s.rawBytes,
    metadataEvents: s.metadata,
    decodeErrors: s.errors,
  };
}

/** Turns a run that went through but measured nonsense into a failure, or adds notes. */
function check(config, result) {
  const l = result.load;
  const bad = l.non2xx + l.errors + l.timeouts;
  if (bad > 0) {
    const msg = `${bad} failed requests of ${l.requests} (non-2xx ${l.non2xx}, errors ${l.errors}, timeouts ${l.timeouts})`;
    if (l.requests === 0 || bad / Math.max(1, l.requests) > MAX_ERROR_SHARE) throw new Error(msg);
    result.notes.push(msg);
  }
  if (l.requests === 0) throw new Error('no request completed');
  if (config.exports !== 'none' && !(result.telemetry.traces > 0)) {
    throw new Error(`no traces reached the ${config.exports === 'elastic' ? 'Elastic sink' : 'OTLP receiver'}`);
  }
  if (config.exports === 'none' && result.telemetry.allSpans > 0) result.notes.push(`exported ${result.telemetry.allSpans} spans with no exporter`);
}

module.exports = { runConfig, MIX, SERVER, RECEIVER, load, appArgs, appEnv, mark };
