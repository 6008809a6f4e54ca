import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { describeSettings, type ConfigStore } from '../config';
import { log } from '../util/log';
import { describeError } from '../util/safe';
import type { Insights } from './insights';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = (require('../../package.json') as { version: string }).version;
const MAX_BODY = 64 * 1024;

export interface AdminDeps {
  store: ConfigStore;
  insights: Insights;
  status: () => unknown;
}

type Reply = { code: number; body: Record<string, unknown> };

/**
 * The admin HTTP API (PERF_AGENT_ADMIN_PORT): GET /perf/health, /perf/report[?operation=],
 * /perf/patterns, /perf/config, and PATCH /perf/config with the bearer token. Answers come from
 * bounded in-memory structures, so they cost little under load; its own requests are not traced.
 */
export function startAdminServer(port: number, host: string, token: string | null, deps: AdminDeps): Server {
  const server = createServer((req, res) => {
    context.with(suppressTracing(context.active()), () => {
      handle(req, deps, token)
        .then((reply) => send(res, reply))
        .catch((err) => send(res, { code: 500, body: { status: 'error', error: describeError(err) } }));
    });
  });
  server.on('error', (err) => log.error(`admin API could not listen on ${host}:${port}: ${err.message}; it stays off`));
  server.listen(port, host, () => log.info(`admin API on http://${host}:${port}/perf/health`));
  server.unref(); // never keeps the application alive
  return server;
}

async function handle(req: IncomingMessage, deps: AdminDeps, token: string | null): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /perf/health':
      return ok({ agent: 'running', ...(deps.status() as object) });
    case 'GET /perf/report': {
      const operation = url.searchParams.get('operation') ?? undefined;
      const reports = deps.insights.reports(operation);
      if (operation && reports.length === 0) return fail(404, `no requests or measurements seen for operation ${JSON.stringify(operation)}`, { operations: deps.insights.aggregates.operations() });
      return ok({ reports });
    }
    case 'GET /perf/patterns': {
      const by = url.searchParams.get('by') ?? 'totalMs';
      if (by !== 'count' && by !== 'totalMs' && by !== 'maxMs') return fail(400, `by=${by} is not allowed; expected count, totalMs or maxMs`);
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 50) || 50, 1), 500);
      return ok({ size: deps.insights.patterns.size, evictions: deps.insights.patterns.evictions, patterns: deps.insights.topPatterns(limit, by) });
    }
    case 'GET /perf/config':
      return ok({ environment: deps.store.current.env, settings: describeSettings(deps.store), writable: token !== null });
    case 'PATCH /perf/config':
      return patchConfig(req, deps.store, token);
    default:
      if (['/perf/health', '/perf/report', '/perf/patterns', '/perf/config'].includes(url.pathname)) return fail(405, `${req.method} is not allowed on ${url.pathname}`);
      return fail(404, `no such endpoint ${url.pathname}; try /perf/health, /perf/report, /perf/patterns, /perf/config`);
  }
}

async function patchConfig(req: IncomingMessage, store: ConfigStore, token: string | null): Promise<Reply> {
  if (token === null) return fail(403, 'the admin API is read-only: set PERF_AGENT_ADMIN_TOKEN to allow changes');
  if (!authorized(req.headers.authorization, token)) return fail(401, 'missing or wrong bearer token (Authorization: Bearer <PERF_AGENT_ADMIN_TOKEN>)');
  let patch: unknown;
  try {
    patch = JSON.parse(await readBody(req));
  } catch (err) {
    return fail(400, `the body must be a JSON object of settings, e.g. {"sampling.rate": 0.2}: ${describeError(err)}`);
  }
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return fail(400, 'the body must be a JSON object of settings, e.g. {"sampling.rate": 0.2}');
  const result = store.update(patch as Record<string, unknown>);
  if (!result.ok) {
    return fail(400, 'configuration not changed', {
      issues: result.issues.map((i) => ({ key: i.key, env: i.env, value: i.value, allowed: i.allowed })),
    });
  }
  log.info(`settings changed through the admin API: ${result.changed.join(', ')}`);
  return ok({ changed: result.changed, settings: describeSettings(store) });
}

function authorized(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1].trim());
  const wanted = Buffer.from(token);
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

function envelope(status: 'success' | 'error', body: Record<string, unknown>): Record<string, unknown> {
  return { status, ...body, metadata: { timestamp: new Date().toISOString(), version: VERSION } };
}

function ok(body: Record<string, unknown>): Reply {
  return { code: 200, body: envelope('success', body) };
}

function fail(code: number, error: string, extra: Record<string, unknown> = {}): Reply {
  return { code, body: envelope('error', { error, ...extra }) };
}

function send(res: ServerResponse, reply: Reply): void {
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
