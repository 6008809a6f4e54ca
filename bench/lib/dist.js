'use strict';
// A copy of dist/ taken when the harness starts, so that every round measures the same build
// even when someone rebuilds dist/ meanwhile. It keeps the layout the agent expects around
// itself (dist/ next to package.json) and lives under bench/, so that `require` still finds the
// repository's node_modules.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT } = require('./configs');

/** @returns {{ distDir: string, hash: string, builtAt: string | null, remove(): void }} */
function snapshotDist() {
  const source = path.join(ROOT, 'dist');
  const base = path.join(ROOT, 'bench', `.dist-snapshot-${process.pid}`);
  const distDir = path.join(base, 'dist');
  const builtAt = fs.statSync(path.join(source, 'register.js')).mtime.toISOString();
  removeStale();
  fs.cpSync(source, distDir, { recursive: true, filter: (p) => !p.endsWith('.map') });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(base, 'package.json'));
  return {
    distDir,
    hash: hashTree(distDir),
    builtAt,
    remove: () => fs.rmSync(base, { recursive: true, force: true }),
  };
}

/** Snapshots left by a harness that was killed outright (SIGKILL gives it no chance to clean up). */
function removeStale() {
  const benchDir = path.join(ROOT, 'bench');
  for (const name of fs.readdirSync(benchDir)) {
    const m = /^\.dist-snapshot-(\d+)$/.exec(name);
    if (m && !isAlive(Number(m[1]))) fs.rmSync(path.join(benchDir, name), { recursive: true, force: true });
  }
}

function isAlive(pid) {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Short hash of every .js file (path and content), to tell builds apart in the results. */
function hashTree(dir) {
  const h = crypto.createHash('sha256');
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.js')) h.update(path.relative(dir, p)).update('\0').update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex').slice(0, 12);
}

module.exports = { snapshotDist };
