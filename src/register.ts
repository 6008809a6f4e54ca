/*
 * `node --require otel-perf-agent/register app.js`: starts the agent before the application loads
 * anything, so its drivers are patched when it requires them. Only the main thread: a worker
 * would start a second SDK in the same process.
 */
import { isMainThread } from 'node:worker_threads';
import { startAgent } from './agent';

if (isMainThread) startAgent();
