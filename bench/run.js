#!/usr/bin/env node
'use strict';
// Load benchmark: the members-api example under no agent, plain OpenTelemetry, this agent and
// Elastic APM, alternated over rounds, then the micro-benchmarks. See bench/README.md.
//
//   node bench/run.js              3 rounds x 10 s per configuration -> bench/RESULTS.md, results.json
//   node bench/run.js --quick      1 round x 3 s, none/otel/agent-dev/agent-prod/agent-prod-admin -> RESULTS.quick.md
//   node bench/run.js --soak       10 min of agent-prod, RSS every 10 s -> RESULTS.soak.md

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { CONFIGS, ROOT, DIST_REGISTER, useDist, childEnv, baselineDistDir, withBaselines } = require('./lib/configs');
const { snapshotDist } = require('./lib/dist');
const { installCleanup, killAll, spawnNode, liveCount } = require('./lib/processes');
const { runConfig, MIX } = require('./lib/run-config');
const { eachOption, nameList } = require('./lib/args');
const { aggregate } = require('./lib/aggregate');
const { evaluateTargets, evaluateSoak } = require('./lib/targets');
const { describeMachine } = require('./lib/machine');
const { renderResults, renderSoak } = require('./lib/report');
const { median } = require('./lib/stats');

const BENCH_DIR = __dirname;
const MICRO_TIMEOUT_MS = { quick: 60_000, full: 180_000 };
const SOAK_BASELINE_SEC = 120;

const USAGE = `usage: node bench/run.js [options]
  --quick            1 round x 3 s, configurations ${CONFIGS.filter((c) => c.quick).map((c) => c.name).join(', ')}; quick micro-benchmarks;
                     writes bench/RESULTS.quick.md (about a minute)
  --rounds N         rounds (default 3; --quick 1)
  --duration S       seconds of measured load per configuration and round (default 10; --quick 3; --soak 600)
  --warmup S         seconds of warm-up load before each measurement (default 10; --quick 1); its CPU per
                     request is reported apart (the JIT warm-up)
  --n1-duration S    seconds of the N+1-only phase (default 4; --quick 2)
  --settle S         seconds of load on the first configuration before round 1, not measured (default 10;
                     --quick 0): the first run would otherwise find a rested machine
  --connections N    concurrent connections (default 10)
  --rate R           at most R requests per second in all (default: as fast as the connections go). At a
                     fixed rate every configuration sees the same share of requests within per-second
                     budgets (keep-findings), and CPU per request compares more fairly on a busy machine
  --only a,b         these configurations (also the extra ones: ${CONFIGS.filter((c) => c.extra).map((c) => c.name).join(', ')})
  --soak             sustained load on agent-prod (or --only) after 2 min of none as the RSS baseline;
                     RSS every 10 s; writes bench/RESULTS.soak.md (about 13 minutes)
  --node PATH        run the app and the micro-benchmarks under this node binary (default: the one
                     running the harness); the harness, receiver and load generator stay on it
  --app-args "A B"   extra node options for the app (for example "--cpu-prof --cpu-prof-dir=/tmp/p")
  --baseline-dist D  also run every agent configuration against another build's dist/ directory D, as
                     NAME@base, alternating with this build's (before/after a change, in the same rounds)
  --no-micro         skip the micro-benchmarks
  --no-write         print only; write no file (CI smoke)
configurations: ${CONFIGS.map((c) => c.name).join(', ')}
exit status: 0 done (whatever the numbers), 1 a run of our own configurations or a micro-benchmark
failed, 2 the harness itself could not run`;

function parseArgs(argv) {
  const o = { quick: false, soak: false, micro: true, write: true, only: null };
  const num = (flag, v, { min = 0, integer = false } = {}) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new Error(`${flag} needs a ${integer ? 'whole ' : ''}number >= ${min}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  eachOption(argv, (flag, value) => {
    if (flag === '--quick') o.quick = true;
    else if (flag === '--soak') o.soak = true;
    else if (flag === '--no-micro') o.micro = false;
    else if (flag === '--no-write') o.write = false;
    else if (flag === '--rounds') o.rounds = num(flag, value(), { min: 1, integer: true });
    else if (flag === '--duration') o.durationSec = num(flag, value(), { min: 1 });
    else if (flag === '--warmup') o.warmupSec = num(flag, value());
    else if (flag === '--n1-duration') o.n1DurationSec = num(flag, value(), { min: 1 });
    else if (flag === '--settle') o.settleSec = num(flag, value());
    else if (flag === '--rate') o.rate = num(flag, value(), { min: 1 });
    else if (flag === '--connections') o.connections = num(flag, value(), { min: 1, integer: true });
    else if (flag === '--node') o.node = value();
    else if (flag === '--app-args') o.appArgs = value().split(/\s+/).filter(Boolean);
    else if (flag === '--baseline-dist') o.baselineDist = baselineDistDir(value());
    else if (flag === '--only') o.only = nameList(value());
    else if (flag === '--help' || flag === '-h') o.help = true;
    else throw new Error(`unknown argument: ${flag}`);
  });
  if (o.quick && o.soak) throw new Error('--quick and --soak do not go together');
  if (o.node !== undefined) {
    if (!o.node || !fs.existsSync(o.node)) throw new Error(`--node needs the path of a node binary, got ${JSON.stringify(o.node)}`);
    o.node = path.resolve(o.node);
  }
  o.rounds ??= o.quick || o.soak ? 1 : 3;
  o.durationSec ??= o.quick ? 3 : o.soak ? 600 : 10;
  // V8 compiles what runs rarely (the agent's recorded path: one request in ten or fewer) later
  // than the rest: CPU per request settles after about 10 s of load (bench/README.md, warm-up).
  o.warmupSec ??= o.quick ? 1 : 10;
  o.n1DurationSec ??= o.quick ? 2 : 4;
  // In one Node 24 run, \`none\` measured first in round 1 took 0.57 ms per request against 0.87-0.90
  // in the other rounds: the machine had been idle. A discarded run first puts it in its stride.
  o.settleSec ??= o.quick || o.soak ? 0 : 10;
  o.connections ??= 10;
  return o;
}

function selectConfigs(o) {
  return withBaselines(pickConfigs(o), o.baselineDist);
}

function pickConfigs(o) {
  if (o.only) {
    const unknown = o.only.filter((n) => !CONFIGS.some((c) => c.name === n));
    if (unknown.length) throw new Error(`unknown configuration(s) ${unknown.join(', ')}; known: ${CONFIGS.map((c) => c.name).join(', ')}`);
    return CONFIGS.filter((c) => o.only.includes(c.name));
  }
  if (o.soak) return CONFIGS.filter((c) => c.name === 'agent-prod');
  return CONFIGS.filter((c) => !c.extra && (!o.quick || c.quick));
}

function log(line) {
  process.stdout.write(`${line}\n`);
}

const f0 = (v) => (v == null ? '–' : Math.round(v).toLocaleString('en-US'));
const f2 = (v) => (v == null ? '–' : v.toFixed(2));

function describeRun(r) {
  if (!r.ok) return `FAILED: ${String(r.error).split('\n')[0]}`;
  const t = r.telemetry;
  const perTrace = t.traces > 0 ? `, ${(t.spans / t.traces).toFixed(1)} spans and ${f0(t.wireBytes / t.traces)} B gzip per trace, ${t.traces} traces` : '';
  if (r.phase === 'n1') return `${f0(r.load.requests)} N+1 requests${perTrace}`;
  return `${f0(r.load.rps)} req/s, p99 ${f0(r.load.p99Ms)} ms, CPU ${f2(r.cpu.perRequestMs)} ms/req (user ${f2(r.cpu.perRequestUserMs)}, sys ${f2(r.cpu.perRequestSystemMs)}; warm-up ${f2(r.cpu.perRequestWarmupMs)}; db ${f2(r.dbCpuMsPerRequest)})${r.cpu.analyzedPerRequest != null ? `, ${r.cpu.analyzedPerRequest.toFixed(3)} analyzed/req` : ''}, RSS ${f0(r.rss.maxRssMiB)} MiB${perTrace}`;
}

async function runOne(config, phase, round, o, totalRounds) {
  const t0 = Date.now();
  const r = await runConfig(config, {
    phase,
    durationSec: phase === 'n1' ? o.n1DurationSec : o.durationSec,
    warmupSec: o.warmupSec,
    connections: o.connections,
    node: o.node,
    rate: o.rate,
    appArgs: o.appArgs,
  });
  r.round = round;
  log(`[round ${round}/${totalRounds}] ${config.name.padEnd(18)} ${phase.padEnd(4)} ${describeRun(r)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return r;
}

/** The micro-benchmarks in their own process: a fresh JIT, and a crash there is only a failure. */
async function runMicroChild(quick, distDir, node) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-bench-micro-'));
  const out = path.join(tmp, 'micro.json');
  try {
    const args = [path.join(BENCH_DIR, 'micro', 'run.js'), '--json', out, ...(quick ? ['--quick'] : [])];
    const child = spawnNode(args, { env: childEnv(distDir ? { BENCH_DIST_DIR: distDir } : {}), cwd: ROOT, name: 'micro-benchmarks', node });
    const timeout = quick ? MICRO_TIMEOUT_MS.quick : MICRO_TIMEOUT_MS.full;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    const exit = await child.exited;
    clearTimeout(timer);
    if (!fs.existsSync(out)) return { error: `micro-benchmarks exited (${exit.signal || exit.code}) without results: ${child.err.text() || child.out.text()}` };
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function commandLine() {
  const script = path.relative(process.cwd(), process.argv[1]) || process.argv[1];
  return ['node', script, ...process.argv.slice(2)].join(' ');
}

function writeOutputs(o, files) {
  if (!o.write) return;
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(BENCH_DIR, name), content);
    log(`wrote bench/${name}`);
  }
}

/**
 * Each round starts at another place in the list (A B C, then B C A, then C A B), so that no
 * configuration is always the first after a pause or the one after the heaviest: in one run
 * where `none` always came first, every configuration after it was slower in the same rounds,
 * context propagation alone included (1.37x).
 */
function inRoundOrder(configs, round, rounds) {
  const shift = Math.floor(((round - 1) * configs.length) / rounds) % configs.length;
  return [...configs.slice(shift), ...configs.slice(0, shift)];
}

async function runRounds(o, configs) {
  const started = Date.now();
  const machine = describeMachine(o.node);
  log(`bench: ${configs.map((c) => c.name).join(', ')}; ${o.rounds} round(s) x ${o.durationSec} s; ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAvg.join(' ')}`);
  const runs = [];
  if (o.settleSec > 0) {
    const first = inRoundOrder(configs, 1, o.rounds)[0];
    const t0 = Date.now();
    const r = await runConfig(first, { phase: 'load', durationSec: o.settleSec, warmupSec: 0, connections: o.connections, node: o.node, rate: o.rate, appArgs: o.appArgs });
    log(`[settle] ${first.name.padEnd(18)} load ${r.ok ? 'done, not counted' : `FAILED: ${String(r.error).split('\n')[0]}`} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  for (let round = 1; round <= o.rounds; round++) {
    for (const config of inRoundOrder(configs, round, o.rounds)) {
      runs.push(await runOne(config, 'load', round, o, o.rounds));
      if (config.exports !== 'none') runs.push(await runOne(config, 'n1', round, o, o.rounds));
    }
  }

  let micro = null;
  if (o.micro) {
    log('micro-benchmarks...');
    micro = await runMicroChild(o.quick, o.dist && o.dist.distDir, o.node);
  }

  const configNames = configs.map((c) => c.name);
  const summary = aggregate(runs, configNames, o.rounds);
  const targets = evaluateTargets(runs, summary, o.rounds);
  const ctx = {
    title: o.quick ? 'Benchmark results (--quick: a smoke run, not for committing)' : 'Benchmark results',
    command: commandLine(),
    machine,
    options: o,
    configNames,
    configByName: Object.fromEntries(configs.map((c) => [c.name, c])),
    summary,
    targets,
    runs,
    micro,
    wallSec: (Date.now() - started) / 1000,
    mixDescription: describeMix(),
  };
  const markdown = renderResults(ctx);
  const json = { command: ctx.command, machine, options: o, mix: MIX, summary, targets, runs, micro };
  const base = o.quick ? { md: 'RESULTS.quick.md', json: 'results.quick.json' } : { md: 'RESULTS.md', json: 'results.json' };
  writeOutputs(o, { [base.md]: markdown, [base.json]: `${JSON.stringify(json, null, 2)}\n` });
  log('');
  log(markdown.split('\n## Per round')[0]);

  const ourFailures = runs.filter((r) => !r.ok && !configs.find((c) => c.name === r.config).mayFail);
  const microFailures = micro ? (micro.error ? 1 : micro.results.filter((r) => r.status === 'failed').length) : 0;
  if (ourFailures.length || microFailures) {
    log(`bench: ${ourFailures.length} run(s) and ${microFailures} micro-benchmark(s) failed`);
    return 1;
  }
  return 0;
}

function describeMix() {
  const counts = new Map();
  for (const p of MIX) counts.set(p, (counts.get(p) || 0) + 1);
  return [...counts].map(([p, n]) => `${n} x \`${p}\``).join(', ');
}

async function runSoak(o, configs) {
  const machine = describeMachine(o.node);
  const config = configs[0];
  const none = CONFIGS.find((c) => c.name === 'none');
  // The bare app's RSS also grows for a while under load; a baseline of a few seconds would
  // overstate what the agent adds.
  const baselineSec = Math.min(SOAK_BASELINE_SEC, o.durationSec);
  log(`soak: baseline none for ${baselineSec} s, then ${config.name} for ${o.durationSec} s`);
  const baseline = await runOne(none, 'load', 1, { ...o, durationSec: baselineSec }, 1);
  const soakRun = await runOne(config, 'soak', 1, o, 1);
  const series = soakRun.ok ? soakRun.rss.series : [];
  const series10s = [];
  for (const s of series) if (s.sec >= series10s.length * 10) series10s.push(s);
  const baselineMiB = baseline.ok ? baseline.rss.steadyMiB : null;
  const verdict = evaluateSoak(series, baselineMiB);
  const ctx = { title: 'Soak results', command: commandLine(), machine, options: o, soakRun, baselineSec, baselineMiB, series10s, verdict };
  if (soakRun.rss) delete soakRun.rss.series;
  const markdown = renderSoak(ctx);
  writeOutputs(o, {
    'RESULTS.soak.md': markdown,
    'results.soak.json': `${JSON.stringify({ command: ctx.command, machine, options: o, baseline, soakRun, series10s, verdict, rssMedianMiB: median(series.map((s) => s.mib)) }, null, 2)}\n`,
  });
  log('');
  log(markdown);
  return soakRun.ok ? 0 : 1;
}

async function main() {
  let o;
  let configs;
  try {
    o = parseArgs(process.argv.slice(2));
    if (o.help) {
      log(USAGE);
      return 0;
    }
    configs = selectConfigs(o);
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (configs.some((c) => c.needsDist) && !fs.existsSync(DIST_REGISTER)) {
    process.stderr.write(`bench: ${path.relative(process.cwd(), DIST_REGISTER)} does not exist. Build the agent first: npm run build (npx tsc -p tsconfig.json)\n`);
    return 2;
  }
  installCleanup();
  if (fs.existsSync(DIST_REGISTER)) {
    try {
      const snapshot = snapshotDist();
      process.on('exit', snapshot.remove);
      useDist(snapshot.distDir);
      o.dist = { distDir: snapshot.distDir, hash: snapshot.hash, builtAt: snapshot.builtAt };
    } catch (err) {
      log(`bench: could not copy dist/ (${err.message}); using it in place, a rebuild during the run would mix builds`);
    }
  }
  return o.soak ? runSoak(o, configs) : runRounds(o, configs);
}

process.on('uncaughtException', (err) => {
  process.stderr.write(`bench: internal error: ${err && err.stack ? err.stack : err}\n`);
  killAll();
  process.exit(2);
});
process.on('unhandledRejection', (err) => {
  process.stderr.write(`bench: internal error: ${err && err.stack ? err.stack : err}\n`);
  killAll();
  process.exit(2);
});

main().then(
  (code) => {
    if (liveCount() > 0) killAll();
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: internal error: ${err && err.stack ? err.stack : err}\n`);
    killAll();
    process.exitCode = 2;
  },
);

