/*
 * Builds TraceView objects by hand, for tests of analyzers, the health score, plugins and anything
 * else that consumes a local trace. Times are milliseconds after the root started; children run
 * one after another unless a test gives `start`.
 *
 *     const t = traceBuilder({ operation: 'GET /members/:id/payments' });
 *     t.db('SELECT id FROM invoices WHERE member_id = $1', { duration: 2 });
 *     t.repeat(20, 'SELECT id FROM payments WHERE invoice_id = $1', { duration: 1.5 });
 *     const trace = t.build();
 */
import { SpanKind, type Attributes } from '@opentelemetry/api';
import type { CallSite, SpanView, TraceView } from '../../src/analysis/types';
import { fingerprint, normalizeSql } from '../../src/sql';

/** Epoch milliseconds at which every built root starts. */
export const T0 = 1_700_000_000_000;

export interface SpanSpec {
  name?: string;
  kind?: SpanKind;
  /** Parent span id; default the root. */
  parent?: string;
  /** Start in ms after the root's start; default where the previous span added ended. */
  start?: number;
  /** Default 1 ms. */
  duration?: number;
  attributes?: Attributes;
  error?: boolean;
  /** What `callSite()` returns; default undefined. */
  callSite?: CallSite;
  /** Default a generated 16-hex id. */
  id?: string;
  /** SpanView startOrder and endOrder (the order the agent saw spans start and end); default none. */
  order?: [number, number];
}

export interface DbSpanSpec extends SpanSpec {
  /** db.system.name; default postgresql. */
  system?: string;
  /** Keep the statement as given instead of normalizing it (literals to `?`). */
  raw?: boolean;
  /** Override the computed fingerprint. */
  fingerprint?: string;
}

export interface RepeatSpec extends DbSpanSpec {
  /** All start at `start` (default: where the previous span ended) and overlap, like Promise.all. */
  concurrent?: boolean;
  /** Idle ms between sequential repeats; default 0. */
  gap?: number;
}

export interface RootSpec {
  name?: string;
  /** TraceView.operation; default the root's name. */
  operation?: string;
  kind?: SpanKind;
  /** Default: until the last child ended (at least 1 ms). */
  duration?: number;
  attributes?: Attributes;
  error?: boolean;
  traceId?: string;
  id?: string;
}

interface Draft extends SpanSpec {
  id: string;
  start: number;
  duration: number;
  isDb: boolean;
  statement?: string;
  fingerprint?: string;
  system?: string;
}

let nextId = 1;

/** A fresh 16-hex span id. */
export function spanId(): string {
  return (nextId++).toString(16).padStart(16, '0');
}

export function callSite(filepath: string, lineno: number, fn?: string): CallSite {
  return fn === undefined ? { filepath, lineno } : { filepath, lineno, function: fn };
}

export class TraceBuilder {
  readonly rootId: string;
  /** How many times `callSite()` was called on any span of the built traces. */
  callSiteCalls = 0;
  private readonly drafts: Draft[] = [];
  private cursor = 0;

  constructor(private readonly rootSpec: RootSpec = {}) {
    this.rootId = rootSpec.id ?? spanId();
  }

  /** Adds any span; returns its id. */
  span(spec: SpanSpec = {}): string {
    return this.add({ ...spec, isDb: false });
  }

  /** Adds a database client span; the statement is normalized and fingerprinted like the agent does. */
  db(statement: string, spec: DbSpanSpec = {}): string {
    const normalized = spec.raw === true ? statement : normalizeSql(statement);
    const system = spec.system ?? 'postgresql';
    const fp = spec.fingerprint ?? fingerprint(normalized);
    return this.add({
      name: spec.name ?? `${normalized.split(/\s/, 1)[0].toUpperCase()} ${system}`,
      kind: SpanKind.CLIENT,
      ...spec,
      attributes: {
        'db.system.name': system,
        'db.query.text': normalized,
        'perf.query.fingerprint': fp,
        ...spec.attributes,
      },
      isDb: true,
      statement: normalized,
      fingerprint: fp,
      system,
    });
  }

  /** Adds `count` database spans with this statement, one after another or concurrently. */
  repeat(count: number, statement: string, spec: RepeatSpec = {}): string[] {
    const ids: string[] = [];
    const start = spec.start ?? this.cursor;
    const duration = spec.duration ?? 1;
    for (let i = 0; i < count; i++) {
      const at = spec.concurrent === true ? start : start + i * (duration + (spec.gap ?? 0));
      ids.push(this.db(statement, { ...spec, id: undefined, start: at, duration }));
    }
    return ids;
  }

  /** Adds an outgoing HTTP client span (`http.request.method`, `url.full`). */
  http(method: string, url: string, spec: SpanSpec = {}): string {
    return this.span({
      name: method,
      kind: SpanKind.CLIENT,
      ...spec,
      attributes: { 'http.request.method': method, 'url.full': url, ...spec.attributes },
    });
  }

  build(): TraceView {
    const rootDuration = this.rootSpec.duration ?? Math.max(1, this.cursor);
    const root = this.view({
      id: this.rootId,
      name: this.rootSpec.name ?? 'GET',
      kind: this.rootSpec.kind ?? SpanKind.SERVER,
      start: 0,
      duration: rootDuration,
      attributes: this.rootSpec.attributes,
      error: this.rootSpec.error,
      isDb: false,
    }, undefined);
    const children = this.drafts.map((d) => this.view(d, d.parent ?? this.rootId));
    // In end order, as the trace buffer records them; the root ends last.
    const spans = [...children.sort((a, b) => a.endMs - b.endMs), root];
    const byParent = new Map<string, SpanView[]>();
    for (const s of spans) {
      if (s.parentSpanId === undefined) continue;
      const list = byParent.get(s.parentSpanId);
      if (list === undefined) byParent.set(s.parentSpanId, [s]);
      else list.push(s);
    }
    return {
      traceId: this.rootSpec.traceId ?? '0af7651916cd43dd8448eb211c80319c',
      root,
      spans,
      dbSpans: spans.filter((s) => s.isDb),
      operation: this.rootSpec.operation ?? root.name,
      childrenOf: (id: string) => byParent.get(id) ?? [],
    };
  }

  private add(spec: SpanSpec & Partial<Draft> & { isDb: boolean }): string {
    const start = spec.start ?? this.cursor;
    const duration = spec.duration ?? 1;
    const id = spec.id ?? spanId();
    this.drafts.push({ ...spec, id, start, duration });
    this.cursor = Math.max(this.cursor, start + duration);
    return id;
  }

  private view(d: Draft, parent: string | undefined): SpanView {
    const builder = this;
    const startMs = T0 + d.start;
    return {
      spanId: d.id,
      parentSpanId: parent,
      name: d.name ?? 'span',
      kind: d.kind ?? SpanKind.INTERNAL,
      startMs,
      endMs: startMs + d.duration,
      durationMs: d.duration,
      isDb: d.isDb,
      statement: d.statement,
      fingerprint: d.fingerprint,
      dbSystem: d.system,
      error: d.error === true,
      attributes: d.attributes ?? {},
      ...(d.order ? { startOrder: d.order[0], endOrder: d.order[1] } : {}),
      callSite() {
        builder.callSiteCalls++;
        return d.callSite;
      },
    };
  }
}

export function traceBuilder(root: RootSpec = {}): TraceBuilder {
  return new TraceBuilder(root);
}
