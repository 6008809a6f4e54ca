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

  const runOnce = (): RetentionResult =>
    safeExecute(
      'stats.retention',
      () => {
        const days = options.config();
        const t = now();
        const aggregatesCutoff = cutoff(t, days.aggregatesDays);
        const measurementsCutoff = cutoff(t, days.measurementsDays);
        const result: RetentionResult = { patterns: 0, aggregates: 0, measurements: 0 };
        if (aggregatesCutoff !== undefined) {
          if (options.patterns) result.patterns = options.patterns.prune(aggregatesCutoff);
          if (options.aggregates) result.aggregates = options.aggregates.prune(aggregatesCutoff);
        }
        if (measurementsCutoff !== undefined && options.measurements) {
          result.measurements = options.measurements.prune(measurementsCutoff);
        }
        return result;
      },
      { patterns: 0, aggregates: 0, measurements: 0 },
    );

  const timer = setInterval(runOnce, intervalMs);
  timer.unref();
  return {
    runOnce,
    stop: () => clearInterval(timer),
    timer,
  };
}

/** Epoch ms before which data is expired; undefined (keep everything) for a days value that is not positive. */
function cutoff(now: number, days: number): number | undefined {
  if (days > 0 && days < Infinity) return now - days * DAY_MS;
  log.warnOnce(`retention-days:${String(days)}`, `retention of ${String(days)} days is not a positive number; nothing is pruned for it`);
  return undefined;
}
