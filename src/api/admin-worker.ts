/*
 * The admin API's HTTP server, on a worker thread: it answers while the application keeps the
 * main event loop busy. The agent's state stays on the main thread, which computes each answer
 * (admin-routes.ts); when that takes longer than FRESH_WAIT_MS (the main loop is saturated) the
 * worker answers with the last answer to the same request, marked stale, and keeps the fresh one
 * for next time. No agent runs in this thread (register.ts starts only in the main thread).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { AdminReply, AdminRequest } from './admin-routes';
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

const options = workerData as WorkerOptions;
const pending = new Map<number, (reply: AdminReply) => void>();
const lastAnswers = new LruMap<string, { reply: AdminReply; at: number }>(MAX_CACHED);
let nextId = 1;

parentPort?.on('message', (message: { id: number; reply: AdminReply }) => {
  pending.get(message.id)?.(message.reply);
  pending.delete(message.id);
});

function ask(request: AdminRequest): Promise<AdminReply> {
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      resolve({ code: 503, body: { status: 'error', error: `the application's main thread did not answer within ${ANSWER_TIMEOUT_MS} ms` } });
    }, ANSWER_TIMEOUT_MS);
    pending.set(id, (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    parentPort?.postMessage({ id, request });
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
  if (method !== 'GET') {
    try {
      request.body = await readBody(req);
    } catch (err) {
      return send(res, { code: 413, body: { status: 'error', error: (err as Error).message } });
    }
    return send(res, await ask(request));
  }
  const key = `${url.pathname}${url.search}`;
  const fresh = askAndKeep(key, request);
  const cached = lastAnswers.peek(key);
  if (!cached) return send(res, await fresh);
  const quick = await Promise.race([fresh, new Promise<undefined>((r) => setTimeout(() => r(undefined), FRESH_WAIT_MS))]);
  if (quick) return send(res, quick);
  send(res, cached.reply, Date.now() - cached.at);
}

function askAndKeep(key: string, request: AdminRequest): Promise<AdminReply> {
  return ask(request).then((reply) => {
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error(`body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: AdminReply, staleMs?: number): void {
  const body = JSON.stringify(reply.body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' };
  if (staleMs !== undefined) headers['x-perf-stale-ms'] = staleMs;
  res.writeHead(reply.code, headers);
  res.end(body);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => send(res, { code: 500, body: { status: 'error', error: String(err) } }));
});
server.on('error', (err) => parentPort?.postMessage({ listenError: err.message }));
server.listen(options.port, options.host, () => {
  parentPort?.postMessage({ listening: true });
  prewarm();
});
