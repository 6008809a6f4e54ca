#!/usr/bin/env node
'use strict';
// Reads what bench/preload/measured-window.js wrote (<pid>.cpuprofile and <pid>.gc.json) and
// prints self time per request, by owner: the agent's own files (agent:<file>), each npm package,
// Node's internals (node:<module>), and V8's own rows (GC, program, idle). Each profile is one app
// of one configuration, named in its .gc.json (the harness's BENCH_CONFIG); profiles of the same
// configuration are added up.
//   node bench/profile-summary.js [DIR] [--top N] [--functions OWNER-PREFIX]
// --functions lists the functions of the owners starting with the prefix (e.g. agent:) instead.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ownerOf } = require('./lib/code-owner');
const { printOwnerTable } = require('./lib/owner-table');

function parseArgs(argv) {
  const args = { dir: process.env.MEASURED_WINDOW_DIR || path.join(os.tmpdir(), 'measured-window'), top: 25, functions: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--top') args.top = Number(argv[++i]);
    else if (a === '--functions') args.functions = argv[++i];
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}; allowed: --top N, --functions PREFIX`);
    else args.dir = a;
  }
  if (!Number.isInteger(args.top) || args.top < 1) throw new Error('--top takes a whole number of rows, at least 1');
  return args;
}

/** Self time in µs per (owner, function) of one profile. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) || 0) + 1);
  const total = profile.endTime - profile.startTime;
  const perSample = total / profile.samples.length;
  const owners = new Map();
  const functions = new Map();
  for (const [id, count] of counts) {
    const { callFrame } = byId.get(id);
    const owner = ownerOf(callFrame.url, callFrame.functionName);
    const us = count * perSample;
    owners.set(owner, (owners.get(owner) || 0) + us);
    const fn = `${owner} ${callFrame.functionName || '(anonymous)'}:${callFrame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) || 0) + us);
  }
  return { owners, functions, totalUs: total };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const files = fs.readdirSync(args.dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${args.dir}; run the harness with --app-args "--require ./bench/preload/measured-window.js"`);
  const groups = new Map();
  for (const file of files) {
    const pid = file.replace(/\.cpuprofile$/, '');
    const gcFile = path.join(args.dir, `${pid}.gc.json`);
    const gc = fs.existsSync(gcFile) ? JSON.parse(fs.readFileSync(gcFile, 'utf8')) : {};
    if (!gc.requests) {
      console.error(`${file}: no request count (written by an older measured-window.js); skipped`);
      continue;
    }
    const name = gc.config || 'unknown';
    const times = selfTimes(JSON.parse(fs.readFileSync(path.join(args.dir, file), 'utf8')));
    const group = groups.get(name) || { requests: 0, owners: new Map(), functions: new Map(), runs: 0 };
    group.requests += gc.requests;
    group.runs++;
    for (const [k, v] of times.owners) group.owners.set(k, (group.owners.get(k) || 0) + v);
    for (const [k, v] of times.functions) group.functions.set(k, (group.functions.get(k) || 0) + v);
    groups.set(name, group);
  }
  const rowsOf = (g) => (args.functions === undefined ? g.owners : new Map([...g.functions].filter(([k]) => k.startsWith(args.functions))));
  const table = new Map();
  for (const [name, g] of groups) table.set(name, { requests: g.requests, runs: g.runs, rows: rowsOf(g), total: [...g.owners.values()].reduce((a, b) => a + b, 0) });
  printOwnerTable(`µs of self time per request (${args.dir})`, table, args.top, 'all (idle included)');
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
}
