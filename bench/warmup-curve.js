#!/usr/bin/env node
'use strict';
// CPU per request in consecutive windows from the app's start, to see when it settles (how long
// the warm-up of bench/run.js must be). See bench/README.md, "Warm-up".
//
//   node bench/warmup-curve.js [--windows N] [--seconds S] [--only a,b] [--compiles] [--deopts]
//
// For each configuration (default none and agent-prod, in that order): a fresh receiver and app,
// then N windows of S seconds of the mixed load; per window, the app's CPU per request on its
// main thread and on its other threads (V8's compiler and GC helpers, libuv's pool, workers),
// read from /proc/<pid>/task (Linux only).
// --compiles runs the app with V8's --trace-opt and adds, per window, the time V8's optimizing
// compilers spent per request (TurboFan, and Maglev from Node 22; the three phases V8 reports for
// each optimized function), and the functions that took most of it: unlike CPU per request, it
// does not move with the machine's speed from one minute to the next, so it shows when the
// optimizing compilers are done.
// --deopts runs the app with --trace-deopt and counts, per window, the deoptimizations (optimized
// code thrown away because an assumption failed: a new object shape, a type never seen), with the
// functions and reasons seen most. A count that does not fall to zero is a function that keeps
// being optimized and thrown away: the code a steady load runs unoptimized, and compiles again.

const { ROOT, childEnv, configNamed } = require('./lib/configs');
const { eachOption, nameList } = require('./lib/args');
const { spawnNode, waitForLine, stop, installCleanup, killAll } = require('./lib/processes');
const { MIX, SERVER, RECEIVER, load } = require('./lib/run-config');
const { readThreadCpuMs } = require('./lib/proc');

function parseArgs(argv) {
  const o = { windows: 10, seconds: 3, only: ['none', 'agent-prod'], compiles: false, deopts: false };
  eachOption(argv, (flag, value) => {
    if (flag === '--windows') o.windows = Number(value());
    else if (flag === '--seconds') o.seconds = Number(value());
    else if (flag === '--only') o.only = nameList(value());
    else if (flag === '--compiles') o.compiles = true;
    else if (flag === '--deopts') o.deopts = true;
    else throw new Error(`unknown argument: ${flag}; usage: node bench/warmup-curve.js [--windows N] [--seconds S] [--only a,b] [--compiles] [--deopts]`);
  });
  if (!(Number.isInteger(o.windows) && o.windows > 0)) throw new Error('--windows needs a whole number > 0');
  if (!(o.seconds >= 1)) throw new Error('--seconds needs a number >= 1');
  return o;
}

async function curve(config, o) {
  const receiver = spawnNode([RECEIVER], { env: childEnv({}), cwd: ROOT, name: 'otlp receiver' });
  let app;
  try {
    const [, receiverUrl] = await waitForLine(receiver, 'out', /otlp receiver listening on (\S+)/, 10_000, 'listening line');
    const args = [];
    if (o.compiles) args.push('--trace-opt');
    if (o.deopts) args.push('--trace-deopt');
    for (const preload of config.preloads()) args.push('--require', preload);
    args.push(SERVER);
    app = spawnNode(args, { env: childEnv({ PORT: '0', OTEL_SERVICE_NAME: 'members-api', OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, ...config.env }), cwd: ROOT, name: `app (${config.name})` });
    const compiled = new Tally((ms) => `${Math.round(ms)} ms`);
    if (o.compiles) app.out.listeners.add((line) => compileLine(compiled, line));
    const deopts = new Tally((count) => `x${count}`);
    if (o.deopts) app.out.listeners.add((line) => deoptLine(deopts, line));
    const [, url] = await waitForLine(app, 'out', /members-api listening on (http:\/\/\S+)/, 30_000, 'listening line');
    const windows = [];
    for (let w = 0; w < o.windows; w++) {
      const before = readThreadCpuMs(app.pid);
      compiled.reset();
      deopts.reset();
      const res = await load(url, { durationSec: o.seconds, paths: MIX, connections: 10 });
      const after = readThreadCpuMs(app.pid);
      const n = res.requests.sent;
      windows.push({ main: ((after.main - before.main) * 1000) / n, others: ((after.others - before.others) * 1000) / n, compileUs: (compiled.total * 1000) / n, top: compiled.top(3), deopts: deopts.total, deoptTop: deopts.top(4) });
    }
    return windows;
  } finally {
    if (app) await stop(app, 'SIGTERM', 20_000).catch(() => undefined);
    await stop(receiver, 'SIGTERM', 10_000).catch(() => undefined);
  }
}

/** A total per window and its largest parts by name; reset() starts the next window. */
class Tally {
  constructor(unit) {
    this.unit = unit;
    this.reset();
  }

  reset() {
    this.total = 0;
    this.byName = new Map();
  }

  add(name, amount) {
    this.total += amount;
    // Bounded: a window sees at most a few hundred distinct names, and reset() empties it.
    if (this.byName.size < 10_000 || this.byName.has(name)) this.byName.set(name, (this.byName.get(name) || 0) + amount);
  }

  top(n) {
    return [...this.byName].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, amount]) => `${name} ${this.unit(amount)}`);
  }
}

const anonymous = (name) => (name === '' || name.startsWith('(') ? '(anonymous)' : name);

/**
 * Counts V8's --trace-deopt lines: `[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x... <JSFunction name (sfi = ...)>, ...`,
 * and `[marking dependent code ... (<SharedFunctionInfo name>) (opt id N) for deoptimization, reason: ...]`.
 */
function deoptLine(tally, line) {
  const m = /^\[bailout \(kind: ([\w-]+)(?:, reason: ([^)]*))?\): begin\. deoptimizing 0x[0-9a-f]+ <JSFunction (\S*)/.exec(line);
  if (m) return tally.add(`${anonymous(m[3])} (${m[2] || m[1]})`, 1);
  // Optimized code thrown away because something it relied on changed (a prototype, a field's type).
  const d = /^\[marking dependent code .*?<SharedFunctionInfo ?([^>]*)>\).* for deoptimization, reason: (.*)\]$/.exec(line);
  if (d) tally.add(`${anonymous(d[1])} (dependency: ${d[2]})`, 1);
}

/** Sums V8's --trace-opt lines: `[completed compiling <JSFunction name ...> (target TURBOFAN) - took a, b, c ms]` (MAGLEV too: Node 22 and later). */
function compileLine(tally, line) {
  const m = /^\[completed compiling 0x[0-9a-f]+ <JSFunction (\S*)[^>]*> \(target (?:TURBOFAN\w*|MAGLEV)\)(?: OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(line);
  if (m) tally.add(anonymous(m[1]), Number(m[2]) + Number(m[3]) + Number(m[4]));
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  installCleanup();
  const configs = o.only.map((name) => configNamed(name));
  const head = Array.from({ length: o.windows }, (_, w) => `${w * o.seconds}-${(w + 1) * o.seconds}`);
  console.log(`CPU per request in µs, main thread + other threads, per window of ${o.seconds} s from the start (Node ${process.version})`);
  console.log(`| seconds | ${head.join(' | ')} |\n|---|${head.map(() => '---:').join('|')}|`);
  const curves = [];
  for (const config of configs) {
    const windows = await curve(config, o);
    curves.push({ config, windows });
    console.log(`| \`${config.name}\` | ${windows.map((w) => `${Math.round(w.main)} + ${Math.round(w.others)}`).join(' | ')} |`);
  }
  if (o.deopts) {
    console.log(`\nDeoptimizations per window (--trace-deopt)`);
    console.log(`| seconds | ${head.join(' | ')} |\n|---|${head.map(() => '---:').join('|')}|`);
    for (const { config, windows } of curves) console.log(`| \`${config.name}\` | ${windows.map((w) => w.deopts).join(' | ')} |`);
    console.log(`\nMost frequent deoptimizations per window (function, reason):`);
    for (const { config, windows } of curves) console.log(`- \`${config.name}\`: ${windows.map((w, i) => `${head[i]} s: ${w.deoptTop.join(', ') || '-'}`).join('; ')}`);
  }
  if (!o.compiles) return;
  // V8 times each phase of a compile job by the clock: under load that includes waiting for a core.
  console.log(`\nOptimizing compile time (TurboFan, Maglev) per request in µs, per window (V8's own timing of its compile jobs, --trace-opt)`);
  console.log(`| seconds | ${head.join(' | ')} |\n|---|${head.map(() => '---:').join('|')}|`);
  for (const { config, windows } of curves) console.log(`| \`${config.name}\` | ${windows.map((w) => Math.round(w.compileUs)).join(' | ')} |`);
  console.log(`\nMost compile time per window:`);
  for (const { config, windows } of curves) console.log(`- \`${config.name}\`: ${windows.map((w, i) => `${head[i]} s: ${w.top.join(', ') || '-'}`).join('; ')}`);
}

main()
  .catch((err) => {
    console.error(`warmup-curve: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(() => killAll());
