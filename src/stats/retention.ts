import { log } from '../util/log';
import { safeExecute } from '../util/safe';

/** Anything that can drop what is older than an epoch-ms time; returns how much it dropped. */
export interface Prunable {
  prune(olderThan: number): number;
}

export interface RetentionDays {
  aggregatesDays: number;
  measurementsDays: number;
}

export interface RetentionOptions {
  /** Dropped when not seen for aggregatesDays. */
  patterns?: Prunable;
  /** Windows older than aggregatesDays are dropped. */
  aggregates?: Prunable;
  /** Measurement reports, older than measurementsDays. */
  measurements?: Prunable;
  /** Read on every run, so a change through the admin API applies at the next one. */
  config: () => RetentionDays;
  /** Default one hour. */
  intervalMs?: number;
  /** Epoch ms; default Date.now. */
  now?: () => number;
}

export interface RetentionResult {
  patterns: number;
  aggregates: number;
  measurements: number;
}

export interface RetentionHandle {
  /** Prunes now; what each store dropped. */
  runOnce(): RetentionResult;
  /** Clears the timer; idempotent. */
  stop(): void;
  /** The interval timer (unref'd, so it never keeps the process alive). */
  readonly timer: NodeJS.Timeout;
}

const DAY_MS = 86_400_000;

/** Prunes the statistics every `intervalMs` on an unref'd timer. Errors are counted and logged, never thrown. */
export function startRetention(options: RetentionOptions): RetentionHandle {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs !== undefined && options.intervalMs > 0 ? options.intervalMs : 3_600_000;

  const runOnce = (): RetentionResult => {
    const result: RetentionResult = { patterns: 0, aggregates: 0, measurements: 0 };
    const read = safeExecute('stats.retention', () => ({ days: options.config(), t: now() }), undefined);
    if (read === undefined) return result;
    const { days, t } = read;
    const aggregatesCutoff = cutoff(t, days.aggregatesDays);
    const measurementsCutoff = cutoff(t, days.measurementsDays);
    // Each store on its own, so one that throws does not keep the others from pruning.
    if (aggregatesCutoff !== undefined) {
      result.patterns = prune(options.patterns, aggregatesCutoff);
      result.aggregates = prune(options.aggregates, aggregatesCutoff);
    }
    if (measurementsCutoff !== undefined) result.measurements = prune(options.measurements, measurementsCutoff);
    return result;
  };

  const timer = setInterval(runOnce, intervalMs);
  timer.unref();
  return {
    runOnce,
    stop: () => clearInterval(timer),
    timer,
  };
}

function prune(store: Prunable | undefined, olderThan: number): number {
  if (store === undefined) return 0;
  return safeExecute('stats.retention', () => store.prune(olderThan), 0);
}

/** Epoch ms before which data is expired; undefined (keep everything) for a days value that is not positive. */
function cutoff(now: number, days: number): number | undefined {
  if (days > 0 && days < Infinity) return now - days * DAY_MS;
  log.warnOnce(`retention-days:${String(days)}`, `retention of ${String(days)} days is not a positive number; nothing is pruned for it`);
  return undefined;
}
