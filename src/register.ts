/*
 * `node --require otel-perf-agent/register app.js`: starts the agent before the application loads
 * anything, so its drivers are patched when it requires them. Only the main thread: a worker
 * would start a second SDK in the same process (and workers inherit this --require, so the agent
 * is not even loaded there).
 */
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./agent') as typeof import('./agent')).startAgent();
}
