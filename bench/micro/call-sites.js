'use strict';
// The agent's work per request on the call-site path, with real SDK spans and no export: the
// N+1 request of the members example (1 list query + 20 lookups of one statement). Each query
// asks the trace buffer for its call site (a per-request QuerySite borrowing the statement's
// shared stack; one fresh capture at the N+1 candidate), each span's start and end are noted,
// the root's end runs the analyzers and resolves the finding's call stack. The baseline is the
// same spans through the SDK with no processor at all.

const { ROOT_CONTEXT, SpanKind, trace } = require('@opentelemetry/api');
const { AlwaysOnSampler, BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');

const LIST = 'SELECT id, issued_on FROM invoices WHERE member_id = $1';
const ONE = 'SELECT id, amount_cents FROM payments WHERE invoice_id = $1';
const DB = { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql' } };
const ROOT = { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/members/1/payments' } };

function request(s) {
  const root = s.tracer.startSpan('GET', ROOT);
  const active = trace.setSpan(ROOT_CONTEXT, root);
  s.query(active, LIST);
  for (let i = 0; i < 20; i++) s.query(active, ONE);
  root.end();
  return root;
}

module.exports = [
  {
    name: 'call sites: N+1 request (21 queries), SDK spans only, no processor',
    setup: () => {
      const tracer = new BasicTracerProvider({ sampler: new AlwaysOnSampler() }).getTracer('micro');
      const query = (active, sql) => {
        const span = tracer.startSpan('pg.query:SELECT', DB, active);
        span.setAttribute('db.query.text', sql);
        span.end();
      };
      return { tracer, query };
    },
    fn: request,
  },
  {
    name: 'call sites: N+1 request (21 queries), trace buffer with call sites and analysis',
    requires: {
      config: ['loadConfig'],
      sql: ['StatementCache'],
      'processing/trace-buffer': ['TraceBuffer'],
      'processing/db-statement-processor': ['DbStatementProcessor'],
      'analysis/call-site': ['CALL_SITE_KEY'],
      'analysis/analyzers': ['BUILT_IN_ANALYZERS'],
      'analysis/health-score': ['healthScore'],
    },
    setup: (deps) => {
      const config = deps.config.loadConfig({}).config;
      const statements = new deps.sql.StatementCache(100);
      const analyzers = deps['analysis/analyzers'].BUILT_IN_ANALYZERS;
      const buffer = new deps['processing/trace-buffer'].TraceBuffer({
        config: () => config,
        analysis: {
          analyze: (t, c) => analyzers.flatMap((a) => [].concat(a.analyze(t, { config: c }) ?? [])),
          health: (t, f, c) => deps['analysis/health-score'].healthScore(t, f, c),
        },
        sink: { add() {} },
        limits: { maxTraces: 100, maxSpansPerTrace: 1000, maxBufferedSpans: 10000, traceTimeoutMs: 60000 },
        fingerprintOf: (text) => statements.get(text).fingerprint,
      });
      const processors = [new deps['processing/db-statement-processor'].DbStatementProcessor(statements), buffer];
      const tracer = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: processors }).getTracer('micro');
      const key = deps['analysis/call-site'].CALL_SITE_KEY;
      // What the pool wrapper does where the application calls Pool#query.
      const query = function query(active, sql) {
        const site = buffer.callSiteFor(active, sql, query);
        const span = tracer.startSpan('pg.query:SELECT', DB, site === null ? active : active.setValue(key, site));
        span.setAttribute('db.query.text', sql);
        span.end();
      };
      return { tracer, query };
    },
    fn: request,
    baseline: 'call sites: N+1 request (21 queries), SDK spans only, no processor',
  },
];
