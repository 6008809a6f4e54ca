'use strict';
// The benchmark's OTLP receiver, run as its own process: the in-repo receiver library, plus a
// split of what arrives into request traces (whose root is an HTTP SERVER span) and everything
// else (the app's schema setup at start runs queries outside any request, each its own trace).
// Per-trace figures are request traces only; without the split, a sampled configuration that
// exports 10 request traces and 8 startup traces would show half its real bytes per trace.
//
//   node bench/lib/receiver-process.js
// prints `otlp receiver listening on <url>`; on SIGTERM one JSON line (the fields of the CLI's
// summary, plus request*/other* fields), then exits 0.

const path = require('node:path');
const { startOtlpReceiver } = require(path.join(__dirname, '..', '..', 'collector', 'receiver'));

const SERVER_KIND = 2;

async function main() {
  /** traceId -> true once its root arrived and is a SERVER span, false for another root */
  const rootIsRequest = new Map();
  /** per received batch: bytes and, per trace, how many of its spans it carried */
  const batches = [];

  const receiver = await startOtlpReceiver({
    port: 0,
    keepSpans: false,
    onSpans(spans, request) {
      const perTrace = new Map();
      for (const s of spans) {
        perTrace.set(s.traceId, (perTrace.get(s.traceId) || 0) + 1);
        if (!s.parentSpanId) rootIsRequest.set(s.traceId, s.kind === SERVER_KIND);
      }
      batches.push({ wire: request.wireBytes, raw: request.rawBytes, spans: spans.length, perTrace });
    },
  });
  process.stdout.write(`otlp receiver listening on ${receiver.url}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${JSON.stringify(summarize(batches, rootIsRequest))}\n`, () => {
      receiver.close().finally(() => process.exit(0));
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * Bytes of a batch are shared out between its traces by span count: exact for a batch of one
 * kind, close enough for the few mixed ones (startup spans are a handful among thousands).
 * A trace whose root never arrived counts as "other".
 */
function summarize(batches, rootIsRequest) {
  const s = { requests: batches.length, spans: 0, traces: 0, wireBytes: 0, rawBytes: 0,
    requestTraces: 0, requestSpans: 0, requestWireBytes: 0, requestRawBytes: 0,
    otherTraces: 0, otherSpans: 0 };
  const seen = new Set();
  for (const b of batches) {
    s.spans += b.spans;
    s.wireBytes += b.wire;
    s.rawBytes += b.raw;
    let requestSpans = 0;
    for (const [traceId, count] of b.perTrace) {
      seen.add(traceId);
      if (rootIsRequest.get(traceId) === true) requestSpans += count;
    }
    s.requestSpans += requestSpans;
    if (b.spans > 0) {
      s.requestWireBytes += (b.wire * requestSpans) / b.spans;
      s.requestRawBytes += (b.raw * requestSpans) / b.spans;
    }
  }
  s.traces = seen.size;
  for (const traceId of seen) {
    if (rootIsRequest.get(traceId) === true) s.requestTraces++;
    else s.otherTraces++;
  }
  s.otherSpans = s.spans - s.requestSpans;
  s.requestWireBytes = Math.round(s.requestWireBytes);
  s.requestRawBytes = Math.round(s.requestRawBytes);
  return s;
}

main().catch((err) => {
  process.stderr.write(`bench receiver: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
