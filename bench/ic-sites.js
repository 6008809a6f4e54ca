#!/usr/bin/env node
'use strict';
// Which of V8's inline caches turn megamorphic under a configuration and not under another.
//
//   node bench/ic-sites.js --only agent-prod-unsampled,agent-prod [--seconds 30] [--all]
//
// Runs the members app under each configuration in turn with V8's `--log-ic`, sends the mixed
// load for --seconds, and lists the call sites that went megamorphic (state N) in each
// configuration but not in the first. A megamorphic site stops caching shapes and looks every
// property up in V8's stub cache: it costs every request that passes there, whoever made it so.
// The cost shows in an on-CPU profile as the inline caches' slow paths (`LoadIC_Megamorphic` and
// the like, `bench/perf-summary.js`), attributed to no one in particular; this names the sites.
// Logging every inline-cache transition slows the app, so no timing is taken here.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, childEnv, configNamed } = require('./lib/configs');
const { eachOption, nameList } = require('./lib/args');
const { spawnNode, waitForLine, stop, installCleanup } = require('./lib/processes');
const { MIX, RECEIVER, appArgs, appEnv, load } = require('./lib/run-config');

const USAGE = `usage: node bench/ic-sites.js --only a,b[,c...] [--seconds S] [--node PATH] [--all] [--keep DIR]
  --only     configurations, the first is the reference (see node bench/run.js --help)
  --seconds  seconds of load per configuration (default 30)
  --node     run the app under this node binary
  --all      list the keyed sites too (their key is only the first one seen, so they read noisier)
  --keep     keep the V8 logs in DIR`;

function parseArgs(argv) {
  const o = { only: [], seconds: 30, node: undefined, all: false, keep: undefined };
  eachOption(argv, (flag, value) => {
    if (flag === '--only') o.only = nameList(value());
    else if (flag === '--seconds') {
      o.seconds = Number(value());
      if (!(o.seconds >= 1 && o.seconds <= 600)) throw new Error('--seconds: expected 1 to 600');
    } else if (flag === '--node') o.node = value();
    else if (flag === '--all') o.all = true;
    else if (flag === '--keep') o.keep = value();
    else if (flag === '--help' || flag === '-h') o.help = true;
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  });
  if (o.help) return o;
  if (o.only.length < 2) throw new Error(`--only needs two configurations or more\n${USAGE}`);
  o.configs = o.only.map((name) => configNamed(name, { standalone: true }));
  return o;
}

async function logConfig(config, o, logFile) {
  const receiver = spawnNode([RECEIVER], { env: childEnv({}), cwd: ROOT, name: `otlp receiver (${config.name})` });
  try {
    const [, receiverUrl] = await waitForLine(receiver, 'out', /otlp receiver listening on (\S+)/, 10_000, 'listening line');
    const probeFile = path.join(path.dirname(logFile), `${config.name}.cpu.json`);
    const args = appArgs(config, ['--log-ic', `--logfile=${logFile}`, '--no-logfile-per-isolate']);
    const app = spawnNode(args, { env: appEnv(config, receiverUrl, probeFile), cwd: ROOT, name: `app (${config.name})`, node: o.node });
    try {
      const [, url] = await waitForLine(app, 'out', /members-api listening on (http:\/\/\S+)/, 60_000, 'listening line');
      const res = await load(url, { durationSec: o.seconds, paths: MIX, connections: 10 });
      process.stderr.write(`${config.name}: ${res.requests.total} requests\n`);
    } finally {
      await stop(app, 'SIGTERM', 20_000);
    }
  } finally {
    await stop(receiver, 'SIGTERM', 10_000);
  }
}

/** V8 escapes commas in names as \x2C, so a plain split is safe. */
function megamorphicSites(logFile, withKeyed) {
  const starts = [];
  const entries = new Map();
  const sites = new Map();
  const find = (pc) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= pc) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return '?';
    const entry = entries.get(starts[hi]);
    return pc < starts[hi] + entry.size ? entry.name : '?';
  };
  const insert = (start) => {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    starts.splice(lo, 0, start);
  };
  for (const line of fs.readFileSync(logFile, 'latin1').split('\n')) {
    const f = line.split(',');
    if (f[0] === 'code-creation') {
      const start = parseInt(f[4], 16);
      if (!Number.isFinite(start)) continue;
      if (!entries.has(start)) insert(start);
      entries.set(start, { size: Number(f[5]), name: (f[6] || '').trim() });
    } else if (f[0].endsWith('IC') && f.length > 8 && f[6] === 'N' && f[5] !== 'N') {
      if (!withKeyed && f[0].startsWith('Keyed')) continue;
      const [fn, where] = describe(find(parseInt(f[1], 16)));
      const key = `${f[0]} ${fn} ${where}:${f[3]}:${f[4]} .${f[8].slice(0, 40)}`;
      if (!sites.has(key)) sites.set(key, Number(f[2]) / 1e6);
    }
  }
  return sites;
}

/** `name path:line:col` of a code-creation entry, as a function name and a short file. */
function describe(name) {
  const space = name.lastIndexOf(' ');
  if (space < 0) return [name || '(anonymous)', ''];
  const file = name.slice(space + 1).replace(/:\d+:\d+$/, '');
  const short = file.includes('node_modules/') ? file.slice(file.lastIndexOf('node_modules/') + 13) : file.startsWith(ROOT) ? path.relative(ROOT, file) : file;
  return [name.slice(0, space) || '(anonymous)', short];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) {
    console.log(USAGE);
    return;
  }
  installCleanup();
  const dir = o.keep ? path.resolve(o.keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'ic-sites-'));
  fs.mkdirSync(dir, { recursive: true });
  const found = [];
  try {
    for (const config of o.configs) {
      const logFile = path.join(dir, `${config.name}.log`);
      await logConfig(config, o, logFile);
      found.push({ name: config.name, sites: megamorphicSites(logFile, o.all) });
    }
  } finally {
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  const [reference, ...others] = found;
  console.log(`# Megamorphic inline caches (${o.seconds} s of the mixed load${o.all ? ', keyed sites included' : ', named sites only'})\n`);
  for (const { name, sites } of found) console.log(`- \`${name}\`: ${sites.size} sites`);
  for (const { name, sites } of others) {
    const extra = [...sites].filter(([site]) => !reference.sites.has(site)).sort((a, b) => a[1] - b[1]);
    console.log(`\n## In \`${name}\`, not in \`${reference.name}\`: ${extra.length}\n`);
    console.log('| s | site |\n|---:|---|');
    for (const [site, t] of extra) console.log(`| ${t.toFixed(1)} | \`${site.replace(/\|/g, '\\|')}\` |`);
  }
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exitCode = 1;
});
