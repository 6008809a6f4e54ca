import { SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_DB_RESPONSE_STATUS_CODE, ATTR_ERROR_TYPE, ATTR_EXCEPTION_MESSAGE as EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_STACKTRACE as EXCEPTION_STACKTRACE, EXCEPTION_EVENT,
} from '../semconv';
import { errorCodeOf, scrubErrorMessage, scrubStackTrace } from '../sql/scrub-error';

/**
 * A failed database span carries the server's message, which quotes the offending value, in
 * `status.message` and (pg) in its `exception` event. Runs in `onEnding`, before the span is
 * frozen: the status is set again, and the event's attributes are replaced in the span's own
 * events array (the instrumentation added the event; there is no API to change one). The code
 * (SQLSTATE, MySQL errno) is kept as `db.response.status_code` and `error.type`, which say what
 * went wrong without the data.
 */
export function scrubDbSpanError(span: Span): void {
  const status = span.status;
  const events = span.events;
  if (status.code !== SpanStatusCode.ERROR && events.length === 0) return;
  const messages: string[] = [];
  if (typeof status.message === 'string') messages.push(status.message);
  for (const event of events) {
    if (event.name !== EXCEPTION_EVENT || !event.attributes) continue;
    const message = event.attributes[EXCEPTION_MESSAGE];
    if (typeof message === 'string') messages.push(message);
    event.attributes = scrubbedEventAttributes(event.attributes);
  }
  if (typeof status.message === 'string') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: scrubErrorMessage(status.message) });
  }
  if (status.code !== SpanStatusCode.ERROR) return;
  const code = errorCodeOf(messages);
  if (code === undefined) return;
  if (span.attributes[ATTR_DB_RESPONSE_STATUS_CODE] === undefined) span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, code);
  if (span.attributes[ATTR_ERROR_TYPE] === undefined) span.setAttribute(ATTR_ERROR_TYPE, code);
}

/**
 * The same for a failed query that has no span object (a shadow query, see shadow-record.ts):
 * its status message scrubbed and the code its messages carry. Fails closed: `?` if scrubbing
 * throws.
 */
export function scrubbedQueryError(statusMessage: string, exceptionMessages: readonly string[]): { message: string; code: string | undefined } {
  try {
    return { message: scrubErrorMessage(statusMessage), code: errorCodeOf([statusMessage, ...exceptionMessages]) };
  } catch {
    return { message: '?', code: undefined };
  }
}

function scrubbedEventAttributes(attributes: Attributes): Attributes {
  const copy: Attributes = { ...attributes };
  const message = copy[EXCEPTION_MESSAGE];
  if (typeof message === 'string') copy[EXCEPTION_MESSAGE] = scrubErrorMessage(message);
  const stack = copy[EXCEPTION_STACKTRACE];
  if (typeof stack === 'string') copy[EXCEPTION_STACKTRACE] = scrubStackTrace(stack);
  return copy;
}
