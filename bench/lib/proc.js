'use strict';
// Reads another process's resident set size and CPU time from /proc, so the measured process
// does no work for it. Linux only; elsewhere the figures are simply missing.

const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

const INTERVAL_MS = 500;

let ticksPerSecond;
function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU in ms of one /proc `stat` file's text (10 ms resolution), or null. */
function cpuMsOfStat(text) {
  // The command name (field 2) may contain spaces; the fields after its ')' are fixed.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks() : null;
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null; // gone (exited meanwhile), or not Linux
  }
}

/** User + system CPU time of pid in ms (10 ms resolution), or null. */
function readCpuMs(pid) {
  const text = readText(`/proc/${pid}/stat`);
  return text === null ? null : cpuMsOfStat(text);
}

/** CPU ms of pid's main thread and of all its other threads together (V8's helpers, libuv's pool, workers). */
function readThreadCpuMs(pid) {
  let main = 0;
  let others = 0;
  for (const tid of readDir(`/proc/${pid}/task`)) {
    const text = readText(`/proc/${pid}/task/${tid}/stat`);
    const ms = text === null ? null : cpuMsOfStat(text);
    if (ms === null) continue;
    if (tid === String(pid)) main += ms;
    else others += ms;
  }
  return { main, others };
}

/**
 * User + system CPU of every process whose command name matches `comm` (PostgreSQL's server and
 * backends), in ms, or null when none is visible (a remote server, not Linux). The app's queries
 * are the same under every configuration, so the server's CPU per request is the machine's speed
 * at that moment: when it moves, the app's figure moved with it for reasons of the machine's.
 */
function readCpuMsOf(comm) {
  let total = 0;
  let seen = false;
  for (const name of readDir('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const text = readText(`/proc/${name}/stat`);
    if (text === null || !comm.test(text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')))) continue;
    const ms = cpuMsOfStat(text);
    if (ms === null) continue;
    total += ms;
    seen = true;
  }
  return seen ? total : null;
}

function readDir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Samples VmRSS every 500 ms, each sample tagged with the phase set by the caller. */
function sampleRss(pid) {
  const sampler = { phase: 'start', samples: [], stop };
  const take = () => {
    const text = readText(`/proc/${pid}/status`);
    if (text === null) return;
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
    if (m) sampler.samples.push({ t: Date.now(), kib: Number(m[1]), phase: sampler.phase });
  };
  take();
  const timer = setInterval(take, INTERVAL_MS);
  timer.unref();
  function stop() {
    clearInterval(timer);
  }
  return sampler;
}

module.exports = { sampleRss, readCpuMs, readCpuMsOf, readThreadCpuMs };
