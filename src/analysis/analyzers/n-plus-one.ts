import type { AgentConfig } from '../../config';
import { mainTable, parameterLookup, statementVerb } from '../../sql/sql-shape';
import type { Analyzer, AnalyzerContext, CallSite, Finding, SpanView, TraceView } from '../types';
import { TextMemo, clip, formatMs } from './common';

/**
 * `n_plus_one`: at least `nPlusOne.minRepeats` database spans with the same fingerprint under the
 * same parent span: one query per item of a list the code already had. Sequential or concurrent
 * (Promise.all) alike: both cost one round trip and one pool connection per item.
 *
 * One pass over the database spans groups them by parent, then fingerprint; only groups that reach
 * the threshold are sorted, measured, worded and asked for their (costly) call site.
 */
export const nPlusOneAnalyzer: Analyzer = {
  name: 'n_plus_one',
  analyze(trace: TraceView, { config }: AnalyzerContext): Finding[] | undefined {
    const minRepeats = config.nPlusOne.minRepeats;
    const spans = trace.dbSpans;
    if (spans.length < minRepeats) return undefined;

    // parent -> fingerprint -> spans. Two levels of existing strings (whose hashes V8 caches)
    // instead of one concatenated key per span.
    const byParent = new Map<string | undefined, Map<string, SpanView[]>>();
    let repeated = false;
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i];
      const fp = span.fingerprint;
      if (fp === undefined) continue;
      let groups = byParent.get(span.parentSpanId);
      if (groups === undefined) byParent.set(span.parentSpanId, (groups = new Map()));
      const group = groups.get(fp);
      if (group === undefined) {
        groups.set(fp, [span]);
      } else {
        group.push(span);
        repeated = true;
      }
    }
    if (!repeated) return undefined;

    let findings: Finding[] | undefined;
    for (const groups of byParent.values()) {
      for (const group of groups.values()) {
        if (group.length >= minRepeats) (findings ??= []).push(groupFinding(trace, group, config));
      }
    }
    return findings;
  },
};

/** Epoch-millisecond floats lose precision: a start this close to the previous end is "after". */
const CLOCK_SLACK_MS = 0.01;

/**
 * Spans of a group asked for a call site before giving up. Each answer formats a stack (tens of
 * microseconds), and the repeats of one loop share their call site: if the first three have none
 * (every frame in node_modules), the rest will not have one either.
 */
const CALL_SITE_TRIES = 3;

function groupFinding(trace: TraceView, group: SpanView[], config: AgentConfig): Finding {
  // dbSpans are in end order; report them in the order they were issued.
  const spans = group.slice().sort((a, b) => a.startMs - b.startMs);
  let totalMs = 0;
  let maxMs = 0;
  let lastEnd = -Infinity;
  let concurrent = false;
  const spanIds: string[] = new Array(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i];
    totalMs += s.durationMs;
    if (s.durationMs > maxMs) maxMs = s.durationMs;
    // Sequential queries can overlap by a hair: a driver may end a span after it resolved the
    // promise the next query waits on. Concurrent ones overlap by a good part of their duration.
    if (s.startMs < lastEnd - Math.max(CLOCK_SLACK_MS, Math.min(1, s.durationMs / 2))) concurrent = true;
    if (s.endMs > lastEnd) lastEnd = s.endMs;
    spanIds[i] = s.spanId;
  }
  // The agent captures a fresh stack at the minRepeats-th repeat (earlier repeats may carry the
  // statement's call site from an earlier request): ask that one first.
  let callSite: CallSite | undefined = spans[Math.min(config.nPlusOne.minRepeats, spans.length) - 1].callSite();
  const tries = Math.min(spans.length, CALL_SITE_TRIES);
  for (let i = 0; i < tries && callSite === undefined; i++) callSite = spans[i].callSite();

  const first = spans[0];
  const pattern = first.statement ?? first.name;
  const repeatCount = spans.length;
  const { queryCount, executionTimeMs } = config.thresholds;
  const critical = repeatCount >= queryCount.warning || totalMs >= executionTimeMs.good;
  const how = concurrent ? ', issued concurrently' : '';
  return {
    type: 'n_plus_one',
    severity: critical ? 'critical' : 'warning',
    message: `N+1 in ${trace.operation}: ${repeatCount}x ${clip(pattern)} (${formatMs(totalMs)}${how})`,
    recommendation: memoizedRecommendation(first, pattern, concurrent),
    fingerprint: first.fingerprint,
    pattern,
    repeatCount,
    totalMs,
    maxMs,
    callSite,
    spanIds,
  };
}

const recommendations = new TextMemo();

function memoizedRecommendation(first: SpanView, pattern: string, concurrent: boolean): string {
  const key = `${concurrent ? 'c' : 's'}${first.dbSystem ?? ''}\u0000${first.fingerprint ?? pattern}`;
  return recommendations.get(key) ?? recommendations.set(key, batchRecommendation(pattern, first.dbSystem, concurrent));
}

const CONCURRENT_NOTE =
  '. Running them concurrently (Promise.all) does not fix it: each query still costs a round trip and a pool connection';

/**
 * How to turn one statement per item into one statement for all items, naming the table and the
 * column when the statement says them (`= ANY($1)` for PostgreSQL, `IN (?)` for MySQL).
 */
export function batchRecommendation(pattern: string, dbSystem: string | undefined, concurrent = false): string {
  const note = concurrent ? CONCURRENT_NOTE : '';
  const verb = statementVerb(pattern);
  const postgres = isPostgres(dbSystem);
  if (verb === 'INSERT') {
    const table = mainTable(pattern);
    if (table !== undefined) {
      const bulk = postgres || (dbSystem === undefined && pattern.includes('$'))
        ? ` (or INSERT INTO ${table} SELECT * FROM unnest($1, $2, ...) with one array per column)`
        : '';
      return `Insert all rows in one statement: a multi-row INSERT INTO ${table} ... VALUES (...), (...)${bulk}, instead of one INSERT per item${note}`;
    }
  } else if (verb !== undefined) {
    const lookup = parameterLookup(pattern);
    if (lookup !== undefined) {
      const { table, column, param } = lookup;
      const where = param.startsWith('$') || postgres ? `${column} = ANY($1)` : `${column} IN (?)`;
      const values = `with the collected ${column} values`;
      if (verb === 'SELECT') {
        return `Load all rows in one query: SELECT ... FROM ${table} WHERE ${where} ${values}, or JOIN ${table} in the query that produced them${note}`;
      }
      if (verb === 'UPDATE') {
        return `Change all rows in one statement: UPDATE ${table} SET ... WHERE ${where} ${values}, instead of one UPDATE per item${note}`;
      }
      return `Delete all rows in one statement: DELETE FROM ${table} WHERE ${where} ${values}, instead of one DELETE per item${note}`;
    }
  }
  return (
    'Issue one query for all items instead of one per item: collect the keys first and load them together ' +
    '(WHERE key = ANY($1) on PostgreSQL, WHERE key IN (?) on MySQL), JOIN the table in the query that produced ' +
    `the items, or batch the loads of one request (a DataLoader-style loader)${note}`
  );
}

function isPostgres(dbSystem: string | undefined): boolean {
  return dbSystem === 'postgresql' || dbSystem === 'postgres';
}
