'use strict';
// Samples a process's resident set size from /proc/<pid>/status (VmRSS) from the outside, so
// the measured process does no work for it. Linux only; elsewhere it records nothing.

const fs = require('node:fs');

const INTERVAL_MS = 500;

/** @returns {{ phase: string, samples: { t: number, kib: number, phase: string }[], stop(): void }} */
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

module.exports = { sampleRss, INTERVAL_MS };
