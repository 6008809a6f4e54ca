import type { Attributes, AttributeValue } from '@opentelemetry/api';

/*
 * Every span attribute the agent reads or writes, in one place: the `perf.*` names are public
 * (dashboards, alert rules and the collector's tail sampling read them), so they change nowhere
 * else. Also the helpers that read the database ones. The contrib instrumentations write either the
 * stable database conventions or the older ones (mysql2 by default): readers take both.
 */

// Database spans, as the contrib instrumentations write them (stable name first).
export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
export const ATTR_DB_SYSTEM = 'db.system';
export const ATTR_DB_QUERY_TEXT = 'db.query.text';
export const ATTR_DB_STATEMENT = 'db.statement';
export const ATTR_DB_NAMESPACE = 'db.namespace';
export const ATTR_DB_NAME = 'db.name';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
/**
 * The error's code or name: on an error span the agent adds (a pool that could not connect), and
 * on a failed query (its SQLSTATE or MySQL error number, as db.response.status_code).
 */
export const ATTR_ERROR_TYPE = 'error.type';
/** The statement keys, stable convention first; the normalizer rewrites each one present. */
export const STATEMENT_KEYS = [ATTR_DB_QUERY_TEXT, ATTR_DB_STATEMENT] as const;

/** A failed query's SQLSTATE or MySQL error number (kept when its message is scrubbed). */
export const ATTR_DB_RESPONSE_STATUS_CODE = 'db.response.status_code';
export const EXCEPTION_EVENT = 'exception';
export const ATTR_EXCEPTION_MESSAGE = 'exception.message';
export const ATTR_EXCEPTION_STACKTRACE = 'exception.stacktrace';

// HTTP spans, as instrumentation-http writes them (stable names; `http.method` and `http.target`
// are the old conventions, still read for other instrumentations). `http.route` is known only once
// a framework matched the request.
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_REQUEST_METHOD_ORIGINAL = 'http.request.method_original';
export const ATTR_HTTP_METHOD = 'http.method';
export const ATTR_URL_PATH = 'url.path';
export const ATTR_URL_FULL = 'url.full';
export const ATTR_HTTP_TARGET = 'http.target';

// Database spans, added by the agent.
export const ATTR_QUERY_FINGERPRINT = 'perf.query.fingerprint';
export const ATTR_QUERY_PATTERN = 'perf.query.pattern';

// The local root span.
export const ATTR_QUERY_COUNT = 'perf.query_count';
export const ATTR_QUERY_TIME_MS = 'perf.query_time_ms';
export const ATTR_HEALTH_SCORE = 'perf.health_score';
export const ATTR_HEALTH = 'perf.health';
export const ATTR_FINDINGS_COUNT = 'perf.findings.count';
export const ATTR_N_PLUS_ONE_COUNT = 'perf.n_plus_one.count';
export const ATTR_SAMPLING_REASON = 'perf.sampling.reason';
export const ATTR_SAMPLING_RATE = 'perf.sampling.rate';

// measure(): its root span.
export const ATTR_MEASURE_OPERATION = 'perf.measure.operation';
export const ATTR_MEASURE_TARGET_TYPE = 'perf.measure.target.type';
export const ATTR_MEASURE_TARGET_ID = 'perf.measure.target.id';

// One event per finding on the local root.
export const FINDING_EVENT = 'perf.finding';
export const ATTR_FINDING_TYPE = 'perf.finding.type';
export const ATTR_FINDING_SEVERITY = 'perf.finding.severity';
export const ATTR_FINDING_MESSAGE = 'perf.finding.message';
export const ATTR_FINDING_RECOMMENDATION = 'perf.finding.recommendation';
export const ATTR_FINDING_REPEAT_COUNT = 'perf.finding.repeat_count';
export const ATTR_FINDING_TOTAL_MS = 'perf.finding.total_ms';
export const ATTR_CODE_FILEPATH = 'code.filepath';
export const ATTR_CODE_LINENO = 'code.lineno';
export const ATTR_CODE_FUNCTION = 'code.function';
/** The call site and up to two application frames that called it, one `at fn (file:line)` per line. */
export const ATTR_FINDING_CALL_STACK = 'perf.finding.call_stack';

// Composite spans (compression).
export const ATTR_COMPOSITE_COUNT = 'perf.composite.count';
export const ATTR_COMPOSITE_SUM_MS = 'perf.composite.sum_ms';
export const ATTR_COMPOSITE_MIN_MS = 'perf.composite.min_ms';
export const ATTR_COMPOSITE_MAX_MS = 'perf.composite.max_ms';
export const ATTR_COMPOSITE_STRATEGY = 'perf.composite.strategy';

/** The database system of a span (`postgresql`, `mysql`), or undefined when it is no database span. */
export function dbSystemOf(attributes: Attributes): AttributeValue | undefined {
  return attributes[ATTR_DB_SYSTEM_NAME] ?? attributes[ATTR_DB_SYSTEM];
}

export function isDbSpan(attributes: Attributes): boolean {
  return dbSystemOf(attributes) !== undefined;
}

/** The statement text of a database span (normalized once the statement processor ran). */
export function statementOf(attributes: Attributes): AttributeValue | undefined {
  return attributes[ATTR_DB_QUERY_TEXT] ?? attributes[ATTR_DB_STATEMENT];
}

/** The database (namespace) a span talks to. */
export function dbNamespaceOf(attributes: Attributes): AttributeValue | undefined {
  return attributes[ATTR_DB_NAMESPACE] ?? attributes[ATTR_DB_NAME];
}
