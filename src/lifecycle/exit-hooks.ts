import { log } from '../util/log';

export interface Flushable {
  flush(): Promise<void>;
  hasPending(): boolean;
  drainSync(): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Flushes buffered spans when the process ends, without changing how it ends:
 * - a signal the application handles itself: we only start the flush; the app exits when it wants
 *   and the `exit` hook delivers what is still pending;
 * - a signal nobody else handles: flush (bounded), then re-raise it so the default action (and
 *   exit status) is exactly what it would have been without the agent;
 * - the event loop running dry (`beforeExit`): flush asynchronously;
 * - `process.exit()`: deliver synchronously in the `exit` event.
 * Returns a function that removes the hooks.
 */
export function installExitHooks(target: Flushable, timeoutMs: number): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    const appHandlesIt = process.listenerCount(signal) > 1;
    const flushing = withTimeout(target.flush(), timeoutMs);
    if (appHandlesIt) return;
    void flushing.finally(() => {
      remove();
      process.kill(process.pid, signal);
    });
  };
  const onBeforeExit = (): void => {
    if (target.hasPending()) void withTimeout(target.flush(), timeoutMs);
  };
  const onExit = (): void => {
    try {
      target.drainSync();
    } catch (err) {
      log.error(`could not deliver the last spans at exit: ${(err as Error).message}`);
    }
  };

  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('beforeExit', onBeforeExit);
  process.on('exit', onExit);

  function remove(): void {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    process.removeListener('beforeExit', onBeforeExit);
    process.removeListener('exit', onExit);
  }
  return remove;
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      log.warn(`flushing spans took longer than ${ms} ms; giving up on them`);
      resolve();
    }, ms);
    timer.unref();
    work.catch(() => undefined).finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
