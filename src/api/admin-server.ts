import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { log } from '../util/log';
import { answerAdmin, type AdminDeps } from './admin-routes';
import { CLAIM_PENDING, CLAIM_TAKEN, type AdminRequest } from './admin-protocol';

export type { AdminDeps } from './admin-routes';

export interface AdminServer {
  close(): Promise<void>;
}

/**
 * The admin HTTP API (PERF_AGENT_ADMIN_PORT): GET /perf/health, /perf/report[?operation=],
 * /perf/patterns, /perf/config, and PATCH /perf/config with the bearer token. Its HTTP server
 * runs on a worker thread (admin-worker.ts), so it answers quickly while the application keeps
 * the main thread busy; its own requests are not traced (no agent in that thread).
 */
export function startAdminServer(port: number, host: string, token: string | null, deps: AdminDeps): AdminServer {
  // No inherited --require: the worker needs none of the application's preloads.
  const worker = new Worker(join(__dirname, 'admin-worker.js'), { workerData: { port, host, token }, execArgv: [] });
  worker.on('message', (message: { id?: number; request?: AdminRequest; claim?: Int32Array; listening?: boolean; listenError?: string }) => {
    if (message.listenError) {
      log.error(`admin API could not listen on ${host}:${port}: ${message.listenError}; it stays off`);
      void worker.terminate();
    } else if (message.listening) {
      log.info(`admin API on http://${host}:${port}/perf/health`);
    } else if (message.id !== undefined && message.request) {
      // A change the worker already cancelled (its client was told so) must not happen now.
      if (message.claim && Atomics.compareExchange(message.claim, 0, CLAIM_PENDING, CLAIM_TAKEN) !== CLAIM_PENDING) return;
      worker.postMessage({ id: message.id, reply: answerAdmin(message.request, deps) });
    }
  });
  worker.on('error', (err) => log.error(`admin API stopped: ${err.message}`));
  worker.unref(); // never keeps the application alive
  return {
    close: async () => {
      await worker.terminate();
    },
  };
}
