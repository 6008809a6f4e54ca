import type { SpanView } from './types';

/** The database spans of one statement within a trace. */
export interface StatementGroup {
  /** The first span's fingerprint; undefined when the statement processor did not run. */
  fingerprint: string | undefined;
  /** The first span's (normalized) statement, else its name. */
  pattern: string;
  count: number;
  totalMs: number;
}

/**
 * Groups database spans by statement: the fingerprint, else the statement text, else the span
 * name. Groups come in the order their first span appears.
 */
export function groupByStatement(spans: readonly SpanView[]): StatementGroup[] {
  const groups = new Map<string, StatementGroup>();
  for (const span of spans) {
    const pattern = span.statement ?? span.name;
    const key = span.fingerprint ?? pattern;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { fingerprint: span.fingerprint, pattern, count: 1, totalMs: span.durationMs });
    else {
      group.count++;
      group.totalMs += span.durationMs;
    }
  }
  return [...groups.values()];
}
