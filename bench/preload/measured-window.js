'use strict';
// For finding where CPU goes, not part of any configuration: a CPU profile and the GC pauses of
// the measured load only (between the CPU probe's second and third marks, i.e. after the
// warm-up), so that start-up and JIT warm-up do not mix into them. With bench/run.js:
//   node bench/run.js --only agent-prod --rounds 2 --app-args "--require ./bench/preload/measured-window.js"
// Each app writes <pid>.cpuprofile (sampled every 200 µs) and <pid>.gc.json (count and ms of each
// kind of GC, and the requests served in the window, to read both per request) to
// $MEASURED_WINDOW_DIR, default <tmpdir>/measured-window.
// With bench/interleave.js, which marks every slice's start and end, name the window's marks:
// MEASURED_WINDOW_MARKS=1,40 profiles from the first slice's start to the 20th's end (20 cycles).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const inspector = require('node:inspector');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const diagnostics = require('node:diagnostics_channel');
const { windowMarks } = require('../lib/window-marks');

const dir = process.env.MEASURED_WINDOW_DIR || path.join(os.tmpdir(), 'measured-window');
const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const gc = {};
let measuring = false;
new PerformanceObserver((list) => {
  if (!measuring) return;
  for (const entry of list.getEntries()) {
    const kind = KINDS[entry.detail ? entry.detail.kind : entry.kind] || 'other';
    const total = (gc[kind] ||= { count: 0, ms: 0 });
    total.count++;
    total.ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

let requests = 0;
diagnostics.subscribe('http.server.request.start', () => {
  if (measuring) requests++;
});

const [FROM, TO] = windowMarks('MEASURED_WINDOW_MARKS', process.env.MEASURED_WINDOW_MARKS);

let marks = 0;
let session;
process.on('SIGUSR2', () => {
  marks++;
  if (marks === FROM) {
    measuring = true;
    session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
  } else if (marks === TO && session) {
    measuring = false;
    session.post('Profiler.stop', (err, result) => {
      session.disconnect();
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFile(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile), () => undefined);
      fs.writeFile(path.join(dir, `${process.pid}.gc.json`), JSON.stringify({ ...gc, requests, config: process.env.BENCH_CONFIG }), () => undefined);
    });
  }
});
