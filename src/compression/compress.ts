import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_COMPOSITE_COUNT,
  ATTR_COMPOSITE_MAX_MS,
  ATTR_COMPOSITE_MIN_MS,
  ATTR_COMPOSITE_STRATEGY,
  ATTR_COMPOSITE_SUM_MS,
  ATTR_QUERY_FINGERPRINT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  dbNamespaceOf,
  dbSystemOf,
  isDbSpan,
  statementOf,
} from '../semconv';
import { FinishedSpan } from '../util/finished-span';

/*
 * Span compression: runs of repeated sibling database spans of one finished local trace are
 * collapsed into one composite span before export (the idea of Elastic APM's exact_match and
 * same_kind strategies, applied to a complete trace instead of a live buffer).
 *
 * Rules:
 * - A span is a candidate when it is a database client span (kind CLIENT with `db.system.name` or
 *   `db.system`), its status is not ERROR and no span of the list has it as parent. For each
 *   strategy it must also last no longer than that strategy's max; a max of 0 turns it off.
 * - Siblings share trace id and parent span id; they are ordered by start time (ties: input
 *   order). Two spans are consecutive when no other sibling, of any kind, starts between them, so
 *   overlapping spans of a Promise.all are consecutive and anything else in between splits a run.
 * - exact_match: consecutive candidates with the same statement (the same `perf.query.fingerprint`;
 *   without one, the same `db.query.text` / `db.statement`) to the same database. Spans with no
 *   statement at all are never exact matches.
 * - same_kind: then, among the spans exact_match left single, consecutive candidates to the same
 *   database (`db.system.name`/`db.system`, `db.namespace`/`db.name`, `server.address`,
 *   `server.port`), whatever their statements. An exact_match composite separates runs.
 * - A run of two or more becomes one composite; see `buildComposite`.
 *
 * Cost: one pass to index parents and group siblings, one sort per group of two or more
 * siblings, one pass per group for each strategy, one pass to assemble the output.
 */

export interface CompressionOptions {
  /** Longest span (ms) that exact_match may collapse; 0 turns the strategy off. */
  exactMatchMaxMs: number;
  /** Longest span (ms) that same_kind may collapse; 0 (the usual default) turns it off. */
  sameKindMaxMs: number;
}

export interface CompressionResult {
  /** The spans to export: the input order, each composite at the place of its first span. */
  spans: ReadableSpan[];
  /** Composite spans created. */
  compositeCount: number;
  /** Input spans no longer in the output (collapsed spans minus the composites replacing them). */
  removedCount: number;
}

export type CompositeStrategy = 'exact_match' | 'same_kind';

/** Per input span: 0 = not a candidate, else a bit per strategy it may be collapsed by. */
const EXACT = 1;
const SAME_KIND = 2;

export function compressSpans(spans: readonly ReadableSpan[], options: CompressionOptions): CompressionResult {
  const n = spans.length;
  const exactMaxMs = positive(options.exactMatchMaxMs);
  const sameKindMaxMs = positive(options.sameKindMaxMs);
  if (n < 2 || (exactMaxMs === 0 && sameKindMaxMs === 0)) return unchanged(spans);

  // One pass: which spans are parents, and the siblings under each parent.
  const parents = new Set<string>();
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const span = spans[i];
    const parentId = span.parentSpanContext?.spanId ?? '';
    if (parentId !== '') parents.add(parentId);
    const key = span.spanContext().traceId + parentId;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [i]);
    else group.push(i);
  }

  const eligible = new Uint8Array(n);
  let candidates = 0;
  for (let i = 0; i < n; i++) {
    const span = spans[i];
    if (!isDbClientSpan(span) || span.status.code === SpanStatusCode.ERROR) continue;
    if (parents.has(span.spanContext().spanId)) continue;
    const ms = hrToMs(span.duration);
    eligible[i] = (ms <= exactMaxMs ? EXACT : 0) | (ms <= sameKindMaxMs ? SAME_KIND : 0);
    if (eligible[i] !== 0) candidates++;
  }
  if (candidates < 2) return unchanged(spans);

  // replaced[i]: undefined = pass through, null = collapsed into a composite, a span = the composite.
  const runs: Runs = { spans, replaced: new Array(n), compositeCount: 0, collapsed: 0 };
  for (const siblings of groups.values()) {
    if (siblings.length < 2 || !hasPair(siblings, eligible)) continue;
    sortByStart(siblings, spans);
    const taken = exactMaxMs > 0 ? collectRuns(runs, siblings, eligible, EXACT, null) : undefined;
    if (sameKindMaxMs > 0) collectRuns(runs, siblings, eligible, SAME_KIND, taken);
  }
  if (runs.compositeCount === 0) return unchanged(spans);

  const out: ReadableSpan[] = [];
  for (let i = 0; i < n; i++) {
    const r = runs.replaced[i];
    if (r === undefined) out.push(spans[i]);
    else if (r !== null) out.push(r);
  }
  return { spans: out, compositeCount: runs.compositeCount, removedCount: runs.collapsed - runs.compositeCount };
}

/*
 * No closure is made per call here (comparators, run callbacks): V8 holds a closure's optimized
 * code only while some instance of it is alive, so one that lives for one call loses its code at
 * every full GC and runs unoptimized until it is hot again (bench/README.md, "Recompiled for good").
 */

/** The compression of one span list in progress. */
interface Runs {
  readonly spans: readonly ReadableSpan[];
  readonly replaced: (ReadableSpan | null | undefined)[];
  compositeCount: number;
  collapsed: number;
}

/**
 * Sorts sibling positions by start time, ties in input order. Siblings usually arrive in start
 * order (queries one after another), so an insertion sort is one pass; a list far out of order
 * goes to the engine's sort.
 */
function sortByStart(siblings: number[], spans: readonly ReadableSpan[]): void {
  let moves = 0;
  for (let k = 1; k < siblings.length; k++) {
    const i = siblings[k];
    let j = k - 1;
    while (j >= 0 && startsAfter(spans, siblings[j], i)) {
      siblings[j + 1] = siblings[j];
      j--;
      moves++;
    }
    siblings[j + 1] = i;
    if (moves > 4 * siblings.length) {
      siblings.sort((a, b) => compareHr(spans[a].startTime, spans[b].startTime) || a - b);
      return;
    }
  }
}

/** Span `a` sorts after span `b`: it starts later, or at the same time and comes later in the input. */
function startsAfter(spans: readonly ReadableSpan[], a: number, b: number): boolean {
  const c = compareHr(spans[a].startTime, spans[b].startTime);
  return c > 0 || (c === 0 && a > b);
}

/** Emits one run of two or more spans as a composite. */
function emitRun(runs: Runs, run: readonly number[], strategy: CompositeStrategy): void {
  const members: ReadableSpan[] = new Array(run.length);
  for (let k = 0; k < run.length; k++) members[k] = runs.spans[run[k]];
  runs.replaced[run[0]] = buildComposite(members, strategy);
  for (let k = 1; k < run.length; k++) runs.replaced[run[k]] = null;
  runs.compositeCount++;
  runs.collapsed += run.length;
}

/**
 * Walks siblings (sorted by start) and emits every run of two or more consecutive spans that the
 * strategy may collapse together. `skip` marks positions an earlier strategy already collapsed:
 * they end a run. Returns the positions it collapsed.
 */
function collectRuns(runs: Runs, siblings: readonly number[], eligible: Uint8Array, strategyBit: number, skip: Uint8Array | null | undefined): Uint8Array {
  const spans = runs.spans;
  const strategy: CompositeStrategy = strategyBit === EXACT ? 'exact_match' : 'same_kind';
  const taken = new Uint8Array(siblings.length);
  let run: number[] = [];
  let runStart = 0;
  for (let p = 0; p <= siblings.length; p++) {
    const i = p < siblings.length ? siblings[p] : -1;
    const ok = i >= 0 && (eligible[i] & strategyBit) !== 0 && (skip == null || skip[p] === 0)
      && (strategyBit !== EXACT || statementKey(spans[i]) !== undefined);
    // A run ends at a span that may not join it, one that does not match its first, or the end.
    if (run.length > 0 && (!ok || !(strategyBit === EXACT ? sameStatementAndDatabase(spans[run[0]], spans[i]) : sameDatabase(spans[run[0]], spans[i])))) {
      if (run.length >= 2) {
        emitRun(runs, run, strategy);
        taken.fill(1, runStart, runStart + run.length);
      }
      run = [];
    }
    if (!ok) continue;
    if (run.length === 0) runStart = p;
    run.push(i);
  }
  return taken;
}

/**
 * The composite: the first span (earliest start) with its name, ids, parent, kind, resource,
 * scope, links, events and attributes, plus the perf.composite.* attributes; it runs from the
 * earliest start to the latest end. Events of the other spans are dropped.
 */
function buildComposite(run: readonly ReadableSpan[], strategy: CompositeStrategy): ReadableSpan {
  const first = run[0];
  let end = first.endTime;
  let sumNs = 0;
  let minNs = Infinity;
  let maxNs = 0;
  for (const span of run) {
    if (compareHr(span.endTime, end) > 0) end = span.endTime;
    const ns = span.duration[0] * 1e9 + span.duration[1];
    sumNs += ns;
    if (ns < minNs) minNs = ns;
    if (ns > maxNs) maxNs = ns;
  }
  // Whole-millisecond values are numbers like any other; the OTLP transformer sends those as
  // intValue, so readers should accept both int and double.
  const attributes: Attributes = {
    ...first.attributes,
    [ATTR_COMPOSITE_COUNT]: run.length,
    [ATTR_COMPOSITE_SUM_MS]: nsToMs(sumNs),
    [ATTR_COMPOSITE_MIN_MS]: nsToMs(minNs),
    [ATTR_COMPOSITE_MAX_MS]: nsToMs(maxNs),
    [ATTR_COMPOSITE_STRATEGY]: strategy,
  };
  return new FinishedSpan({
    name: first.name,
    kind: first.kind,
    context: first.spanContext(),
    parentSpanContext: first.parentSpanContext,
    startTime: first.startTime,
    endTime: end,
    duration: hrDiff(first.startTime, end),
    // every member is unset or ok (errors are never candidates); keep the first one's
    status: first.status,
    attributes,
    links: first.links,
    events: first.events,
    resource: first.resource,
    instrumentationScope: first.instrumentationScope,
    droppedAttributesCount: first.droppedAttributesCount,
    droppedEventsCount: first.droppedEventsCount,
    droppedLinksCount: first.droppedLinksCount,
  });
}

function isDbClientSpan(span: ReadableSpan): boolean {
  return span.kind === SpanKind.CLIENT && isDbSpan(span.attributes);
}

function sameDatabase(a: ReadableSpan, b: ReadableSpan): boolean {
  const x = a.attributes;
  const y = b.attributes;
  return dbSystemOf(x) === dbSystemOf(y)
    && dbNamespaceOf(x) === dbNamespaceOf(y)
    && x[ATTR_SERVER_ADDRESS] === y[ATTR_SERVER_ADDRESS]
    && x[ATTR_SERVER_PORT] === y[ATTR_SERVER_PORT];
}

function sameStatementAndDatabase(a: ReadableSpan, b: ReadableSpan): boolean {
  const fa = a.attributes[ATTR_QUERY_FINGERPRINT];
  const fb = b.attributes[ATTR_QUERY_FINGERPRINT];
  const same = fa !== undefined || fb !== undefined ? fa === fb : statementKey(a) === statementKey(b);
  return same && sameDatabase(a, b);
}

/** What identifies the statement: the fingerprint, else the statement text. */
function statementKey(span: ReadableSpan): AttributeValue | undefined {
  return span.attributes[ATTR_QUERY_FINGERPRINT] ?? statementOf(span.attributes);
}

/** True when at least two of the siblings are candidates: otherwise no sort is needed. */
function hasPair(siblings: readonly number[], eligible: Uint8Array): boolean {
  let seen = 0;
  for (const i of siblings) if (eligible[i] !== 0 && ++seen === 2) return true;
  return false;
}

function unchanged(spans: readonly ReadableSpan[]): CompressionResult {
  return { spans: spans.slice(), compositeCount: 0, removedCount: 0 };
}

/** A max that is not a positive number (0, negative, NaN) turns its strategy off. */
function positive(ms: number): number {
  return ms > 0 ? ms : 0;
}

function compareHr(a: HrTime, b: HrTime): number {
  return a[0] - b[0] || a[1] - b[1];
}

function hrDiff(start: HrTime, end: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1e9;
  }
  return [seconds, nanos];
}

function hrToMs(t: HrTime): number {
  return t[0] * 1e3 + t[1] / 1e6;
}

/** Milliseconds with at most 3 decimals (whole microseconds). */
function nsToMs(ns: number): number {
  return Math.round(ns / 1e3) / 1e3;
}
