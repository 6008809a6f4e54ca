'use strict';
// Real SDK spans of the traces the agent sees most: the example's N+1 request (1 HTTP span,
// 1 invoices query, 20 payment queries) and a healthy one (1 HTTP span, 2 queries).

const { SpanKind, context, trace } = require('@opentelemetry/api');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');

const PAYMENTS = 'SELECT id, paid_on, amount_cents, method FROM payments WHERE invoice_id = $1';
const INVOICES = 'SELECT id, issued_on, amount_cents, status FROM invoices WHERE member_id = $1 ORDER BY issued_on';

function buildTrace(queries) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('bench');
  const t0 = Date.now();
  const root = tracer.startSpan('GET', { kind: SpanKind.SERVER, startTime: t0, attributes: { 'http.request.method': 'GET', 'url.path': '/members/1/payments' } });
  const ctx = trace.setSpan(context.active(), root);
  let at = t0 + 1;
  for (const [statement, fingerprint] of queries) {
    const span = tracer.startSpan('pg.query:SELECT test', {
      kind: SpanKind.CLIENT,
      startTime: at,
      attributes: { 'db.system.name': 'postgresql', 'db.namespace': 'test', 'db.query.text': statement, 'perf.query.fingerprint': fingerprint, 'server.address': '127.0.0.1', 'server.port': 5432 },
    }, ctx);
    span.end(at + 1.5);
    at += 2;
  }
  root.end(at + 1);
  const spans = exporter.getFinishedSpans();
  return { root: spans[spans.length - 1], others: spans.slice(0, -1), all: spans };
}

const nPlusOne = () => buildTrace([[INVOICES, '1111111111111111'], ...Array.from({ length: 20 }, () => [PAYMENTS, '2222222222222222'])]);
const healthy = () => buildTrace([[INVOICES, '1111111111111111'], ['SELECT id, invoice_id FROM payments WHERE invoice_id = ANY($1)', '3333333333333333']]);

module.exports = { nPlusOne, healthy };
