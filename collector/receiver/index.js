'use strict';
// A minimal OTLP/HTTP receiver for tests, the demo and benchmarks: it accepts what a real
// OpenTelemetry exporter sends (protobuf or JSON, gzip or identity), keeps the decoded spans and
// the byte counts on the wire, and can pass every request on to a real collector.

const http = require('node:http');
const zlib = require('node:zlib');
const { decodeTraceRequest } = require('./decode');
const { formatTraceTree } = require('./tree');

const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * @typedef {import('./index').DecodedSpan} DecodedSpan
 * @typedef {import('./index').ReceivedRequest} ReceivedRequest
 * @typedef {import('./index').ReceiverOptions} ReceiverOptions
 * @typedef {import('./index').Receiver} Receiver
 */

/**
 * @param {ReceiverOptions} [options] keepSpans=false only counts (long benchmarks); onSpans sees every decoded batch
 * @returns {Promise<Receiver>}
 */
async function startOtlpReceiver({ port = 0, host = '127.0.0.1', forwardTo, keepSpans = true, onSpans } = {}) {
  /** @type {DecodedSpan[]} */
  const all = [];
  /** @type {ReceivedRequest[]} */
  const requests = [];
  /** @type {Set<{ check: () => void, fail: (err: Error) => void }>} */
  const waiters = new Set();
  const forward = forwardTo ? makeForwarder(forwardTo) : undefined;

  const server = http.createServer((req, res) => {
    const path = (req.url || '/').split('?')[0];
    const known = path === '/v1/traces' || path === '/v1/metrics' || path === '/v1/logs';
    if (!known) return drainThen(req, () => reply(res, 404, 'text/plain', 'not found'));
    if (req.method !== 'POST') return drainThen(req, () => reply(res, 405, 'text/plain', 'POST only'));

    readBody(req, (wire) => {
      if (!wire) return reply(res, 413, 'text/plain', 'body larger than 32 MB');
      const contentType = String(req.headers['content-type'] || 'application/x-protobuf');
      const json = contentType.toLowerCase().startsWith('application/json');
      const ok = () => reply(res, 200, json ? 'application/json' : 'application/x-protobuf', json ? '{}' : '');
      // Metrics and logs are acknowledged and dropped, so a stray SDK exporter stays quiet.
      if (path !== '/v1/traces') return ok();

      const contentEncoding = String(req.headers['content-encoding'] || 'identity').toLowerCase();
      let raw;
      try {
        raw = inflate(wire, contentEncoding);
      } catch (err) {
        const e = /** @type {Error & { code?: string }} */ (err);
        const status = e.code === 'ERR_BUFFER_TOO_LARGE' ? 413 : /unsupported/.test(e.message) ? 415 : 400;
        return reply(res, status, 'text/plain', e.message);
      }
      let spans;
      try {
        spans = decodeTraceRequest(raw, contentType);
      } catch (err) {
        const status = /unsupported content type/.test(String(err)) ? 415 : 400;
        return reply(res, status, 'text/plain', `cannot decode: ${/** @type {Error} */ (err).message}`);
      }
      ok();
      if (forward) forward(req.headers, wire);
      const record = { path, contentType, contentEncoding, wireBytes: wire.length, rawBytes: raw.length, spanCount: spans.length, headers: req.headers };
      requests.push(record);
      if (keepSpans) for (const s of spans) all.push(s);
      if (onSpans) {
        try {
          onSpans(spans, record);
        } catch (err) {
          process.stderr.write(`otlp receiver: onSpans failed: ${err}\n`);
        }
      }
      for (const w of [...waiters]) w.check();
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const actualPort = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    requests,
    spans: () => all.slice(),
    traces: () => groupByTrace(all),
    /**
     * @param {(spans: DecodedSpan[]) => boolean} predicate
     * @param {number} [timeoutMs]
     * @returns {Promise<DecodedSpan[]>}
     */
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        const waiter = {
          check() {
            try {
              if (predicate(all.slice())) {
                finish();
                resolve(all.slice());
              }
            } catch (err) {
              finish();
              reject(err);
            }
          },
          /** @param {Error} err */
          fail(err) {
            finish();
            reject(err);
          },
        };
        const timer = setTimeout(
          () => waiter.fail(new Error(`waitFor timed out after ${timeoutMs} ms; ${summarize(all, requests)}`)),
          timeoutMs,
        );
        waiters.add(waiter);
        waiter.check();
      });
    },
    clear() {
      all.length = 0;
      requests.length = 0;
    },
    /** @returns {Promise<void>} */
    close() {
      for (const w of [...waiters]) w.fail(new Error('otlp receiver closed'));
      return new Promise((resolve) => {
        server.close(() => resolve());
        // Exporters keep their sockets alive; without this close() would wait for their timeout.
        server.closeAllConnections();
      });
    },
  };
}

/** @param {http.IncomingMessage} req @param {(body: Buffer | undefined) => void} done undefined when over the limit */
function readBody(req, done) {
  /** @type {Buffer[]} */
  let chunks = [];
  let size = 0;
  req.on('data', (/** @type {Buffer} */ chunk) => {
    size += chunk.length;
    // Keep reading but stop buffering, so the client gets the 413 instead of a reset socket.
    if (size > MAX_BODY_BYTES) chunks = [];
    else chunks.push(chunk);
  });
  req.on('end', () => done(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks, size)));
  req.on('error', () => {});
}

/** @param {http.IncomingMessage} req @param {() => void} then */
function drainThen(req, then) {
  req.resume();
  req.on('end', then);
  req.on('error', () => {});
}

/** @param {Buffer} wire @param {string} encoding */
function inflate(wire, encoding) {
  if (encoding === 'identity' || encoding === '') return wire;
  // maxOutputLength also bounds a gzip bomb to the same 32 MB as the wire body.
  if (encoding === 'gzip' || encoding === 'x-gzip') return zlib.gunzipSync(wire, { maxOutputLength: MAX_BODY_BYTES });
  if (encoding === 'deflate') return zlib.inflateSync(wire, { maxOutputLength: MAX_BODY_BYTES });
  throw new Error(`unsupported content encoding: ${encoding}`);
}

/** @param {http.ServerResponse} res @param {number} status @param {string} type @param {string} body */
function reply(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** @param {DecodedSpan[]} spans */
function groupByTrace(spans) {
  /** @type {Map<string, DecodedSpan[]>} */
  const traces = new Map();
  for (const s of spans) {
    const list = traces.get(s.traceId);
    if (list) list.push(s);
    else traces.set(s.traceId, [s]);
  }
  return traces;
}

/** What did arrive, for timeout messages: counts and the most frequent span names. */
function summarize(/** @type {DecodedSpan[]} */ spans, /** @type {ReceivedRequest[]} */ requests) {
  /** @type {Map<string, number>} */
  const names = new Map();
  for (const s of spans) names.set(s.name, (names.get(s.name) || 0) + 1);
  const top = [...names].sort((a, b) => b[1] - a[1]).slice(0, 20);
  const list = top.map(([n, c]) => `${JSON.stringify(n)} x${c}`).join(', ');
  const more = names.size > top.length ? `, and ${names.size - top.length} more names` : '';
  return `received ${spans.length} spans in ${requests.length} requests${spans.length ? `: ${list}${more}` : ''}`;
}

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'expect', 'upgrade']);

/** @param {string} base */
function makeForwarder(base) {
  const target = `${base.replace(/\/+$/, '')}/v1/traces`;
  let warned = false;
  /** @param {unknown} why */
  const warnOnce = (why) => {
    if (warned) return;
    warned = true;
    process.stderr.write(`otlp receiver: forwarding to ${target} failed (further failures not logged): ${why}\n`);
  };
  /** @param {http.IncomingHttpHeaders} headers @param {Buffer} body */
  return (headers, body) => {
    /** @type {Record<string, string>} */
    const out = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = String(v);
    fetch(target, { method: 'POST', headers: out, body: /** @type {any} */ (body) }).then(
      async (res) => {
        await res.arrayBuffer();
        if (!res.ok) warnOnce(`HTTP ${res.status}`);
      },
      (err) => warnOnce(err && err.cause ? err.cause : err),
    ).catch(warnOnce);
  };
}

// decode and tree are re-exported so TypeScript tests need only the one index.d.ts.
module.exports = { startOtlpReceiver, decodeTraceRequest, formatTraceTree, MAX_BODY_BYTES };
