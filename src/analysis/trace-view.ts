import { SpanStatusCode, type SpanKind } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { resolveCallSite } from './call-site';
import { holderOf, type CallSiteRef } from './call-site-cache';
import { operationName } from '../util/operation-name';
import { ATTR_QUERY_FINGERPRINT, dbSystemOf, statementOf } from '../semconv';
import type { CallSite, SpanView, TraceView } from './types';

/** What the trace buffer noted of a database span while its trace was collected. */
export interface QueryMark {
  /** Where the application issued the query (undefined: not captured). */
  site: CallSiteRef | undefined;
  /** Position of the span's start among the starts and ends of the trace's database spans. */
  startOrder: number;
  /** Position of its end; undefined while it has not ended. */
  endOrder: number | undefined;
}

class ReadableSpanView implements SpanView {
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
  readonly isDb: boolean;
  readonly statement?: string;
  readonly fingerprint?: string;
  readonly dbSystem?: string;
  readonly error: boolean;
  readonly attributes: ReadableSpan['attributes'];
  readonly startOrder?: number;
  readonly endOrder?: number;
  private readonly site: CallSiteRef | undefined;

  constructor(span: ReadableSpan, isRoot: boolean, mark: QueryMark | undefined) {
    const a = span.attributes;
    this.spanId = span.spanContext().spanId;
    this.parentSpanId = isRoot ? undefined : span.parentSpanContext?.spanId;
    this.name = span.name;
    this.kind = span.kind;
    this.startMs = hrTimeToMilliseconds(span.startTime);
    this.durationMs = hrTimeToMilliseconds(span.duration);
    this.endMs = this.startMs + this.durationMs;
    const system = dbSystemOf(a);
    this.isDb = typeof system === 'string';
    if (this.isDb) {
      this.dbSystem = system as string;
      const statement = statementOf(a);
      if (typeof statement === 'string') this.statement = statement;
      const fingerprint = a[ATTR_QUERY_FINGERPRINT];
      if (typeof fingerprint === 'string') this.fingerprint = fingerprint;
    }
    this.error = span.status.code === SpanStatusCode.ERROR;
    this.attributes = a;
    this.site = mark?.site;
    if (mark !== undefined && mark.endOrder !== undefined) {
      this.startOrder = mark.startOrder;
      this.endOrder = mark.endOrder;
    }
  }

  callSite(): CallSite | undefined {
    return resolveCallSite(holderOf(this.site));
  }
}

/** A TraceView over the spans of one local trace; children are indexed on first use only. */
export class BufferedTraceView implements TraceView {
  readonly traceId: string;
  readonly root: SpanView;
  readonly spans: SpanView[];
  readonly dbSpans: SpanView[];
  private children: Map<string, SpanView[]> | undefined;
  private operationName: string | undefined;

  /** `extra`: views of spans that were never SDK spans (the shadow queries of a keep-findings record). */
  constructor(root: ReadableSpan, others: readonly ReadableSpan[], queries: Map<string, QueryMark> | undefined, extra?: readonly SpanView[]) {
    this.traceId = root.spanContext().traceId;
    this.spans = [];
    this.dbSpans = [];
    for (const span of others) {
      const view = new ReadableSpanView(span, false, queries?.get(span.spanContext().spanId));
      this.spans.push(view);
      if (view.isDb) this.dbSpans.push(view);
    }
    if (extra) {
      for (const view of extra) {
        this.spans.push(view);
        if (view.isDb) this.dbSpans.push(view);
      }
    }
    this.root = new ReadableSpanView(root, true, queries?.get(root.spanContext().spanId));
    this.spans.push(this.root);
    if (this.root.isDb) this.dbSpans.push(this.root);
  }

  get operation(): string {
    this.operationName ??= operationName(this.root.name, this.root.attributes);
    return this.operationName;
  }

  childrenOf(spanId: string): readonly SpanView[] {
    if (!this.children) {
      this.children = new Map();
      for (const span of this.spans) {
        if (span.parentSpanId === undefined) continue;
        const list = this.children.get(span.parentSpanId);
        if (list) list.push(span);
        else this.children.set(span.parentSpanId, [span]);
      }
    }
    return this.children.get(spanId) ?? [];
  }
}
