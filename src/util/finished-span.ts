import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/** The fields of a finished span, its context among them. */
export interface FinishedSpanFields {
  name: string;
  kind: SpanKind;
  context: SpanContext;
  parentSpanContext: SpanContext | undefined;
  startTime: HrTime;
  endTime: HrTime;
  duration: HrTime;
  status: SpanStatus;
  attributes: Attributes;
  links: Link[];
  events: TimedEvent[];
  resource: Resource;
  instrumentationScope: InstrumentationScope;
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
}

/**
 * A span the agent builds for export (a composite, a query from a shadow record), in one shape.
 * `spanContext` is a method rather than a closure per span: V8 keeps a closure's optimized code
 * only while one of its instances is alive, and these live from one export to the next.
 */
export class FinishedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: TimedEvent[];
  readonly ended = true;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly droppedAttributesCount: number;
  readonly droppedEventsCount: number;
  readonly droppedLinksCount: number;
  private readonly context: SpanContext;

  constructor(fields: FinishedSpanFields) {
    this.name = fields.name;
    this.kind = fields.kind;
    this.context = fields.context;
    this.parentSpanContext = fields.parentSpanContext;
    this.startTime = fields.startTime;
    this.endTime = fields.endTime;
    this.duration = fields.duration;
    this.status = fields.status;
    this.attributes = fields.attributes;
    this.links = fields.links;
    this.events = fields.events;
    this.resource = fields.resource;
    this.instrumentationScope = fields.instrumentationScope;
    this.droppedAttributesCount = fields.droppedAttributesCount;
    this.droppedEventsCount = fields.droppedEventsCount;
    this.droppedLinksCount = fields.droppedLinksCount;
  }

  spanContext(): SpanContext {
    return this.context;
  }
}
