#!/usr/bin/env node
'use strict';
// CPU per request of a few configurations, measured interleaved: every configuration's app runs
// at the same time, each is warmed up, and then the load goes to one app at a time in short
// slices, in an order that rotates every cycle, for many cycles. A ratio is taken between slices
// of one cycle, seconds apart, instead of between runs minutes apart: on a shared machine whose
// speed drifts by 20-40% within minutes, that is what makes a ratio of 1.3 readable.
//
//   node bench/interleave.js --only none,context-only,agent-prod-unsampled,agent-prod,otel-ratio-0
//
// An app's CPU in a cycle is everything it did from the start of its slice to the start of its
// next one: the slice, the requests still in flight, and whatever it did in the background while
// the others had the load (an export on a timer, say). So work the agent defers is paid for, and
// so is the agent's own periodic work, at the cycle's length rather than the slice's (it counts
// against the agent). `slice-only` is the slice alone, for comparison.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, useDist, childEnv, baselineDistDir, withBaselines, configNamed } = require('./lib/configs');
const { eachOption, nameList } = require('./lib/args');
const { snapshotDist } = require('./lib/dist');
const { spawnNode, waitForLine, stop, formatExit, describeOutput, installCleanup } = require('./lib/processes');
const { load, MIX, RECEIVER, appArgs, appEnv, mark } = require('./lib/run-config');
const { quantile, median } = require('./lib/stats');
const { describeMachine } = require('./lib/machine');

/** The targets' other comparisons (DESIGN.md), reported when both ran. */
const PAIRS = [
  ['agent-prod', 'otel-ratio-0'],
  ['agent-prod-unsampled', 'otel-ratio-0'],
  ['agent-dev', 'otel'],
];

const DRAIN_MS = 300;

const USAGE = `usage: node bench/interleave.js --only none,a,b [options]
  --only a,b,...     configurations (none among them: the ratios are to it); see node bench/run.js --help
  --cycles N         cycles (default 20)
  --slice S          seconds of load per configuration and cycle (default 3)
  --warmup S         seconds of warm-up load per configuration before the first cycle (default 60: V8
                     optimizes agent-prod's recorded path only 15-50 s in; bench/README.md, "Warm-up")
  --connections N    concurrent connections (default 10)
  --rate R           at most R requests per second (default: as fast as the connections go)
  --node PATH        run the apps under this node binary
  --baseline-dist D  also run every agent configuration against another build's dist/ directory D, as
                     NAME@base, in the same cycles; the report adds NAME / NAME@base per cycle
  --pair A/B,...     also report these ratios per cycle (configurations of --only), beside the targets' pairs
  --out FILE         also write the report (markdown) to FILE`;

function parseArgs(argv) {
  const o = { cycles: 20, slice: 3, warmup: 60, connections: 10, rate: undefined, node: undefined, only: [], out: undefined, baselineDist: undefined, pairs: [] };
  const num = (flag, v, min) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag} ${JSON.stringify(v)}: expected a number >= ${min}`);
    return n;
  };
  eachOption(argv, (a, next) => {
    if (a === '--only') o.only = nameList(next());
    else if (a === '--cycles') o.cycles = Math.floor(num(a, next(), 2));
    else if (a === '--slice') o.slice = num(a, next(), 1);
    else if (a === '--warmup') o.warmup = num(a, next(), 0);
    else if (a === '--connections') o.connections = Math.floor(num(a, next(), 1));
    else if (a === '--rate') o.rate = num(a, next(), 1);
    else if (a === '--node') o.node = next();
    else if (a === '--out') o.out = next();
    else if (a === '--pair') o.pairs.push(...nameList(next()).map((p) => p.split('/')));
    else if (a === '--baseline-dist') o.baselineDist = baselineDistDir(next());
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown option ${a}`);
  });
  if (o.help) return o;
  if (!o.only.includes('none')) throw new Error('--only must name none: every ratio is to it');
  for (const pair of o.pairs) {
    if (pair.length !== 2 || !pair.every((name) => o.only.includes(name))) throw new Error(`--pair ${pair.join('/')}: expected A/B, both named in --only`);
  }
  o.configs = o.only.map((name) => configNamed(name, { standalone: true }));
  return o;
}

/** One configuration's app and receiver, alive for the whole run. */
async function startApp(config, o, tmp) {
  const receiver = spawnNode([RECEIVER], { env: childEnv({}), cwd: ROOT, name: `otlp receiver (${config.name})` });
  const [, receiverUrl] = await waitForLine(receiver, 'out', /otlp receiver listening on (\S+)/, 10_000, 'listening line');
  const probeFile = path.join(tmp, `${config.name}.json`);
  const app = spawnNode(appArgs(config), { env: appEnv(config, receiverUrl, probeFile), cwd: ROOT, name: `app (${config.name})`, node: o.node });
  const [, url] = await waitForLine(app, 'out', /members-api listening on (http:\/\/\S+)/, 30_000, 'listening line');
  let marks = 0;
  return {
    config,
    url,
    probeFile,
    slices: [],
    async mark() {
      await mark(app, ++marks);
      return marks - 1; // index in the probe's marks
    },
    async stop() {
      const exit = await stop(app, 'SIGTERM', 20_000);
      await stop(receiver, 'SIGTERM', 10_000);
      if (exit.code !== 0) throw new Error(`app (${config.name}) exited with ${formatExit(exit)}${describeOutput(app)}`);
    },
    kill: async () => {
      if (!app.exitInfo) await stop(app, 'SIGKILL', 5_000).catch(() => undefined);
      if (!receiver.exitInfo) await stop(receiver, 'SIGKILL', 5_000).catch(() => undefined);
    },
  };
}

async function slice(app, o, cycle) {
  const start = await app.mark();
  const res = await load(app.url, { durationSec: o.slice, paths: MIX, connections: o.connections, rate: o.rate });
  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
  const end = await app.mark();
  const bad = res.non2xx + res.errors + res.timeouts;
  if (bad > res.requests.total * 0.01) throw new Error(`${app.config.name}: ${bad} failed requests of ${res.requests.total} in cycle ${cycle + 1}`);
  app.slices.push({ cycle, start, end, sent: Math.max(res.requests.sent, res.requests.total), rps: res.requests.total / res.duration });
}

const cpuMs = (m) => (m.cpu.user + m.cpu.system) / 1000;

/** Per cycle: CPU ms per request (to the next slice's start, and slice only) and analyzed traces per request. */
function perCycle(app) {
  const probe = JSON.parse(fs.readFileSync(app.probeFile, 'utf8'));
  return app.slices.map((s, i) => {
    const from = probe.marks[s.start];
    // After the last slice: the app's exit, its final flush included.
    const to = i + 1 < app.slices.length ? probe.marks[app.slices[i + 1].start] : probe.exit;
    const sliceEnd = probe.marks[s.end];
    const analyzed = typeof from.analyzedTraces === 'number' && typeof sliceEnd.analyzedTraces === 'number' ? (sliceEnd.analyzedTraces - from.analyzedTraces) / s.sent : null;
    return { cycle: s.cycle, cpu: (cpuMs(to) - cpuMs(from)) / s.sent, sliceCpu: (cpuMs(sliceEnd) - cpuMs(from)) / s.sent, analyzed, rps: s.rps };
  });
}

const fmt = (v, d = 2) => (v == null || !Number.isFinite(v) ? '–' : v.toFixed(d));

function report(o, apps, figures, meta) {
  const base = figures.get('none');
  const ratios = (name, key) => figures.get(name).map((f, i) => f[key] / base[i][key]);
  const lines = [];
  lines.push('```', `node bench/interleave.js ${meta.argv}`, '```', '');
  lines.push(`- Date: ${meta.date}; ${meta.machine}; Node ${meta.node}; commit ${meta.commit}; dist/ build ${meta.distHash}`);
  lines.push(`- ${o.cycles} cycles x ${apps.length} configurations x ${o.slice} s of load, order rotated every cycle, after ${o.warmup} s of warm-up each; ${o.connections} connections${o.rate ? `, at most ${o.rate} req/s` : ''}; ${fmt(meta.wallSec, 0)} s in all`);
  lines.push('- CPU per request: from the start of a configuration\'s slice to the start of its next one (background and deferred work included), per request sent in the slice. Ratios are to `none` in the same cycle: median [25th-75th percentile] over cycles.', '');
  lines.push('| configuration | req/s | CPU ms/req | / none | / none, slice only | analyzed/req |');
  lines.push('|---|---:|---:|---:|---:|---:|');
  for (const app of apps) {
    const name = app.config.name;
    const f = figures.get(name);
    const r = ratios(name, 'cpu');
    const rs = ratios(name, 'sliceCpu');
    const analyzed = f.map((x) => x.analyzed).filter((x) => x != null);
    lines.push(
      `| \`${name}\` | ${fmt(median(f.map((x) => x.rps)), 0)} | ${fmt(median(f.map((x) => x.cpu)))} | ${fmt(median(r))} [${fmt(quantile(r, 0.25))}-${fmt(quantile(r, 0.75))}] | ${fmt(median(rs))} | ${analyzed.length ? fmt(median(analyzed), 3) : '–'} |`,
    );
  }
  const baselines = apps.map((app) => app.config.name).filter((name) => figures.has(`${name}@base`)).map((name) => [name, `${name}@base`]);
  const pairs = [...PAIRS, ...o.pairs, ...baselines].filter(([a, b]) => figures.has(a) && figures.has(b));
  if (pairs.length > 0) {
    lines.push('', 'Pairs, in the same cycle (median [25th-75th percentile] over cycles):', '');
    for (const [a, b] of pairs) {
      const r = figures.get(a).map((f, i) => f.cpu / figures.get(b)[i].cpu);
      lines.push(`- \`${a}\` / \`${b}\`: ${fmt(median(r))} [${fmt(quantile(r, 0.25))}-${fmt(quantile(r, 0.75))}]`);
    }
  }
  lines.push('', 'Per cycle, CPU per request / none:', '');
  lines.push(`| configuration | ${figures.get('none').map((_, i) => i + 1).join(' | ')} |`);
  lines.push(`|---|${figures.get('none').map(() => '---:').join('|')}|`);
  for (const app of apps) lines.push(`| \`${app.config.name}\` | ${ratios(app.config.name, 'cpu').map((v) => fmt(v)).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  installCleanup();
  const started = Date.now();
  const snapshot = snapshotDist();
  process.on('exit', snapshot.remove);
  useDist(snapshot.distDir);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-interleave-'));
  const configs = withBaselines(o.configs, o.baselineDist);
  const apps = [];
  try {
    for (const config of configs) apps.push(await startApp(config, o, tmp));
    for (const app of apps) {
      if (o.warmup > 0) await load(app.url, { durationSec: o.warmup, paths: MIX, connections: o.connections, rate: o.rate });
      process.stderr.write(`[warm-up] ${app.config.name} done\n`);
    }
    for (let cycle = 0; cycle < o.cycles; cycle++) {
      for (let k = 0; k < apps.length; k++) await slice(apps[(cycle + k) % apps.length], o, cycle);
      process.stderr.write(`[cycle ${cycle + 1}/${o.cycles}] done\n`);
    }
    for (const app of apps) await app.stop();
    // Slices come in cycle order for every app; figures are indexed by cycle.
    const figures = new Map(apps.map((app) => [app.config.name, perCycle(app)]));
    const m = describeMachine(o.node);
    const text = report(o, apps, figures, {
      argv: process.argv.slice(2).join(' '),
      date: m.date,
      machine: `${m.cpuModel}, ${m.cores} cores; load average at the end ${m.loadAvg.join(' / ')}`,
      node: m.node,
      commit: `${m.gitCommit}${m.gitDirtyFiles ? ` with ${m.gitDirtyFiles} uncommitted file(s)` : ''}`,
      distHash: snapshot.hash,
      wallSec: (Date.now() - started) / 1000,
    });
    process.stdout.write(text);
    if (o.out) fs.writeFileSync(o.out, text);
  } finally {
    for (const app of apps) await app.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench/interleave: ${err.stack || err}\n`);
  process.exit(1);
});
