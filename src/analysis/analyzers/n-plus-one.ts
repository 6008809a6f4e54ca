import { mainTable, parameterLookup, statementVerb } from '../../sql/sql-shape';
import type { AnalysisSettings, Analyzer, AnalyzerContext, CallSite, Finding, SpanView, TraceView } from '../types';
import { TextMemo, clip, formatMs } from './common';
import { libraryAdvice } from './library-advice';

/**
 * `n_plus_one`: at least `nPlusOne.minRepeats` database spans with the same fingerprint under the
 * same parent span: one query per item of a list the code already had. Sequential or concurrent
 * (Promise.all) alike: both cost one round trip and one pool connection per item. Only queries
 * that overlapped in time are called concurrent, and only they get the Promise.all advice.
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

/**
 * The SDK stamps a span's start with Date.now(), whole milliseconds, and adds the exact duration:
 * a span can appear to start up to 1 ms before it did, and a query issued right after the
 * previous one ended can seem to overlap it by almost that much. Without the order the agent saw
 * spans start and end in, only an overlap longer than this proves concurrency.
 */
const START_RESOLUTION_MS = 1;

/**
 * Spans of a group asked for a call site before giving up. Each answer formats a stack (tens of
 * microseconds), and the repeats of one loop share their call site: if the first three have none
 * (every frame in node_modules), the rest will not have one either.
 */
const CALL_SITE_TRIES = 3;

const byStartOrder = (a: SpanView, b: SpanView): number => (a.startOrder as number) - (b.startOrder as number);
const byStartMs = (a: SpanView, b: SpanView): number => a.startMs - b.startMs;

/** Every span has its start and end order (a loop: see util/finished-span.ts on closures per call). */
function hasIssueOrder(group: readonly SpanView[]): boolean {
  for (const s of group) if (s.startOrder === undefined || s.endOrder === undefined) return false;
  return true;
}

/**
 * Sorted in the order the queries started; `concurrent` when one started before an earlier one
 * ended. From the exact start and end order when the agent followed every span, else from times.
 */
function inIssueOrder(group: SpanView[]): { spans: SpanView[]; concurrent: boolean } {
  const ordered = hasIssueOrder(group);
  const spans = group.slice().sort(ordered ? byStartOrder : byStartMs);
  let lastEnd = -Infinity;
  let concurrent = false;
  for (const s of spans) {
    const start = ordered ? (s.startOrder as number) : s.startMs + START_RESOLUTION_MS;
    if (start < lastEnd) {
      concurrent = true;
      break;
    }
    const end = ordered ? (s.endOrder as number) : s.endMs;
    if (end > lastEnd) lastEnd = end;
  }
  return { spans, concurrent };
}

function groupFinding(trace: TraceView, group: SpanView[], config: AnalysisSettings): Finding {
  // dbSpans are in end order; report them in the order they were issued.
  const { spans, concurrent } = inIssueOrder(group);
  let totalMs = 0;
  let maxMs = 0;
  const spanIds: string[] = new Array(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i];
    totalMs += s.durationMs;
    if (s.durationMs > maxMs) maxMs = s.durationMs;
    spanIds[i] = s.spanId;
  }
  // The queries of one statement in one request share their call site: their operation's, taken
  // once the statement became an N+1 candidate here (see QuerySite).
  let callSite: CallSite | undefined;
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
    recommendation: memoizedRecommendation(first, pattern, concurrent, callSite?.library),
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

function memoizedRecommendation(first: SpanView, pattern: string, concurrent: boolean, library: CallSite['library']): string {
  const key = `${concurrent ? 'c' : 's'}${library ?? ''}${first.dbSystem ?? ''}\u0000${first.fingerprint ?? pattern}`;
  const cached = recommendations.get(key);
  if (cached !== undefined) return cached;
  const sql = batchRecommendation(pattern, first.dbSystem, concurrent);
  return recommendations.set(key, library ? libraryAdvice(library, pattern, sql) : sql);
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
