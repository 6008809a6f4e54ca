'use strict';
// Loaded with `--require` in every benchmark configuration (`none` too), after the agent under
// test. It does nothing while the application serves requests: on each SIGUSR2 from the harness
// (before the warm-up, start and end of the measured load) it takes a snapshot of this process's CPU time and memory,
// and at exit it writes the snapshots, a final one and the kernel's peak RSS to the file named
// by BENCH_CPU_PROBE_FILE. Without that variable it does nothing at all.

const file = process.env.BENCH_CPU_PROBE_FILE;

if (file) {
  const fs = require('node:fs');
  // memoryUsage() walks the heap spaces: cheap enough for two marks, and it tells V8's heap
  // (used vs reserved) apart from the rest of RSS (code, native buffers, the allocator).
  const snapshot = () => {
    const m = process.memoryUsage();
    return { t: Date.now(), cpu: process.cpuUsage(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, analyzedTraces: analyzedTraces() };
  };
  // The agent under test, when there is one: how many traces it recorded and analyzed (sampled,
  // or recorded for keep-findings). A count, so it does not move with the machine's speed as CPU
  // time does.
  const { agentHandle } = require('./agent-handle');
  const analyzedTraces = () => {
    const status = agentHandle()?.status();
    return status ? status.traceBuffer.analyzedTraces : null;
  };
  const marks = [];

  process.on('SIGUSR2', () => {
    marks.push(snapshot());
    // The harness waits for this line, so the load starts only once the mark is taken.
    process.stderr.write(`bench-cpu-probe: mark ${marks.length}\n`);
  });

  process.on('exit', (code) => {
    const record = { pid: process.pid, exitCode: code, marks, exit: snapshot(), maxRssKiB: process.resourceUsage().maxRSS };
    try {
      fs.writeFileSync(file, JSON.stringify(record));
    } catch (err) {
      process.stderr.write(`bench-cpu-probe: could not write ${file}: ${err.message}\n`);
    }
  });
}
