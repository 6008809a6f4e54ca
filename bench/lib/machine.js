'use strict';
// What the results were measured on, for the head of RESULTS.md.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ROOT } = require('./configs');

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The version of the node binary the app runs under (`--node`), else the harness's own. */
function nodeVersion(node) {
  if (!node) return process.version;
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return `unknown (${node})`;
  }
}

function describeMachine(node) {
  const cpus = os.cpus();
  let distBuilt = null;
  try {
    distBuilt = fs.statSync(path.join(ROOT, 'dist', 'register.js')).mtime.toISOString();
  } catch {
    // no dist
  }
  const status = git(['status', '--porcelain']);
  return {
    date: new Date().toISOString(),
    cpuModel: cpus.length ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: nodeVersion(node),
    loadAvg: os.loadavg().map((v) => Math.round(v * 100) / 100),
    gitCommit: git(['rev-parse', '--short', 'HEAD']),
    gitDirtyFiles: status === null ? null : status.split('\n').filter(Boolean).length,
    distBuilt,
  };
}

module.exports = { describeMachine };
