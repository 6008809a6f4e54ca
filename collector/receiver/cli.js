#!/usr/bin/env node
'use strict';
// Standalone receiver: `node collector/receiver/cli.js [--port 4318] [--host 127.0.0.1] [--quiet]`.
// Prints each trace as a tree once its root span arrived; on SIGTERM/SIGINT prints one JSON
// summary line (what benchmarks parse) and exits 0.

const { startOtlpReceiver } = require('./index');
const { formatTraceTree } = require('./tree');

/** How long to wait after a root arrives for its stragglers (other batches, other services). */
const SETTLE_MS = 150;
/** Printed traces are forgotten after this, so a long run does not keep every span. */
const FORGET_MS = 60_000;

/** @param {string[]} argv */
function parseArgs(argv) {
  const opts = { port: 4318, host: '127.0.0.1', quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--port') opts.port = Number(value());
    else if (flag === '--host') opts.host = String(value());
    else if (flag === '--quiet' || flag === '-q') opts.quiet = true;
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write('usage: node collector/receiver/cli.js [--port 4318] [--host 127.0.0.1] [--quiet]\n');
      process.exit(0);
    } else throw new Error(`unknown argument: ${argv[i]}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('--port must be 0-65535');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const color = Boolean(process.stdout.isTTY);
  const traceIds = new Set();
  /** @type {Map<string, { spans: import('./index').DecodedSpan[], printed: number, timer?: NodeJS.Timeout }>} */
  const open = new Map();

  /** @param {string} traceId */
  const print = (traceId) => {
    const t = open.get(traceId);
    if (!t) return;
    t.timer = undefined;
    const late = t.printed ? `(update: ${t.spans.length - t.printed} late spans)\n` : '';
    process.stdout.write(`${late}${formatTraceTree(t.spans, { color })}\n\n`);
    t.printed = t.spans.length;
    setTimeout(() => open.delete(traceId), FORGET_MS).unref();
  };

  /** @param {import('./index').DecodedSpan[]} spans */
  const onSpans = (spans) => {
    /** @type {Set<string>} */
    const touched = new Set();
    for (const s of spans) {
      traceIds.add(s.traceId);
      if (opts.quiet) continue;
      let t = open.get(s.traceId);
      if (!t) open.set(s.traceId, (t = { spans: [], printed: 0 }));
      t.spans.push(s);
      touched.add(s.traceId);
    }
    for (const id of touched) {
      const t = open.get(id);
      if (!t || t.timer || !t.spans.some((s) => !s.parentSpanId)) continue;
      t.timer = setTimeout(print, SETTLE_MS, id);
    }
  };

  // Spans are kept here, per trace, not in the receiver: the CLI may run for a whole benchmark.
  const receiver = await startOtlpReceiver({ port: opts.port, host: opts.host, keepSpans: false, onSpans });
  process.stdout.write(`otlp receiver listening on ${receiver.url}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const summary = { requests: receiver.requests.length, spans: 0, traces: traceIds.size, wireBytes: 0, rawBytes: 0 };
    for (const r of receiver.requests) {
      summary.spans += r.spanCount;
      summary.wireBytes += r.wireBytes;
      summary.rawBytes += r.rawBytes;
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`, () => {
      receiver.close().finally(() => process.exit(0));
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`otlp receiver: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
