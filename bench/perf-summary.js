#!/usr/bin/env node
'use strict';
// Reads what bench/preload/perf-window.js wrote (<pid>.perf.data and <pid>.perf.json) and prints
// on-CPU time per request, by owner (bench/lib/code-owner.js): the agent's own files, each npm
// package, Node's internals, V8's parts (builtins, GC, compiler, runtime), zlib, libuv, libc, the
// kernel. Samples of every thread of the app are counted, and split by thread at the end. Each
// window is one app of one configuration (its BENCH_CONFIG); windows of the same configuration
// are added up.
//   node bench/perf-summary.js [DIR] [--top N] [--functions OWNER-PREFIX] [--json]
// --functions lists the symbols of the owners starting with the prefix (e.g. agent:, v8:gc).
// --json prints µs per request by configuration and row instead of the table, for sums of one's own.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { nativeOwnerOf } = require('./lib/code-owner');
const { printOwnerTable } = require('./lib/owner-table');

function parseArgs(argv) {
  const args = { dir: process.env.PERF_WINDOW_DIR || path.join(os.tmpdir(), 'perf-window'), top: 30, functions: undefined, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--top') args.top = Number(argv[++i]);
    else if (a === '--functions') args.functions = argv[++i];
    else if (a === '--json') args.json = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}; allowed: --top N, --functions PREFIX, --json`);
    else args.dir = a;
  }
  if (!Number.isInteger(args.top) || args.top < 1) throw new Error('--top takes a whole number of rows, at least 1');
  return args;
}

/** Samples per (thread, object, symbol) of one perf.data, from perf report. */
function samplesOf(file) {
  const text = execFileSync(
    'perf',
    ['report', '-i', file, '--stdio', '--no-children', '-n', '--sort', 'comm,dso,sym', '-g', 'none', '--percent-limit', '0', '-t', '\t'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const rows = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [, count, comm, dso, sym] = line.split('\t').map((s) => s.trim());
    if (sym === undefined) continue;
    rows.push({ count: Number(count), thread: comm, dso, symbol: sym.replace(/^\[[.k]\]\s*/, '') });
  }
  return rows;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const files = fs.readdirSync(args.dir).filter((f) => f.endsWith('.perf.json'));
  if (files.length === 0) throw new Error(`no .perf.json in ${args.dir}; run the apps with NODE_OPTIONS="--perf-basic-prof --require ./bench/preload/perf-window.js"`);
  const groups = new Map();
  const threads = new Map();
  for (const file of files) {
    const meta = JSON.parse(fs.readFileSync(path.join(args.dir, file), 'utf8'));
    const data = path.join(args.dir, file.replace(/\.json$/, '.data'));
    if (!meta.requests || !fs.existsSync(data)) {
      console.error(`${file}: no requests in the window, or no perf.data; skipped`);
      continue;
    }
    const name = meta.config || 'unknown';
    const us = 1e6 / meta.frequency;
    const g = groups.get(name) || { requests: 0, runs: 0, owners: new Map(), functions: new Map(), total: 0 };
    const t = threads.get(name) || new Map();
    g.requests += meta.requests;
    g.runs++;
    for (const row of samplesOf(data)) {
      const owner = nativeOwnerOf(row.dso, row.symbol);
      const time = row.count * us;
      g.owners.set(owner, (g.owners.get(owner) || 0) + time);
      const fn = `${owner} ${row.symbol}`;
      g.functions.set(fn, (g.functions.get(fn) || 0) + time);
      t.set(`thread ${row.thread}`, (t.get(`thread ${row.thread}`) || 0) + time);
      g.total += time;
    }
    groups.set(name, g);
    threads.set(name, t);
  }
  const rowsOf = (g) => (args.functions === undefined ? g.owners : new Map([...g.functions].filter(([k]) => k.startsWith(args.functions))));
  const table = new Map();
  for (const [name, g] of groups) table.set(name, { requests: g.requests, runs: g.runs, rows: rowsOf(g), total: g.total });
  if (args.json) {
    const out = {};
    for (const [name, g] of table) {
      const rows = {};
      for (const [k, v] of g.rows) rows[k] = v / g.requests;
      out[name] = { requests: g.requests, all: g.total / g.requests, rows };
    }
    console.log(JSON.stringify(out, null, 1));
    return;
  }
  printOwnerTable(`µs on a CPU per request, all threads (${args.dir})`, table, args.top, 'all');
  console.log('');
  const byThread = new Map();
  for (const [name, g] of groups) byThread.set(name, { requests: g.requests, runs: g.runs, rows: threads.get(name), total: g.total });
  printOwnerTable('by thread', byThread, 10, 'all');
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
}
