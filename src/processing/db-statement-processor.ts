import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { StatementCache, dialectOf } from '../sql';
import { safeExecute } from '../util/safe';
import { ATTR_QUERY_FINGERPRINT, STATEMENT_KEYS, isDbSpan } from '../semconv';
import { scrubDbSpanError } from './db-error-scrubber';

/**
 * Replaces the statement of every database span by its normalized form (literals as `?`, read
 * with the rules of the span's database system) and adds its fingerprint; scrubs the values out
 * of a failed query's error messages. Runs in `onEnding`: the pg instrumentation sets the text
 * after the span started, and after `onEnding` the span is frozen. Raw statements and raw error
 * messages of database spans therefore never reach an exporter.
 */
export class DbStatementProcessor implements SpanProcessor {
  constructor(private readonly statements: StatementCache) {}

  onStart(_span: Span, _parentContext: Context): void {
    // the statement is not known yet at start
  }

  onEnding(span: Span): void {
    // Fail closed: if normalizing or scrubbing ever throws, the raw text must not go out either.
    const normalized = safeExecute('db statement normalizer', () => normalizeSpanStatement(span, this.statements), false);
    if (!normalized) for (const key of STATEMENT_KEYS) if (typeof span.attributes[key] === 'string') span.setAttribute(key, '?');
    if (isDbSpan(span.attributes) && !safeExecute('db error scrubber', () => (scrubDbSpanError(span), true), false)) {
      span.setStatus({ code: span.status.code, message: '?' });
      for (const event of span.events) if (event.name === 'exception') event.attributes = {};
    }
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

/** Returns true (for the fail-closed check in onEnding). */
export function normalizeSpanStatement(span: Span, statements: StatementCache): boolean {
  const attributes = span.attributes;
  for (const key of STATEMENT_KEYS) {
    const raw = attributes[key];
    if (typeof raw !== 'string') continue;
    const { statement, fingerprint } = statements.get(raw, dialectOf(attributes));
    span.setAttribute(key, statement);
    span.setAttribute(ATTR_QUERY_FINGERPRINT, fingerprint);
  }
  return true;
}
