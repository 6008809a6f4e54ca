#!/usr/bin/env node
'use strict';
// Instructions and cache misses per request, counted by valgrind's callgrind: a measure that does
// not move with the machine's speed, for when CPU ratios on a shared machine are too noisy to
// tell a few per cent apart. Linux, with valgrind installed (Debian: apt-get install valgrind).
//
//   node bench/instructions.js --only none,agent-prod-unsampled [--warmup N] [--requests N]
//                              [--parallel N] [--node PATH]
//
// For each configuration: a receiver, and the app under callgrind with counting off; N warm-up
// requests of the mixed load, then counting on for the measured requests only
// (callgrind_control), then the totals divided by the requests. The TurboFan row is what V8's
// optimizing compiler ran meanwhile (functions of v8::internal::compiler): still compiling means
// still warming up. Under valgrind the app runs about 50 times slower, so whatever follows the
// clock (per-second sampling budgets, the export timer, batch sizes) behaves as at a much lower
// load: compare configurations whose clocked parts do not matter to the question, and read
// instructions, not time. Cache misses are valgrind's simulated caches, not the machine's.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, childEnv, configNamed } = require('./lib/configs');
const { eachOption, nameList } = require('./lib/args');
const { spawnNode, waitForLine, stop, installCleanup, killAll } = require('./lib/processes');
const { MIX, SERVER, RECEIVER, load } = require('./lib/run-config');

const USAGE = 'usage: node bench/instructions.js --only a,b [--warmup N] [--requests N] [--parallel N] [--node PATH]';

function parseArgs(argv) {
  const o = { only: [], warmup: 8000, requests: 600, parallel: Math.min(2, os.cpus().length), node: process.execPath };
  eachOption(argv, (flag, value) => {
    if (flag === '--only') o.only = nameList(value());
    else if (flag === '--warmup') o.warmup = Number(value());
    else if (flag === '--requests') o.requests = Number(value());
    else if (flag === '--parallel') o.parallel = Number(value());
    else if (flag === '--node') o.node = value();
    else throw new Error(`unknown argument: ${flag}; ${USAGE}`);
  });
  if (o.only.length === 0) throw new Error(`--only names the configurations to count; ${USAGE}`);
  for (const [name, min] of [['warmup', 0], ['requests', 1], ['parallel', 1]]) {
    if (!Number.isInteger(o[name]) || o[name] < min) throw new Error(`--${name} needs a whole number >= ${min}`);
  }
  return o;
}

/** `count` requests of the mix over four connections; under valgrind a request may take seconds. */
function drive(base, count) {
  if (count === 0) return Promise.resolve();
  return load(base, { amount: count, guardMs: count * 5_000 + 60_000, timeoutSec: 120, paths: MIX, connections: 4 });
}

/** Totals of a callgrind output file, per event name (Ir, I1mr, ...), and the compiler's share of Ir. */
function readCallgrind(file) {
  const text = fs.readFileSync(file, 'utf8');
  const events = /^events: (.*)$/m.exec(text)[1].split(' ');
  const totals = (/^totals: (.*)$/m.exec(text) || /^summary: (.*)$/m.exec(text))[1].split(' ').map(Number);
  const result = Object.fromEntries(events.map((e, i) => [e, totals[i] || 0]));
  // Self cost lines follow `fn=`; the line after `calls=` is a call's inclusive cost, skipped.
  const names = new Map();
  let compiler = false;
  let skip = false;
  const compilerTotals = events.map(() => 0);
  for (const line of text.split('\n')) {
    const fn = /^(c?)fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (fn) {
      if (fn[3] !== undefined) names.set(fn[2], fn[3]);
      if (fn[1] === '') {
        compiler = /v8::internal::compiler::|turboshaft::/.test(names.get(fn[2]) || '');
        skip = false;
      }
      continue;
    }
    if (line.startsWith('calls=')) {
      skip = true;
      continue;
    }
    if (/^[0-9+\-*]/.test(line)) {
      if (skip) skip = false;
      else if (compiler) {
        // A cost line: a position, then one count per event (trailing zeros left out).
        const parts = line.split(' ');
        for (let i = 0; i < events.length; i++) compilerTotals[i] += Number(parts[i + 1] || 0);
      }
    }
  }
  // The compiler's own share of each event, and what the rest of the process did.
  events.forEach((e, i) => {
    result[`compiler${e}`] = compilerTotals[i];
  });
  return result;
}

async function count(config, o, dir) {
  const receiver = spawnNode([RECEIVER], { env: childEnv({}), cwd: ROOT, name: 'otlp receiver' });
  let app;
  try {
    const [, receiverUrl] = await waitForLine(receiver, 'out', /otlp receiver listening on (\S+)/, 10_000, 'listening line');
    const out = path.join(dir, `${config.name}.callgrind`);
    const args = ['--tool=callgrind', '--instr-atstart=no', '--cache-sim=yes', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, o.node];
    for (const preload of config.preloads()) args.push('--require', preload);
    args.push(SERVER);
    // Self-protection would shed work at valgrind's speed; the count is of the work itself.
    const env = childEnv({ PORT: '0', OTEL_SERVICE_NAME: 'members-api', OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, ...config.env, PERF_AGENT_PROTECTION_ENABLED: 'false' });
    app = spawnNode(args, { env, cwd: ROOT, name: `app (${config.name})`, node: 'valgrind' });
    const [, url] = await waitForLine(app, 'out', /members-api listening on (http:\/\/\S+)/, 300_000, 'listening line');
    await drive(url, o.warmup);
    callgrindControl(['-i', 'on'], app.pid);
    await drive(url, o.requests);
    callgrindControl(['-d'], app.pid); // writes <out>.1: the measured requests only
    const totals = readCallgrind(`${out}.1`);
    return { name: config.name, perRequest: Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v / o.requests])) };
  } finally {
    if (app) await stop(app, 'SIGTERM', 120_000).catch(() => undefined);
    await stop(receiver, 'SIGTERM', 10_000).catch(() => undefined);
  }
}

function callgrindControl(args, pid) {
  const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${r.error?.message || r.stderr}`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  const configs = o.only.map((name) => configNamed(name));
  installCleanup();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-instructions-'));
  const results = new Array(configs.length);
  let next = 0;
  const worker = async () => {
    while (next < configs.length) {
      const i = next++;
      results[i] = await count(configs[i], o, dir);
      console.error(`[instructions] ${configs[i].name} done`);
    }
  };
  await Promise.all(Array.from({ length: o.parallel }, worker));
  fs.rmSync(dir, { recursive: true, force: true });
  const base = results.find((r) => r.name === 'none');
  const k = (v) => `${(v / 1000).toFixed(0)}k`;
  console.log(`Per request, counted by callgrind over ${o.requests} requests after ${o.warmup} of warm-up (${path.basename(o.node)} ${spawnSync(o.node, ['--version'], { encoding: 'utf8' }).stdout.trim()})`);
  console.log(`\nMisses are of valgrind's simulated caches; "outside TurboFan" leaves out the compiler's own.`);
  console.log(`\n| configuration | instructions | / none | of them TurboFan | outside TurboFan | L1 instruction misses, outside TurboFan | L1 data misses, outside TurboFan | last-level misses |\n|---|---:|---:|---:|---:|---:|---:|---:|`);
  for (const r of results) {
    const p = r.perRequest;
    const ratio = base ? (p.Ir / base.perRequest.Ir).toFixed(2) : '–';
    const l1d = p.D1mr + p.D1mw - p.compilerD1mr - p.compilerD1mw;
    console.log(`| \`${r.name}\` | ${k(p.Ir)} | ${ratio} | ${k(p.compilerIr)} | ${k(p.Ir - p.compilerIr)} | ${k(p.I1mr - p.compilerI1mr)} | ${k(l1d)} | ${k(p.ILmr + p.DLmr + p.DLmw)} |`);
  }
}

main()
  .catch((err) => {
    console.error(`instructions: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(() => killAll());
