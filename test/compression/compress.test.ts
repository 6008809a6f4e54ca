import { beforeEach, describe, expect, it } from 'vitest';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Attributes, HrTime, Span } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { compressSpans } from '../../src/compression';
import { decodeTraceRequest } from '../../collector/receiver';
import fc from 'fast-check';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'compression-test' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('compression-test', '1.0.0');

const EXACT_ONLY = { exactMatchMaxMs: 50, sameKindMaxMs: 0 };
const BOTH = { exactMatchMaxMs: 50, sameKindMaxMs: 50 };

const BASE_SECONDS = 1_700_000_000;
/** HrTime `ms` milliseconds after a fixed base (microsecond precision). */
function at(ms: number): HrTime {
  const ns = Math.round(ms * 1e6);
  return [BASE_SECONDS + Math.floor(ns / 1e9), ns % 1e9];
}
function msSinceBase(t: HrTime): number {
  return Math.round(((t[0] - BASE_SECONDS) * 1e3 + t[1] / 1e6) * 1e3) / 1e3;
}

const MEMBERS_DB: Attributes = {
  'db.system.name': 'postgresql',
  'db.namespace': 'members',
  'server.address': 'db.local',
  'server.port': 5432,
};
const PAYMENTS_DB: Attributes = { ...MEMBERS_DB, 'db.namespace': 'payments' };

const SELECT_MEMBER = { fp: 'aaaaaaaaaaaaaaaa', text: 'SELECT * FROM members WHERE id = $1' };
const SELECT_ORDERS = { fp: 'bbbbbbbbbbbbbbbb', text: 'SELECT * FROM orders WHERE member_id = $1' };
const LIST_MEMBERS = { fp: 'cccccccccccccccc', text: 'SELECT * FROM members LIMIT $1' };

function startRoot(name = 'GET /members', startMs = 0): Span {
  return tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: at(startMs) });
}

interface QueryOptions {
  start: number;
  duration: number;
  statement?: { fp?: string; text: string };
  db?: Attributes;
  error?: boolean;
  kind?: SpanKind;
  attributes?: Attributes;
  event?: string;
  /** leave the span open (to give it a child first); ended by the caller */
  open?: boolean;
}

function query(parent: Span, o: QueryOptions): Span {
  const statement = o.statement ?? SELECT_MEMBER;
  const attributes: Attributes = { ...(o.db ?? MEMBERS_DB), 'db.query.text': statement.text, ...o.attributes };
  if (statement.fp !== undefined) attributes['perf.query.fingerprint'] = statement.fp;
  const span = tracer.startSpan(
    'pg.query:SELECT members',
    { kind: o.kind ?? SpanKind.CLIENT, attributes, startTime: at(o.start) },
    trace.setSpan(context.active(), parent),
  );
  if (o.event) span.addEvent(o.event, at(o.start));
  if (o.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  if (!o.open) span.end(at(o.start + o.duration));
  return span;
}

/** The spans the exporter got, which is what compression sees at the end of a local trace. */
function finished(): ReadableSpan[] {
  return exporter.getFinishedSpans();
}

function idOf(span: Span | ReadableSpan): string {
  return span.spanContext().spanId;
}

function composites(spans: readonly ReadableSpan[]): ReadableSpan[] {
  return spans.filter((s) => s.attributes['perf.composite.count'] !== undefined);
}

beforeEach(() => exporter.reset());

describe('compressSpans: exact_match', () => {
  it('collapses 20 sequential same-fingerprint queries into one composite', () => {
    const root = startRoot();
    const queries: Span[] = [];
    for (let i = 0; i < 20; i++) {
      // durations 1, 1.25, ... 5.75 ms; one query every 6 ms
      queries.push(query(root, { start: 10 + i * 6, duration: 1 + i * 0.25, event: i < 2 ? `event-${i}` : undefined }));
    }
    root.end(at(200));
    const input = finished();
    const result = compressSpans(input, EXACT_ONLY);

    expect(result.compositeCount).toBe(1);
    expect(result.removedCount).toBe(19);
    expect(result.spans).toHaveLength(2);
    const [composite] = composites(result.spans);
    const first = input.find((s) => idOf(s) === idOf(queries[0]))!;
    expect(idOf(composite)).toBe(idOf(queries[0]));
    expect(composite.spanContext()).toEqual(first.spanContext());
    expect(composite.parentSpanContext?.spanId).toBe(idOf(root));
    expect(composite.name).toBe(first.name);
    expect(composite.kind).toBe(SpanKind.CLIENT);
    expect(composite.resource).toBe(first.resource);
    expect(composite.instrumentationScope).toEqual(first.instrumentationScope);
    expect(composite.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(composite.ended).toBe(true);
    expect(composite.attributes).toMatchObject({
      ...MEMBERS_DB,
      'db.query.text': SELECT_MEMBER.text,
      'perf.query.fingerprint': SELECT_MEMBER.fp,
      'perf.composite.count': 20,
      'perf.composite.sum_ms': 67.5,
      'perf.composite.min_ms': 1,
      'perf.composite.max_ms': 5.75,
      'perf.composite.strategy': 'exact_match',
    });
    expect(msSinceBase(composite.startTime)).toBe(10);
    expect(msSinceBase(composite.endTime)).toBe(10 + 19 * 6 + 5.75);
    expect(composite.duration).toEqual([0, (19 * 6 + 5.75) * 1e6]);
    // only the first span's events survive
    expect(composite.events.map((e) => e.name)).toEqual(['event-0']);
    // the input is not modified
    expect(input).toHaveLength(21);
    expect(first.attributes['perf.composite.count']).toBeUndefined();
  });

  it('collapses 20 overlapping (Promise.all) queries into one composite', () => {
    const root = startRoot();
    for (let i = 0; i < 20; i++) query(root, { start: 10 + i * 0.1, duration: 5 + (i % 3) });
    root.end(at(100));
    const result = compressSpans(finished(), EXACT_ONLY);

    expect(result.spans).toHaveLength(2);
    const [composite] = composites(result.spans);
    expect(composite.attributes['perf.composite.count']).toBe(20);
    expect(composite.attributes['perf.composite.min_ms']).toBe(5);
    expect(composite.attributes['perf.composite.max_ms']).toBe(7);
    expect(msSinceBase(composite.startTime)).toBe(10);
    // latest end: i = 17 ends at 11.7 + 7 = 18.7; i = 19 at 11.9 + 5 = 16.9
    expect(msSinceBase(composite.endTime)).toBe(18.7);
  });

  it('collapses spans that start at the same instant', () => {
    const root = startRoot();
    for (let i = 0; i < 5; i++) query(root, { start: 10, duration: 2 });
    root.end(at(100));
    const result = compressSpans(finished(), EXACT_ONLY);
    expect(result.spans).toHaveLength(2);
    expect(result.compositeCount).toBe(1);
  });

  it('splits a run at a different query', () => {
    const root = startRoot();
    let t = 10;
    for (let i = 0; i < 10; i++, t += 3) query(root, { start: t, duration: 1 });
    const other = query(root, { start: t, duration: 1, statement: SELECT_ORDERS });
    t += 3;
    for (let i = 0; i < 9; i++, t += 3) query(root, { start: t, duration: 1 });
    root.end(at(200));
    const result = compressSpans(finished(), EXACT_ONLY);

    expect(result.compositeCount).toBe(2);
    expect(result.removedCount).toBe(17);
    expect(result.spans.map((s) => s.attributes['perf.composite.count'] ?? idOf(s))).toEqual([
      10,
      idOf(other),
      9,
      idOf(root),
    ]);
  });

  it('does not collapse alternating queries (runs of one)', () => {
    const root = startRoot();
    for (let i = 0; i < 6; i++) {
      query(root, { start: 10 + i * 3, duration: 1, statement: i % 2 === 0 ? SELECT_MEMBER : SELECT_ORDERS });
    }
    root.end(at(100));
    const input = finished();
    const result = compressSpans(input, EXACT_ONLY);
    expect(result.compositeCount).toBe(0);
    expect(result.spans).toEqual(input);
  });

  it('keeps an error span separately and splits the run there', () => {
    const root = startRoot();
    let t = 10;
    for (let i = 0; i < 5; i++, t += 3) query(root, { start: t, duration: 1 });
    const failed = query(root, { start: t, duration: 1, error: true });
    t += 3;
    for (let i = 0; i < 5; i++, t += 3) query(root, { start: t, duration: 1 });
    root.end(at(200));
    const input = finished();
    const result = compressSpans(input, EXACT_ONLY);

    expect(result.compositeCount).toBe(2);
    expect(result.spans).toHaveLength(4);
    const kept = result.spans.find((s) => idOf(s) === idOf(failed))!;
    expect(kept).toBe(input.find((s) => idOf(s) === idOf(failed)));
    expect(kept.status.code).toBe(SpanStatusCode.ERROR);
    expect(composites(result.spans).map((s) => s.attributes['perf.composite.count'])).toEqual([5, 5]);
  });

  it('does not compress spans longer than exactMatchMaxMs', () => {
    const root = startRoot();
    let t = 10;
    for (let i = 0; i < 4; i++, t += 100) query(root, { start: t, duration: 2 });
    const slow = query(root, { start: t, duration: 60 });
    t += 100;
    for (let i = 0; i < 3; i++, t += 100) query(root, { start: t, duration: 2 });
    root.end(at(1000));
    const result = compressSpans(finished(), EXACT_ONLY);

    expect(result.spans.map((s) => s.attributes['perf.composite.count'] ?? idOf(s))).toEqual([
      4,
      idOf(slow),
      3,
      idOf(root),
    ]);

    exporter.reset();
    const root2 = startRoot();
    for (let i = 0; i < 5; i++) query(root2, { start: 10 + i * 100, duration: 60 });
    root2.end(at(1000));
    expect(compressSpans(finished(), EXACT_ONLY).compositeCount).toBe(0);
  });

  it('is off when exactMatchMaxMs is 0', () => {
    const root = startRoot();
    for (let i = 0; i < 20; i++) query(root, { start: 10 + i * 3, duration: 1 });
    root.end(at(100));
    const input = finished();
    const result = compressSpans(input, { exactMatchMaxMs: 0, sameKindMaxMs: 0 });
    expect(result).toEqual({ spans: input, compositeCount: 0, removedCount: 0 });
    expect(result.spans).not.toBe(input);
  });

  it('does not merge the same fingerprint across parents', () => {
    const root = startRoot();
    const a = tracer.startSpan('load members', { startTime: at(1) }, trace.setSpan(context.active(), root));
    const b = tracer.startSpan('load payments', { startTime: at(1) }, trace.setSpan(context.active(), root));
    // interleaved in time: a, b, a, b, ...
    for (let i = 0; i < 6; i++) query(i % 2 === 0 ? a : b, { start: 10 + i * 3, duration: 1 });
    a.end(at(50));
    b.end(at(50));
    root.end(at(100));
    const result = compressSpans(finished(), EXACT_ONLY);

    expect(result.compositeCount).toBe(2);
    const parents = composites(result.spans).map((s) => s.parentSpanContext?.spanId).sort();
    expect(parents).toEqual([idOf(a), idOf(b)].sort());
    expect(composites(result.spans).map((s) => s.attributes['perf.composite.count'])).toEqual([3, 3]);

    exporter.reset();
    const root2 = startRoot();
    const c = tracer.startSpan('c', { startTime: at(1) }, trace.setSpan(context.active(), root2));
    query(root2, { start: 10, duration: 1 });
    query(c, { start: 13, duration: 1 });
    c.end(at(50));
    root2.end(at(100));
    expect(compressSpans(finished(), EXACT_ONLY).compositeCount).toBe(0);
  });

  it('does not merge the same fingerprint sent to different databases', () => {
    const root = startRoot();
    for (let i = 0; i < 4; i++) query(root, { start: 10 + i * 3, duration: 1, db: i < 2 ? MEMBERS_DB : PAYMENTS_DB });
    root.end(at(100));
    const result = compressSpans(finished(), EXACT_ONLY);
    expect(composites(result.spans).map((s) => s.attributes['db.namespace'])).toEqual(['members', 'payments']);
  });

  it('does not merge parentless spans of different traces', () => {
    for (let i = 0; i < 2; i++) {
      tracer
        .startSpan('pg.query:SELECT members', {
          kind: SpanKind.CLIENT,
          root: true,
          startTime: at(10 + i),
          attributes: { ...MEMBERS_DB, 'perf.query.fingerprint': SELECT_MEMBER.fp },
        })
        .end(at(10.5 + i));
    }
    const input = finished();
    expect(input[0].spanContext().traceId).not.toBe(input[1].spanContext().traceId);
    expect(compressSpans(input, EXACT_ONLY).compositeCount).toBe(0);
  });

  it('does not compress a db span that has a child', () => {
    const root = startRoot();
    let t = 10;
    for (let i = 0; i < 3; i++, t += 3) query(root, { start: t, duration: 1 });
    const withChild = query(root, { start: t, duration: 2, open: true });
    const child = tracer.startSpan('dns.lookup', { startTime: at(t) }, trace.setSpan(context.active(), withChild));
    child.end(at(t + 1));
    withChild.end(at(t + 2));
    t += 3;
    for (let i = 0; i < 3; i++, t += 3) query(root, { start: t, duration: 1 });
    root.end(at(200));
    const input = finished();
    const result = compressSpans(input, EXACT_ONLY);

    expect(result.compositeCount).toBe(2);
    expect(result.spans).toHaveLength(input.length - 4);
    expect(result.spans.map(idOf)).toContain(idOf(withChild));
    expect(result.spans.map(idOf)).toContain(idOf(child));
  });

  it('falls back to the statement text when there is no fingerprint', () => {
    const root = startRoot();
    for (let i = 0; i < 3; i++) query(root, { start: 10 + i * 3, duration: 1, statement: { text: 'SELECT 1' } });
    for (let i = 3; i < 6; i++) query(root, { start: 10 + i * 3, duration: 1, statement: { text: 'SELECT 2' } });
    // old semantic conventions: db.system and db.statement
    for (let i = 6; i < 9; i++) {
      query(root, {
        start: 10 + i * 3,
        duration: 1,
        statement: { text: 'ignored' },
        db: { 'db.system': 'mysql', 'db.name': 'shop' },
        attributes: { 'db.query.text': undefined, 'db.statement': 'SELECT 3' },
      });
    }
    root.end(at(100));
    const result = compressSpans(finished(), EXACT_ONLY);
    expect(composites(result.spans).map((s) => s.attributes['db.query.text'] ?? s.attributes['db.statement'])).toEqual([
      'SELECT 1',
      'SELECT 2',
      'SELECT 3',
    ]);
  });

  it('puts a composite at the input position of its first span', () => {
    const root = startRoot();
    const first = query(root, { start: 10, duration: 1 });
    for (let i = 1; i < 4; i++) query(root, { start: 10 + i * 3, duration: 1 });
    root.end(at(100));
    const reversed = [...finished()].reverse(); // root, q3, q2, q1, q0
    const result = compressSpans(reversed, EXACT_ONLY);
    expect(result.spans.map(idOf)).toEqual([idOf(root), idOf(first)]);
    expect(result.spans[1].attributes['perf.composite.count']).toBe(4);
  });
});

describe('compressSpans: same_kind', () => {
  function mixedStatements(db: (i: number) => Attributes): void {
    const root = startRoot();
    const statements = [SELECT_MEMBER, SELECT_ORDERS, LIST_MEMBERS, SELECT_ORDERS];
    for (let i = 0; i < 4; i++) query(root, { start: 10 + i * 3, duration: 1 + i, statement: statements[i], db: db(i) });
    root.end(at(100));
  }

  it('is off by default (sameKindMaxMs 0)', () => {
    mixedStatements(() => MEMBERS_DB);
    const result = compressSpans(finished(), EXACT_ONLY);
    expect(result.compositeCount).toBe(0);
    expect(result.spans).toHaveLength(5);
  });

  it('collapses different statements to the same database', () => {
    mixedStatements(() => MEMBERS_DB);
    const input = finished();
    const result = compressSpans(input, BOTH);
    expect(result.compositeCount).toBe(1);
    expect(result.spans).toHaveLength(2);
    const [composite] = composites(result.spans);
    expect(composite.attributes).toMatchObject({
      'perf.composite.strategy': 'same_kind',
      'perf.composite.count': 4,
      'perf.composite.sum_ms': 10,
      'perf.composite.min_ms': 1,
      'perf.composite.max_ms': 4,
      // the statement is the first span's, once
      'db.query.text': SELECT_MEMBER.text,
      'perf.query.fingerprint': SELECT_MEMBER.fp,
    });
  });

  it('does not collapse queries to different databases', () => {
    mixedStatements((i) => (i % 2 === 0 ? MEMBERS_DB : PAYMENTS_DB));
    expect(compressSpans(finished(), BOTH).compositeCount).toBe(0);

    exporter.reset();
    mixedStatements((i) => (i < 2 ? MEMBERS_DB : { ...MEMBERS_DB, 'server.port': 5433 }));
    const result = compressSpans(finished(), BOTH);
    expect(composites(result.spans).map((s) => s.attributes['server.port'])).toEqual([5432, 5433]);
  });

  it('runs after exact_match, on the spans it left single', () => {
    const root = startRoot();
    let t = 10;
    query(root, { start: t, duration: 1, statement: LIST_MEMBERS });
    t += 3;
    query(root, { start: t, duration: 1, statement: SELECT_ORDERS });
    t += 3;
    for (let i = 0; i < 5; i++, t += 3) query(root, { start: t, duration: 1 });
    root.end(at(100));
    const result = compressSpans(finished(), BOTH);
    expect(composites(result.spans).map((s) => [s.attributes['perf.composite.strategy'], s.attributes['perf.composite.count']])).toEqual([
      ['same_kind', 2],
      ['exact_match', 5],
    ]);
    expect(result.spans).toHaveLength(3);
  });

  it('applies its own max duration', () => {
    mixedStatements(() => MEMBERS_DB); // durations 1..4 ms
    const result = compressSpans(finished(), { exactMatchMaxMs: 50, sameKindMaxMs: 2.5 });
    expect(composites(result.spans).map((s) => s.attributes['perf.composite.count'])).toEqual([2]);
  });
});

describe('compressSpans: spans that are not candidates', () => {
  it('leaves non-db spans untouched, in order', () => {
    const root = startRoot();
    for (let i = 0; i < 5; i++) {
      tracer
        .startSpan('GET https://api.local/x', { kind: SpanKind.CLIENT, startTime: at(10 + i) }, trace.setSpan(context.active(), root))
        .end(at(10.5 + i));
    }
    for (let i = 0; i < 5; i++) {
      tracer.startSpan('render', { startTime: at(20 + i) }, trace.setSpan(context.active(), root)).end(at(20.5 + i));
    }
    // a db attribute on a span that is not a client span
    for (let i = 0; i < 3; i++) query(root, { start: 30 + i, duration: 0.5, kind: SpanKind.INTERNAL });
    root.end(at(100));
    const input = finished();
    const result = compressSpans(input, BOTH);
    expect(result.compositeCount).toBe(0);
    expect(result.spans).toHaveLength(input.length);
    result.spans.forEach((s, i) => expect(s).toBe(input[i]));
  });

  it('handles empty and single-span input', () => {
    expect(compressSpans([], BOTH)).toEqual({ spans: [], compositeCount: 0, removedCount: 0 });
    startRoot().end(at(1));
    expect(compressSpans(finished(), BOTH).spans).toHaveLength(1);
  });
});

describe('compressSpans: export', () => {
  function decodeBoth(spans: ReadableSpan[]) {
    const proto = ProtobufTraceSerializer.serializeRequest(spans)!;
    const json = JsonTraceSerializer.serializeRequest(spans)!;
    expect(proto).toBeInstanceOf(Uint8Array);
    expect(json).toBeInstanceOf(Uint8Array);
    return {
      proto: decodeTraceRequest(proto, 'application/x-protobuf'),
      json: decodeTraceRequest(json, 'application/json'),
      protoBytes: proto.byteLength,
    };
  }

  it('serializes with the OTLP protobuf and JSON serializers', () => {
    const root = startRoot();
    query(root, { start: 5, duration: 1, statement: LIST_MEMBERS });
    for (let i = 0; i < 20; i++) query(root, { start: 10 + i * 2, duration: 1.5, event: 'acquired' });
    root.end(at(100));
    const input = finished();
    const result = compressSpans(input, EXACT_ONLY);
    const composite = composites(result.spans)[0];

    const before = decodeBoth(input);
    const after = decodeBoth(result.spans);
    for (const decoded of [after.proto, after.json]) {
      expect(decoded).toHaveLength(result.spans.length);
      expect(new Set(decoded.map((s) => s.spanId)).size).toBe(3);
      const c = decoded.find((s) => s.spanId === idOf(composite))!;
      expect(c.parentSpanId).toBe(idOf(root));
      expect(c.traceId).toBe(composite.spanContext().traceId);
      expect(c.kind).toBe(3);
      expect(c.name).toBe(composite.name);
      expect(c.durationMs).toBeCloseTo(39.5, 6);
      expect(c.attributes['perf.composite.count']).toBe(20);
      expect(c.attributes['perf.composite.sum_ms']).toBe(30);
      expect(c.attributes['perf.composite.strategy']).toBe('exact_match');
      expect(c.attributes['db.query.text']).toBe(SELECT_MEMBER.text);
      expect(c.events.map((e) => e.name)).toEqual(['acquired']);
      expect(c.resource.attributes['service.name']).toBe('compression-test');
      expect(c.scope.name).toBe('compression-test');
    }
    expect(before.proto).toHaveLength(22);
    expect(after.protoBytes).toBeLessThan(before.protoBytes / 4);
  });

  it('compresses a trace of 1 root + 21 queries to 3 spans', () => {
    const root = startRoot();
    query(root, { start: 2, duration: 3, statement: LIST_MEMBERS });
    for (let i = 0; i < 20; i++) query(root, { start: 6 + i * 2, duration: 1 });
    root.end(at(60));
    const result = compressSpans(finished(), { exactMatchMaxMs: 50, sameKindMaxMs: 0 });
    expect(result.spans).toHaveLength(3);
    expect(result.compositeCount).toBe(1);
    expect(result.removedCount).toBe(19);
    expect(decodeBoth(result.spans).proto).toHaveLength(3);
  });

  it('handles a large trace', () => {
    const root = startRoot();
    for (let i = 0; i < 5000; i++) query(root, { start: 1 + i * 0.01, duration: 0.005, statement: i % 1000 === 999 ? SELECT_ORDERS : SELECT_MEMBER });
    root.end(at(100));
    const result = compressSpans(finished(), EXACT_ONLY);
    // 5 runs of 999 split by 5 single SELECT_ORDERS (the last is at the end)
    expect(result.compositeCount).toBe(5);
    expect(result.spans).toHaveLength(1 + 5 + 5);
  });
});

describe('compressSpans: sibling order', () => {
  /** What compression made of a list, whatever the input order: each composite's first span and size. */
  function runsOf(spans: readonly ReadableSpan[]): string[] {
    return composites(compressSpans(spans, BOTH).spans).map((s) => `${idOf(s)}x${String(s.attributes['perf.composite.count'])}`).sort();
  }

  it('groups the same runs whatever order the spans arrive in (in order, reversed, shuffled)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 1, max: 5 }), which: fc.integer({ min: 0, max: 2 }) }), { minLength: 2, maxLength: 60 }),
        fc.func(fc.integer()),
        (queries, rank) => {
          exporter.reset();
          const root = startRoot();
          let t = 1;
          for (const q of queries) {
            t += q.gap;
            if (q.which === 2) query(root, { start: t, duration: 1, db: PAYMENTS_DB, statement: LIST_MEMBERS });
            else query(root, { start: t, duration: 1, statement: q.which === 0 ? SELECT_MEMBER : SELECT_ORDERS });
          }
          root.end(at(t + 10));
          const spans = finished();
          const expected = runsOf(spans);
          expect(runsOf(spans.slice().reverse())).toEqual(expected);
          const shuffled = spans.map((span, i) => ({ span, key: rank(i) })).sort((a, b) => a.key - b.key).map((x) => x.span);
          expect(runsOf(shuffled)).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('orders spans that start at the same instant as they came', () => {
    const root = startRoot();
    const member = [query(root, { start: 10, duration: 1 }), query(root, { start: 10, duration: 1 })];
    const orders = query(root, { start: 10, duration: 1, statement: SELECT_ORDERS });
    const member2 = query(root, { start: 10, duration: 1 });
    root.end(at(100));
    // Input order at equal starts: member, member, orders, member: one run of two, then singles.
    const result = compressSpans([...member, orders, member2, ...finished().filter((s) => idOf(s) === idOf(root))], EXACT_ONLY);
    expect(result.compositeCount).toBe(1);
    expect(composites(result.spans)[0].attributes['perf.composite.count']).toBe(2);
    expect(idOf(composites(result.spans)[0])).toBe(idOf(member[0]));
  });
});
