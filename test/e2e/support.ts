import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO } from '../support/app-process';

/*
 * Real processes for the end-to-end tests: Jaeger v2 and the collector built by
 * collector/e2e/build.sh, Debian's prometheus. Every process listens on a free loopback port, every
 * wait is bounded, and stopAll() kills whatever is left.
 */

export interface Binaries {
  jaeger: string;
  otelcol: string;
  prometheus?: string;
}

function binDir(): string {
  const inRepo = resolve(REPO, 'collector/e2e/.cache/bin');
  if (existsSync(inRepo)) return inRepo;
  const cache = process.env.OTEL_PERF_AGENT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'otel-perf-agent');
  return join(cache, 'bin');
}

/** The binaries, or why the end-to-end tests cannot run here (said in one line by the caller). */
export function findBinaries(): Binaries | string {
  const dir = binDir();
  const jaeger = join(dir, 'jaeger');
  const otelcol = join(dir, 'otelcol-perf');
  const missing = [jaeger, otelcol].filter((p) => !existsSync(p));
  if (missing.length > 0) return `${missing.join(', ')} not built: run collector/e2e/build.sh (needs Go)`;
  const prometheus = [join(dir, 'prometheus'), '/usr/bin/prometheus'].find((p) => existsSync(p));
  return { jaeger, otelcol, prometheus };
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function httpOk(url: string): Promise<boolean | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok ? true : undefined;
}

export interface Proc {
  name: string;
  child: ChildProcess;
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<Proc>();
const MAX_LOG = 4 * 1024 * 1024;

export function startProcess(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const append = (d: Buffer): void => {
    if (log.length < MAX_LOG) log += d.toString();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const proc: Proc = {
    name,
    child,
    log: () => log,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      running.delete(proc);
    },
  };
  running.add(proc);
  return proc;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** Fails with the process's own words when it exits before it is ready. */
export async function waitReady(proc: Proc, url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${proc.name} at ${url}`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited (${proc.child.exitCode}):\n${proc.log().slice(-3000)}`);
    return httpOk(url);
  }, timeoutMs);
}

export interface Jaeger {
  proc: Proc;
  otlpGrpc: string;
  query: string;
}

export async function startJaeger(bin: string): Promise<Jaeger> {
  const [grpc, http, query, queryGrpc, health] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const proc = startProcess('jaeger', bin, [
    `--config=${resolve(REPO, 'collector/jaeger.yaml')}`,
    `--set=receivers::otlp::protocols::grpc::endpoint=127.0.0.1:${grpc}`,
    `--set=receivers::otlp::protocols::http::endpoint=127.0.0.1:${http}`,
    `--set=extensions::jaeger_query::http::endpoint=127.0.0.1:${query}`,
    `--set=extensions::jaeger_query::grpc::endpoint=127.0.0.1:${queryGrpc}`,
    `--set=extensions::healthcheckv2::http::endpoint=127.0.0.1:${health}`,
  ]);
  const jaeger = { proc, otlpGrpc: `127.0.0.1:${grpc}`, query: `http://127.0.0.1:${query}` };
  await waitReady(proc, `${jaeger.query}/api/services`);
  return jaeger;
}

export interface Collector {
  proc: Proc;
  otlpHttp: string;
  otlpGrpc: string;
  prometheus: string;
  telemetry: string;
  restart(): Promise<void>;
}

export interface CollectorPorts {
  http: number;
  grpc: number;
  prometheus: number;
  telemetry: number;
  health: number;
}

export async function collectorPorts(): Promise<CollectorPorts> {
  const [http, grpc, prometheus, telemetry, health] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  return { http, grpc, prometheus, telemetry, health };
}

/**
 * Runs a collector configuration from the repository unchanged, with only its listening addresses
 * (and the given settings) replaced on the command line, as a deployment would.
 */
export async function startCollector(bin: string, config: string, settings: string[], ports?: CollectorPorts, name = 'collector'): Promise<Collector> {
  const p = ports ?? (await collectorPorts());
  const args = [
    `--config=${resolve(REPO, config)}`,
    `--set=receivers::otlp::protocols::http::endpoint=127.0.0.1:${p.http}`,
    `--set=receivers::otlp::protocols::grpc::endpoint=127.0.0.1:${p.grpc}`,
    `--set=extensions::health_check::endpoint=127.0.0.1:${p.health}`,
    `--set=service::telemetry::metrics::readers=[{pull: {exporter: {prometheus: {host: 127.0.0.1, port: ${p.telemetry}}}}}]`,
    ...settings.map((s) => `--set=${s}`),
  ];
  let proc = startProcess(name, bin, args);
  await waitReady(proc, `http://127.0.0.1:${p.health}/`);
  const collector: Collector = {
    get proc() {
      return proc;
    },
    otlpHttp: `http://127.0.0.1:${p.http}`,
    otlpGrpc: `127.0.0.1:${p.grpc}`,
    prometheus: `http://127.0.0.1:${p.prometheus}`,
    telemetry: `http://127.0.0.1:${p.telemetry}`,
    async restart() {
      proc = startProcess(name, bin, args);
      await waitReady(proc, `http://127.0.0.1:${p.health}/`);
    },
  };
  return collector;
}

/**
 * Our `otel-collector.yaml` in front of a Jaeger, at test speed (short batch timeout and tail
 * sampling decision wait). `debug` prints every exported span with its ids to the collector's log.
 */
export async function startGatewayCollector(bin: string, jaeger: Jaeger, options: { decisionWait?: string; debug?: boolean; name?: string } = {}): Promise<Collector> {
  const ports = await collectorPorts();
  return startCollector(bin, 'otel-collector.yaml', [
    `exporters::otlp_grpc/jaeger::endpoint=${jaeger.otlpGrpc}`,
    `exporters::prometheus::endpoint=127.0.0.1:${ports.prometheus}`,
    `processors::tail_sampling::decision_wait=${options.decisionWait ?? '1s'}`,
    'processors::batch::timeout=200ms',
    ...(options.debug ? ['exporters::debug::verbosity=detailed'] : []),
  ], ports, options.name);
}

export interface Prometheus {
  proc: Proc;
  url: string;
  dir: string;
}

/**
 * Debian's prometheus with its own config in a temporary folder: scrapes the collector every
 * second and evaluates collector/alerts.yml with every `for:` shortened to 1s, so alerts fire in
 * seconds; the expressions are the shipped ones.
 */
export async function startPrometheus(bin: string, collector: Collector): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'perf-e2e-prom-'));
  const rules = readFileSync(resolve(REPO, 'collector/alerts.yml'), 'utf8').replace(/^(\s+for:\s*)\S+/gm, '$11s');
  writeFileSync(join(dir, 'alerts.yml'), rules);
  const target = (url: string): string => new URL(url).host;
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: [${JSON.stringify(join(dir, 'alerts.yml'))}]`,
    'scrape_configs:',
    '  - job_name: otel-perf-agent',
    '    honor_labels: true',
    `    static_configs: [{ targets: [${JSON.stringify(target(collector.prometheus))}] }]`,
    '  - job_name: otel-collector',
    `    static_configs: [{ targets: [${JSON.stringify(target(collector.telemetry))}] }]`,
  ].join('\n'));
  const port = await freePort();
  const proc = startProcess('prometheus', bin, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${url}/-/ready`);
  return { proc, url, dir };
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

// --- Jaeger's HTTP API (the v1 JSON that the UI uses) ----------------------------------------------

export interface JaegerTag { key: string; type: string; value: unknown }
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  tags: JaegerTag[];
  logs: { timestamp: number; fields: JaegerTag[] }[];
}
export interface JaegerTrace { traceID: string; spans: JaegerSpan[]; processes: Record<string, { serviceName: string }> }

export function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

export async function searchTraces(query: string, service: string, tags: Record<string, string>): Promise<JaegerTrace[]> {
  const url = `${query}/api/traces?service=${encodeURIComponent(service)}&tags=${encodeURIComponent(JSON.stringify(tags))}&lookback=1h&limit=100`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

/** The trace, or undefined while Jaeger does not have it (404). */
export async function getTrace(query: string, traceId: string): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${query}/api/traces/${traceId}`, { signal: AbortSignal.timeout(5000) });
  if (res.status === 404) {
    await res.arrayBuffer();
    return undefined;
  }
  if (!res.ok) throw new Error(`GET /api/traces/${traceId}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: JaegerTrace[] }).data[0];
}

// --- The tail_sampling probabilistic policy, as the collector computes it ----------------------------

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

/** FNV-1a 64 of the salt then the 16 trace id bytes, kept when <= (2^64-1) * ratio (tailsamplingprocessor). */
export function probabilisticKeeps(traceId: string, percentage: number, salt = 'default-hash-seed'): boolean {
  let hash = FNV_OFFSET;
  const bytes = [...Buffer.from(salt, 'utf8'), ...Buffer.from(traceId, 'hex')];
  for (const b of bytes) hash = ((hash ^ BigInt(b)) * FNV_PRIME) & MASK;
  const threshold = (MASK * BigInt(Math.round(percentage * 100))) / 10000n;
  return hash <= threshold;
}

/** A trace id whose probabilistic decision is `keep`, deterministic for a given seed. */
export function traceIdFor(keep: boolean, percentage: number, seed: number): string {
  for (let i = 0; ; i++) {
    const id = (BigInt(seed) * 1_000_003n + BigInt(i) + 1n).toString(16).padStart(8, '0').repeat(4).slice(0, 32);
    if (probabilisticKeeps(id, percentage) === keep) return id;
  }
}

export function traceparent(traceId: string, spanId = '00f067aa0ba902b7'): string {
  return `00-${traceId}-${spanId}-01`;
}

function goAvailable(): boolean {
  return ['/usr/local/go/bin/go', '/usr/bin/go', '/usr/local/bin/go'].some((p) => existsSync(p));
}

/**
 * The binaries, or undefined after one clear line saying why the e2e tests of `file` skip. In CI
 * on a machine with Go, missing binaries are an error (build.sh should have made them), not a skip.
 */
export function binariesOrSkip(file: string): Binaries | undefined {
  const found = findBinaries();
  if (typeof found !== 'string') return found;
  if (process.env.CI && goAvailable()) throw new Error(`${file}: ${found}; .ci/run runs collector/e2e/build.sh first`);
  // eslint-disable-next-line no-console
  console.log(`e2e skipped (${file}): ${found}`);
  return undefined;
}
