#!/usr/bin/env node
'use strict';
// Micro-benchmarks of the agent's hot paths, from dist/.
//
//   node bench/micro/run.js [--quick] [--filter TEXT] [--json FILE]
//
// Every bench/micro/*.js file but this one exports one benchmark or an array of them:
//   {
//     name: 'what is measured',                  // unique, shown in the table
//     requires: { 'sql': ['normalizeSql'] },  // optional: dist modules and the exports
//                                                // used; missing ones skip the benchmark
//     setup(deps) { return state },              // optional; deps['sql'] = the module
//     fn(state) { return result },               // one operation; timed in a loop
//     baseline: 'name of another benchmark',     // optional: shown as "x baseline"
//   }
// Helpers that are not benchmarks live in bench/micro/lib/.

const fs = require('node:fs');
const path = require('node:path');

const MICRO_DIR = __dirname;
// bench/run.js points this at its snapshot of dist/.
const DIST = process.env.BENCH_DIST_DIR || path.resolve(__dirname, '..', '..', 'dist');

const PROFILES = {
  full: { warmupMs: 300, sampleMs: 100, samples: 7 },
  quick: { warmupMs: 100, sampleMs: 30, samples: 3 },
};

/** Results that nothing reads, so the engine cannot drop the benchmarked calls. */
let blackhole;

function listBenchmarks(filter) {
  const files = fs
    .readdirSync(MICRO_DIR)
    .filter((f) => f.endsWith('.js') && f !== 'run.js')
    .sort();
  const out = [];
  for (const file of files) {
    let exported;
    try {
      exported = require(path.join(MICRO_DIR, file));
    } catch (err) {
      out.push({ file, name: file, loadError: `could not load ${file}: ${err.message}` });
      continue;
    }
    for (const bench of Array.isArray(exported) ? exported : [exported]) {
      if (!bench || typeof bench.fn !== 'function' || typeof bench.name !== 'string') {
        out.push({ file, name: file, loadError: `${file} exports something that is not { name, fn }` });
        continue;
      }
      out.push({ file, ...bench });
    }
  }
  return filter ? out.filter((b) => b.name.includes(filter) || b.file.includes(filter)) : out;
}

/** Loads the dist modules a benchmark needs; returns them, or the reason to skip it. */
function loadRequires(requires) {
  const deps = {};
  for (const [rel, names] of Object.entries(requires || {})) {
    const file = path.join(DIST, rel);
    let mod;
    try {
      mod = require(file);
    } catch (err) {
      if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(file)) {
        return { skip: `dist/${rel} not built (yet)` };
      }
      return { skip: `dist/${rel} failed to load: ${err.message}` };
    }
    const missing = (names || []).filter((n) => mod[n] === undefined);
    if (missing.length) return { skip: `dist/${rel} has no ${missing.join(', ')} (yet)` };
    deps[rel] = mod;
  }
  return { deps };
}

/** A fresh loop per benchmark: one shared loop would see every fn and stop inlining any. */
function makeLoop() {
  // eslint-disable-next-line no-new-func
  return new Function('fn', 'state', 'n', 'let r; for (let i = 0; i < n; i++) r = fn(state); return r;');
}

/**
 * Milliseconds of CPU time (user + system, this process) for n calls, and the wall time. CPU
 * time is what is reported: on a shared machine the wall clock also counts the time this
 * process waited for a core.
 */
function timeBatch(loop, fn, state, n) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  blackhole = loop(fn, state, n);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c1 = process.cpuUsage(c0);
  return { cpu: Math.max((c1.user + c1.system) / 1000, 0.001), wall };
}

function measure(bench, state, profile) {
  const loop = makeLoop();
  // Grow the batch until it takes at least the warm-up time; that also warms the JIT.
  let n = 1;
  let ms = timeBatch(loop, bench.fn, state, n).wall;
  while (ms < profile.warmupMs) {
    n = ms < 1 ? n * 10 : Math.ceil((n * profile.warmupMs * 1.1) / ms);
    ms = timeBatch(loop, bench.fn, state, n).wall;
  }
  n = Math.max(1, Math.round((n * profile.sampleMs) / ms));
  const rates = [];
  const wallRates = [];
  for (let i = 0; i < profile.samples; i++) {
    const t = timeBatch(loop, bench.fn, state, n);
    rates.push(n / (t.cpu / 1000));
    wallRates.push(n / (t.wall / 1000));
  }
  rates.sort((a, b) => a - b);
  wallRates.sort((a, b) => a - b);
  const med = rates[Math.floor(rates.length / 2)];
  return {
    opsPerSec: med,
    usPerOp: 1e6 / med,
    spread: (rates[rates.length - 1] - rates[0]) / med,
    wallOpsPerSec: wallRates[Math.floor(wallRates.length / 2)],
    batch: n,
    samples: rates.length,
  };
}

function runMicro({ quick = false, filter } = {}) {
  const profile = quick ? PROFILES.quick : PROFILES.full;
  const results = [];
  for (const bench of listBenchmarks(filter)) {
    const row = { file: bench.file, name: bench.name, baseline: bench.baseline || null };
    if (bench.loadError) {
      results.push({ ...row, status: 'failed', reason: bench.loadError });
      continue;
    }
    const { deps, skip } = loadRequires(bench.requires);
    if (skip) {
      results.push({ ...row, status: 'skipped', reason: skip });
      continue;
    }
    try {
      const state = bench.setup ? bench.setup(deps) : undefined;
      results.push({ ...row, status: 'ok', ...measure(bench, state, profile) });
    } catch (err) {
      results.push({ ...row, status: 'failed', reason: err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : String(err) });
    }
  }
  for (const r of results) {
    const base = r.baseline && results.find((b) => b.name === r.baseline && b.status === 'ok');
    r.vsBaseline = r.status === 'ok' && base ? r.usPerOp / base.usPerOp : null;
  }
  void blackhole;
  return { profile: quick ? 'quick' : 'full', node: process.version, results };
}

function formatRate(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k`;
  return v.toFixed(1);
}

function formatUs(v) {
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** Markdown table of a runMicro() result. */
function formatMicroTable(micro) {
  const lines = [
    '| benchmark | ops/s (CPU) | µs/op | spread | x baseline |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const r of micro.results) {
    if (r.status !== 'ok') {
      lines.push(`| ${r.name} | ${r.status} | | | ${r.reason.replace(/\|/g, '/')} |`);
      continue;
    }
    lines.push(`| ${r.name} | ${formatRate(r.opsPerSec)} | ${formatUs(r.usPerOp)} | ±${(r.spread * 50).toFixed(0)}% | ${r.vsBaseline == null ? '' : r.vsBaseline.toFixed(1)} |`);
  }
  return lines.join('\n');
}

function parseArgs(argv) {
  const opts = { quick: false, filter: undefined, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--filter') opts.filter = argv[++i];
    else if (a === '--json') opts.json = argv[++i];
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node bench/micro/run.js [--quick] [--filter TEXT] [--json FILE]\n');
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  return opts;
}

if (require.main === module) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const micro = runMicro(opts);
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(micro, null, 2));
    process.stdout.write(`${formatMicroTable(micro)}\n`);
    process.exitCode = micro.results.some((r) => r.status === 'failed') ? 1 : 0;
  } catch (err) {
    process.stderr.write(`bench/micro: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 2;
  }
}

module.exports = { runMicro, formatMicroTable };
