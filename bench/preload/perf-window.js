'use strict';
// For finding where CPU goes, not part of any configuration: Linux perf samples this process
// while it is on a CPU (the cpu-clock software event, which a VM without hardware counters still
// has), between two of the harness's CPU-probe marks. Unlike the V8 CPU profile
// (measured-window.js), which samples wall time, time spent preempted or waiting is not charged
// to whatever function ran last, and native code (V8's runtime, GC, libuv, the kernel's side of
// a syscall) is counted too. Needs node's --perf-basic-prof, so that perf can name JavaScript
// functions (from /tmp/perf-<pid>.map):
//   NODE_OPTIONS="--perf-basic-prof --require ./bench/preload/perf-window.js" PERF_WINDOW_MARKS=1,20
// With bench/interleave.js, which marks every slice's start and end, 1,20 is the first ten
// slices; with bench/run.js the measured load is 2,3 (the default). Each app writes
// <pid>.perf.data and <pid>.perf.json (requests served in the window, configuration name) to
// $PERF_WINDOW_DIR (default <tmpdir>/perf-window); bench/perf-summary.js reads them.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const diagnostics = require('node:diagnostics_channel');
const { windowMarks } = require('../lib/window-marks');

const dir = process.env.PERF_WINDOW_DIR || path.join(os.tmpdir(), 'perf-window');
const FREQUENCY = Number(process.env.PERF_WINDOW_FREQUENCY || 1999);
if (!(Number.isInteger(FREQUENCY) && FREQUENCY >= 1 && FREQUENCY <= 50_000)) {
  throw new Error(`PERF_WINDOW_FREQUENCY=${JSON.stringify(process.env.PERF_WINDOW_FREQUENCY)}: expected samples per second, a whole number from 1 to 50000`);
}

const [FROM, TO] = windowMarks('PERF_WINDOW_MARKS', process.env.PERF_WINDOW_MARKS);

let requests = 0;
let measuring = false;
diagnostics.subscribe('http.server.request.start', () => {
  if (measuring) requests++;
});

let marks = 0;
let perf;
process.on('SIGUSR2', () => {
  marks++;
  if (marks === FROM) {
    fs.mkdirSync(dir, { recursive: true });
    // Only this process's threads (-p covers them all: the main thread, V8's helpers, libuv's pool).
    perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', String(FREQUENCY), '-p', String(process.pid), '-o', path.join(dir, `${process.pid}.perf.data`)], {
      stdio: 'ignore',
    });
    perf.on('error', (err) => process.stderr.write(`perf-window: cannot run perf: ${err.message}\n`));
    measuring = true;
  } else if (marks === TO && perf) {
    measuring = false;
    perf.kill('SIGINT');
    fs.writeFile(
      path.join(dir, `${process.pid}.perf.json`),
      JSON.stringify({ requests, frequency: FREQUENCY, config: process.env.BENCH_CONFIG }),
      () => undefined,
    );
  }
});
