'use strict';
// Times the admin API from its own process (the harness's event loop is busy driving the load):
//   node bench/lib/admin-probe.js <base url>
// One request every 100 ms, the endpoints in turn, until SIGTERM; then one JSON line of figures.
// The first round of the four endpoints is a warm-up (connection, first compile), not counted,
// as the load itself is measured after a warm-up.

const { quantile, max } = require('./stats');

const base = process.argv[2];
const paths = ['/perf/health', '/perf/report', '/perf/patterns', '/perf/config'];
const times = [];
let failures = 0;
let stopped = false;

process.on('SIGTERM', () => {
  stopped = true;
});

(async () => {
  for (let i = 0; !stopped; i++) {
    const t0 = performance.now();
    try {
      const res = await fetch(base + paths[i % paths.length]);
      await res.arrayBuffer();
      if (!res.ok) failures++;
      else if (i >= paths.length) times.push(performance.now() - t0);
    } catch {
      failures++;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stdout.write(JSON.stringify({ requests: times.length, failures, p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: max(times) }) + '\n');
})();
