import { describeSettings, publicConfig, readKey, type ConfigStore } from '../config';
import { log } from '../util/log';
import type { Insights } from '../stats/insights';
import { fail, ok, type AdminReply, type AdminRequest } from './admin-protocol';

export type { AdminReply, AdminRequest } from './admin-protocol';


export interface AdminDeps {
  store: ConfigStore;
  insights: Insights;
  status: () => unknown;
}

const ENDPOINTS = ['/perf/health', '/perf/report', '/perf/patterns', '/perf/config'];

/**
 * The admin API's answers, computed on the main thread where the agent's state lives. Every
 * answer reads bounded in-memory structures. Never throws: a failure is a 500 answer.
 */
export function answerAdmin(req: AdminRequest, deps: AdminDeps): AdminReply {
  try {
    return route(req, deps);
  } catch (err) {
    return fail(500, err instanceof Error ? err.message : String(err));
  }
}

function route(req: AdminRequest, deps: AdminDeps): AdminReply {
  const query = new URLSearchParams(req.search);
  const path = req.path.replace(/\/+$/, '');
  switch (`${req.method} ${path}`) {
    case 'GET /perf/health':
      return ok({ agent: 'running', ...(deps.status() as object) });
    case 'GET /perf/report': {
      const operation = query.get('operation') ?? undefined;
      const reports = deps.insights.reports(operation);
      if (operation && reports.length === 0) return fail(404, `no requests or measurements seen for operation ${JSON.stringify(operation)}`, { operations: deps.insights.aggregates.operations() });
      return ok({ reports });
    }
    case 'GET /perf/patterns': {
      const by = query.get('by') ?? 'totalMs';
      if (by !== 'count' && by !== 'totalMs' && by !== 'maxMs') return fail(400, `by=${by} is not allowed; expected count, totalMs or maxMs`);
      const limit = Math.min(Math.max(Number(query.get('limit') ?? 50) || 50, 1), 500);
      return ok({ size: deps.insights.patterns.size, evictions: deps.insights.patterns.evictions, patterns: deps.insights.topPatterns(limit, by) });
    }
    case 'GET /perf/config':
      return ok({ environment: deps.store.current.env, config: publicConfig(deps.store.current), settings: describeSettings(deps.store), writable: req.tokenConfigured });
    case 'PATCH /perf/config':
      return patchConfig(req, deps.store);
    default:
      if (ENDPOINTS.includes(path)) return fail(405, `${req.method} is not allowed on ${path}`);
      return fail(404, `no such endpoint ${path}; try ${ENDPOINTS.join(', ')}`);
  }
}

function patchConfig(req: AdminRequest, store: ConfigStore): AdminReply {
  if (!req.tokenConfigured) return fail(403, 'the admin API is read-only: set PERF_AGENT_ADMIN_TOKEN to allow changes');
  if (!req.authorized) return fail(401, 'missing or wrong bearer token (Authorization: Bearer <PERF_AGENT_ADMIN_TOKEN>)');
  let patch: unknown;
  try {
    patch = JSON.parse(req.body ?? '');
  } catch (err) {
    return fail(400, `the body must be a JSON object of settings, e.g. {"sampling.rate": 0.2}: ${(err as Error).message}`);
  }
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return fail(400, 'the body must be a JSON object of settings, e.g. {"sampling.rate": 0.2}');
  const result = store.update(patch as Record<string, unknown>);
  if (!result.ok) {
    return fail(400, 'configuration not changed', {
      issues: result.issues.map((i) => ({ key: i.key, env: i.env, value: i.value, allowed: i.allowed })),
    });
  }
  log.info(`settings changed through the admin API: ${result.changed.join(', ')}`);
  // The new values as the configuration now holds them (after "0.2" -> 0.2), secrets hidden.
  const config = publicConfig(result.config);
  const changed: Record<string, unknown> = {};
  for (const key of result.changed) changed[key] = readKey(config, key);
  return ok({ changed, config });
}
