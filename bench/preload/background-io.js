'use strict';
// An experiment, not a configuration of the run: the application's own background I/O. The
// members app only serves requests and queries PostgreSQL, so Node's stream and async_hooks code
// sees few kinds of objects, and V8 keeps those call sites fast (monomorphic or polymorphic). An
// exporter's HTTP client and gzip stream are new kinds there: with them, dozens of those sites
// turn megamorphic (`--log-ic`), for every request, agent code or not. A service that also ships
// logs or calls another service has paid that already. This preload makes the app such a service:
// every BENCH_BACKGROUND_IO_MS (default 1000) it gzips about 2 KB of JSON with zlib's stream and
// POSTs it to the receiver's /v1/logs (which drains and answers 200), untraced, one at a time.
// Preloaded through NODE_OPTIONS in a configuration of one's own (BENCH_EXTRA_CONFIGS).
const http = require('node:http');
const zlib = require('node:zlib');

const everyMs = Number(process.env.BENCH_BACKGROUND_IO_MS || 1000);
if (!(everyMs >= 10 && everyMs <= 60_000)) throw new Error(`BENCH_BACKGROUND_IO_MS=${process.env.BENCH_BACKGROUND_IO_MS}: expected milliseconds from 10 to 60000`);
const base = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
if (!base) throw new Error('background-io: OTEL_EXPORTER_OTLP_ENDPOINT (the receiver) is not set');
const target = new URL('/v1/logs', base);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** Outside any trace when OpenTelemetry is loaded (the agent's or plain), so no span is made. */
function untraced(fn) {
  try {
    const { context } = require('@opentelemetry/api');
    const { suppressTracing } = require('@opentelemetry/core');
    return context.with(suppressTracing(context.active()), fn);
  } catch {
    return fn();
  }
}

const lines = [];
for (let i = 0; i < 16; i++) lines.push({ level: 'info', msg: 'background job done', job: i, ms: 12.5 + i, at: '2026-12-01T00:00:00.000Z' });
const payload = JSON.stringify(lines);

let busy = false;
function ship() {
  if (busy) return;
  busy = true;
  zlib.gzip(payload, (err, body) => {
    if (err) {
      busy = false;
      return;
    }
    const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (busy = false));
    });
    req.on('error', () => (busy = false));
    req.end(body);
  });
}

setInterval(() => untraced(ship), everyMs).unref();
