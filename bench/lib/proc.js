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

/** User + system CPU time of pid in ms (10 ms resolution), or null. */
function readCpuMs(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces; the fields after its ')' are fixed.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime + stime) ? ((utime + stime) * 1000) / clockTicks() : null;
}

/**
 * User + system CPU of every process whose command name matches `comm` (PostgreSQL's server and
 * backends), in ms, or null when none is visible (a remote server, not Linux). The app's queries
 * are the same under every configuration, so the server's CPU per request is the machine's speed
 * at that moment: when it moves, the app's figure moved with it for reasons of the machine's.
 */
function readCpuMsOf(comm) {
  let names;
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return null;
  }
  let total = 0;
  let seen = false;
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    let text;
    try {
      text = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (!comm.test(text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')))) continue;
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (!Number.isFinite(ticks)) continue;
    total += ticks;
    seen = true;
  }
  return seen ? (total * 1000) / clockTicks() : null;
}

/** Samples VmRSS every 500 ms, each sample tagged with the phase set by the caller. */
function sampleRss(pid) {
  const sampler = { phase: 'start', samples: [], stop };
  const take = () => {
    let text;
    try {
      text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return; // gone, or not Linux
    }
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

module.exports = { sampleRss, readCpuMs, readCpuMsOf };
