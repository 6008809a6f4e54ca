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

module.exports = { sampleRss, readCpuMs };
