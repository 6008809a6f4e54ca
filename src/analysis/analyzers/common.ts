import type { Bands } from '../../config';
import type { TraceView } from '../types';

/**
 * Where a measure falls against its four thresholds (each an inclusive upper bound):
 * 0 = excellent, 1 = good, 2 = warning, 3 = critical, 4 = above critical.
 */
export type BandIndex = 0 | 1 | 2 | 3 | 4;

export const BAND_NAMES = ['excellent', 'good', 'warning', 'critical', 'above critical'] as const;

export function bandIndex(value: number, bands: Bands): BandIndex {
  if (!(value > bands.excellent)) return 0; // NaN counts as excellent: no evidence of a problem
  if (value <= bands.good) return 1;
  if (value <= bands.warning) return 2;
  if (value <= bands.critical) return 3;
  return 4;
}

/** `31.2 ms` */
export function formatMs(ms: number): string {
  return `${(Math.round(ms * 10) / 10).toFixed(1)} ms`;
}

/** Long statements are cut for messages; the full pattern is in the finding's `pattern`. */
export function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Sum of the durations of the trace's database spans (concurrent ones overlap, so it can exceed the root's). */
export function dbTimeMs(trace: TraceView): number {
  let sum = 0;
  const spans = trace.dbSpans;
  for (let i = 0; i < spans.length; i++) sum += spans[i].durationMs;
  return sum;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `above good (20), in the warning band (up to 50)`; `above critical (100)`. */
export function bandText(band: BandIndex, bands: Bands, unit = ''): string {
  const bounds = [bands.excellent, bands.good, bands.warning, bands.critical];
  if (band === 0) return `within excellent (up to ${bounds[0]}${unit})`;
  const above = `above ${BAND_NAMES[band - 1]} (${bounds[band - 1]}${unit})`;
  return band === 4 ? above : `${above}, in the ${BAND_NAMES[band]} band (up to ${bounds[band]}${unit})`;
}

/**
 * A bounded memo for texts that depend on a statement only (recommendations): reading a
 * statement's shape costs microseconds, and the same few statements come back on every request.
 * Full means cleared: simpler than LRU, and the working set refills in a few requests.
 */
export class TextMemo {
  private readonly entries = new Map<string, string>();

  constructor(private readonly maxEntries = 500) {}

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  set(key: string, text: string): string {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, text);
    return text;
  }
}
