'use strict';
/**
 * Example otel-perf-agent plugin: flags queries that select every column (`SELECT * FROM t`).
 *
 *   PERF_AGENT_PLUGINS=./examples/plugins/select-star.js node --require otel-perf-agent/register app.js
 *
 * Tables whose whole row is really needed can be allowed with a comma list (case-insensitive;
 * `settings` also allows `public.settings`):
 *
 *   SELECT_STAR_ALLOW=settings,feature_flags
 *
 * One finding per distinct statement, severity info: it costs bytes and rules out index-only
 * scans, but it is rarely what makes a request slow.
 */

/** `SELECT [DISTINCT] * FROM <table>`; the table may be schema-qualified and quoted. */
const SELECT_STAR = /\bselect\s+(?:distinct\s+)?\*\s*from\s+((?:"[^"]+"|`[^`]+`|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|`[^`]+`|[\w$]+))*)/i;
const QUOTES = /["`]/g;
const SPACES = /\s+/g;

let allowSource;
let allowed = new Set();

/** The allow-list, re-read only when the variable changes. */
function allowList() {
  const raw = process.env.SELECT_STAR_ALLOW || '';
  if (raw !== allowSource) {
    allowSource = raw;
    allowed = new Set(
      raw
        .split(',')
        .map((name) => name.trim().replace(QUOTES, '').toLowerCase())
        .filter((name) => name !== ''),
    );
  }
  return allowed;
}

function isAllowed(table, allow) {
  if (allow.size === 0) return false;
  const full = table.replace(QUOTES, '').replace(SPACES, '').toLowerCase();
  const bare = full.slice(full.lastIndexOf('.') + 1);
  return allow.has(full) || allow.has(bare);
}

module.exports = {
  name: 'select_star',

  analyze(trace) {
    let byStatement;
    const allow = allowList();
    for (const span of trace.dbSpans) {
      const statement = span.statement;
      if (typeof statement !== 'string') continue;
      const match = SELECT_STAR.exec(statement);
      if (match === null || isAllowed(match[1], allow)) continue;
      const key = span.fingerprint || statement;
      byStatement = byStatement || new Map();
      const seen = byStatement.get(key);
      if (seen === undefined) byStatement.set(key, { table: match[1], spans: [span] });
      else seen.spans.push(span);
    }
    if (byStatement === undefined) return [];

    const findings = [];
    for (const { table, spans } of byStatement.values()) {
      const first = spans[0];
      const times = spans.length > 1 ? ` (${spans.length}x)` : '';
      let totalMs = 0;
      for (const span of spans) totalMs += span.durationMs;
      findings.push({
        type: 'select_star',
        severity: 'info',
        message: `SELECT * from ${table} in ${trace.operation}${times}: ${first.statement}`,
        recommendation:
          `List the columns the code uses instead of SELECT * from ${table}: fewer bytes over the wire, ` +
          'less decoding, and index-only scans become possible; if the whole row is really needed, ' +
          `add ${table.replace(QUOTES, '')} to SELECT_STAR_ALLOW`,
        fingerprint: first.fingerprint,
        pattern: first.statement,
        repeatCount: spans.length,
        totalMs,
        callSite: first.callSite(),
        spanIds: spans.map((span) => span.spanId),
      });
    }
    return findings;
  },
};
