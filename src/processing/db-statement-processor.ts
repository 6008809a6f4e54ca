import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { StatementCache } from '../sql';
import { safeExecute } from '../util/safe';
import { ATTR_QUERY_FINGERPRINT, STATEMENT_KEYS } from '../semconv';

/**
 * Replaces the statement of every database span by its normalized form (literals as `?`) and adds
 * its fingerprint. Runs in `onEnding`: the pg instrumentation sets the text after the span started,
 * and after `onEnding` the span is frozen. Raw statements therefore never reach an exporter.
 */
export class DbStatementProcessor implements SpanProcessor {
  constructor(private readonly statements: StatementCache) {}

  onStart(_span: Span, _parentContext: Context): void {
    // the statement is not known yet at start
  }

  onEnding(span: Span): void {
    safeExecute('db statement normalizer', () => normalizeSpanStatement(span, this.statements), undefined);
  }

  onEnd(_span: ReadableSpan): void {
    // all work happens in onEnding, while the span can still change
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.statements.clear();
    return Promise.resolve();
  }
}

export function normalizeSpanStatement(span: Span, statements: StatementCache): void {
  const attributes = span.attributes;
  for (const key of STATEMENT_KEYS) {
    const raw = attributes[key];
    if (typeof raw !== 'string') continue;
    const { statement, fingerprint } = statements.get(raw);
    span.setAttribute(key, statement);
    span.setAttribute(ATTR_QUERY_FINGERPRINT, fingerprint);
  }
}
