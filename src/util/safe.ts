import { log } from './log';

/** Failures per component, for the admin API and tests; names are few and fixed. */
export const failureCounts = new Map<string, number>();

/**
 * Runs agent code that must never hurt the host: an error is counted and logged once per
 * component, and the fallback is returned instead.
 */
export function safeExecute<T>(component: string, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    recordFailure(component, err);
    return fallback;
  }
}

export function recordFailure(component: string, err: unknown): void {
  const count = (failureCounts.get(component) ?? 0) + 1;
  failureCounts.set(component, count);
  log.warnOnce(`failure:${component}`, `${component} failed and was skipped (further failures are counted, not logged): ${describeError(err)}`);
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return 'unprintable error';
  }
}
