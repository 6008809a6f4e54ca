#!/usr/bin/env node
'use strict';
// The privacy properties of test/sql/privacy.property.test.ts, run much longer than `npm test`
// does (400 runs per property, one fixed seed): by default 50,000 runs per property with a fresh
// seed, printed first so that a failure can be replayed.
//
//   node bench/privacy-fuzz.js [--runs N] [--seed S]
//
// Exit code: vitest's (0 when no secret leaked and every shape was stable).

const { spawnSync } = require('node:child_process');
const path = require('node:path');

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value <= 0) {
    process.stderr.write(`privacy-fuzz: ${name} needs a positive integer, got ${JSON.stringify(process.argv[at + 1])}\n`);
    process.exit(2);
  }
  return value;
}

const runs = option('--runs', 50_000);
const seed = option('--seed', 1 + Math.floor(Math.random() * 2 ** 31));
const repo = path.resolve(__dirname, '..');
process.stdout.write(`privacy-fuzz: ${runs} runs per property, seed ${seed}\n`);
const result = spawnSync(
  process.execPath,
  [path.join(repo, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/sql/privacy.property.test.ts', '--testTimeout', '0'],
  { cwd: repo, stdio: 'inherit', env: { ...process.env, PRIVACY_FUZZ_RUNS: String(runs), PRIVACY_FUZZ_SEED: String(seed) } },
);
process.exit(result.status ?? 1);
