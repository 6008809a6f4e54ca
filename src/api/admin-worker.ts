/*
 * The admin API's HTTP server, on a worker thread: it answers while the application keeps the
 * main event loop busy. The agent's state stays on the main thread, which computes each answer
 * (admin-routes.ts); when that takes longer than FRESH_WAIT_MS (the main loop is saturated) the
 * worker answers with the last answer to the same request, marked stale, and keeps the fresh one
 * for next time. No agent runs in this thread (register.ts starts only in the main thread).
 *
 * Everything a client can hold is bounded: connections, the time to send headers and the whole
 * request, and the body; the token is checked on the headers, so an unauthenticated client never
 * gets a body read or buffered.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { CLAIM_CANCELLED, CLAIM_PENDING, fail, type AdminReply, type AdminRequest } from './admin-protocol';
import { LruMap } from '../util/lru';

interface WorkerOptions {
  port: number;
  host: string;
  token: string | null;
}

const FRESH_WAIT_MS = 25;
const ANSWER_TIMEOUT_MS = 5000;
const MAX_BODY = 64 * 1024;
const MAX_CACHED = 200;
const MAX_CACHED_KEY = 512;
/** Admin clients are a few scripts and dashboards; past this, new connections are closed at once. */
const MAX_CONNECTIONS = 32;
/** Localhost clients send a request in milliseconds; these only bound slow or idle ones. */
const HEADERS_TIMEOUT_MS = 3000;
const REQUEST_TIMEOUT_MS = 5000;
/** After an answer sent before the body was read: how long what still arrives is discarded before the socket is closed. */
const LINGER_MS = 1000;

const options = workerData as WorkerOptions;
const pending = new Map<number, (reply: AdminReply) => void>();
const lastAnswers = new LruMap<string, { reply: AdminReply; at: number }>(MAX_CACHED);
let nextId = 1;

parentPort?.on('message', (message: { id: number; reply: AdminReply }) => {
  pending.get(message.id)?.(message.reply);
  pending.delete(message.id);
});

/**
 * Hands a request to the main thread. A change (`claim` given) is either taken by the main thread
 * or cancelled here at the deadline, never both: the two sides race on one shared word, so a
 * client told "not applied" can trust it.
 */
function ask(request: AdminRequest, claim?: Int32Array): Promise<AdminReply> {
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (claim && Atomics.compareExchange(claim, 0, CLAIM_PENDING, CLAIM_CANCELLED) !== CLAIM_PENDING) return; // taken: its answer is on the way
      pending.delete(id);
      const why = `the application's main thread did not answer within ${ANSWER_TIMEOUT_MS} ms`;
      resolve(fail(503, claim ? `${why}; the change was cancelled and not applied, send it again` : why, claim ? { applied: false } : {}));
    }, ANSWER_TIMEOUT_MS);
    pending.set(id, (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    parentPort?.postMessage({ id, request, claim });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const method = req.method ?? 'GET';
  const request: AdminRequest = {
    method,
    path: url.pathname,
    search: url.search,
    authorized: authorized(req.headers.authorization),
    tokenConfigured: options.token !== null,
  };
  if (method === 'GET' || method === 'HEAD') return answerRead(url, request, res);

  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  const early = (reply: AdminReply): void => (hasBody ? sendAndClose(res, reply) : send(res, reply));
  if (method !== 'PATCH' || url.pathname.replace(/\/+$/, '') !== '/perf/config') return early(await ask(request)); // 404 or 405, body unread
  // Decided on the headers alone: nothing of the body is read before the client proved who it is.
  if (!request.tokenConfigured) return early(fail(403, 'the admin API is read-only: set PERF_AGENT_ADMIN_TOKEN to allow changes'));
  if (!request.authorized) return early(fail(401, 'missing or wrong bearer token (Authorization: Bearer <PERF_AGENT_ADMIN_TOKEN>)'));
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) return early(tooLarge());
  const body = await readBody(req);
  if (body === undefined) return sendAndClose(res, tooLarge());
  request.body = body;
  const claim = new Int32Array(new SharedArrayBuffer(4));
  send(res, await ask(request, claim));
}

async function answerRead(url: URL, request: AdminRequest, res: ServerResponse): Promise<void> {
  const key = `${url.pathname}${url.search}`;
  if (key.length > MAX_CACHED_KEY) return send(res, await ask(request));
  const fresh = askAndKeep(key, request);
  const cached = lastAnswers.peek(key);
  if (!cached) return send(res, await fresh);
  const quick = await Promise.race([fresh, new Promise<undefined>((r) => setTimeout(() => r(undefined), FRESH_WAIT_MS))]);
  if (quick) return send(res, quick);
  send(res, cached.reply, Date.now() - cached.at);
}

const tooLarge = (): AdminReply => fail(413, `the body is over ${MAX_BODY} bytes; a settings patch is a small JSON object`);

function askAndKeep(key: string, request: AdminRequest): Promise<AdminReply> {
  return ask(request).then((reply) => {
    if (reply.code === 503) return reply; // not worth keeping in place of a real answer
    lastAnswers.set(key, { reply, at: Date.now() });
    return reply;
  });
}

/** Answers to the plain endpoints, fetched at start while the main thread is still idle. */
function prewarm(): void {
  for (const path of ['/perf/health', '/perf/report', '/perf/patterns', '/perf/config']) {
    void askAndKeep(path, { method: 'GET', path, search: '', authorized: false, tokenConfigured: options.token !== null });
  }
}

function authorized(header: string | undefined): boolean {
  if (options.token === null) return false;
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1].trim());
  const wanted = Buffer.from(options.token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** The body, or undefined once it passed MAX_BODY (the rest is then discarded, not kept). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      chunks.length = 0;
      req.resume(); // drain and discard, so the 413 can be read by a client still sending
      resolve(undefined);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: AdminReply, staleMs?: number): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(reply.body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' };
  if (staleMs !== undefined) headers['x-perf-stale-ms'] = staleMs;
  res.writeHead(reply.code, headers);
  res.end(body);
}

/**
 * Answers a request whose body was not (all) read, then closes the connection. Node would destroy
 * the socket as soon as the answer is written, and a client still sending its body would then get
 * a reset in place of the answer; so the socket is half-closed, and what still arrives is
 * discarded for LINGER_MS before it is destroyed.
 */
function sendAndClose(res: ServerResponse, reply: AdminReply): void {
  const socket = res.socket;
  res.setHeader('connection', 'close');
  if (socket) {
    socket.destroySoon = function lingerThenDestroy(this: typeof socket) {
      this.end();
      setTimeout(() => this.destroy(), LINGER_MS).unref();
    };
  }
  send(res, reply);
}

const server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 500 }, (req, res) => {
  handle(req, res).catch((err) => send(res, fail(500, String(err))));
});
// Requests Node refuses itself (too slow, malformed, headers too large) get the envelope too.
server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
  if (!socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const [code, reason, why] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', `the request was not complete within ${REQUEST_TIMEOUT_MS} ms (headers within ${HEADERS_TIMEOUT_MS} ms)`]
    : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
    : [400, 'Bad Request', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify(fail(code as number, why as string).body);
  socket.end(`HTTP/1.1 ${code} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
});
server.maxConnections = MAX_CONNECTIONS;
server.keepAliveTimeout = HEADERS_TIMEOUT_MS;
server.timeout = REQUEST_TIMEOUT_MS * 2; // idle sockets
server.on('error', (err) => parentPort?.postMessage({ listenError: err.message }));
server.listen(options.port, options.host, () => {
  parentPort?.postMessage({ listening: true });
  prewarm();
});
