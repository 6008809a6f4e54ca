'use strict';
/**
 * Example otel-perf-agent plugin: "call an API, then query, per item". Under one parent span, an
 * outgoing HTTP call followed by a database query, the same call and the same query, at least
 * 3 times in a row:
 *
 *   for (const member of members) {
 *     const profile = await fetch(`${CRM}/profiles/${member.id}`); // HTTP client span
 *     await pool.query('UPDATE members SET tier = $1 WHERE id = $2', [...]); // query span
 *   }
 *
 * Each round waits for two round trips; neither the API calls nor the queries can be batched
 * while they alternate. The n_plus_one analyzer sees the repeated query too, but not the API
 * call that forces the loop.
 *
 *   PERF_AGENT_PLUGINS=./examples/plugins/query-in-http-loop.js node --require otel-perf-agent/register app.js
 */

/** SpanKind.CLIENT of @opentelemetry/api (a number, so this file needs no dependency). */
const CLIENT = 2;
/** Rounds of the same call and query, under one parent, that make a finding. */
const MIN_ROUNDS = 3;

function isHttpClient(span) {
  if (span.kind !== CLIENT || span.isDb) return false;
  const attributes = span.attributes;
  return attributes['http.request.method'] !== undefined || attributes['http.method'] !== undefined;
}

/** `GET crm.example.com`: method and host, without the path (which usually holds the item's id). */
function httpLabel(span) {
  const attributes = span.attributes;
  const method = attributes['http.request.method'] || attributes['http.method'];
  let host = attributes['server.address'] || attributes['net.peer.name'];
  const url = attributes['url.full'] || attributes['http.url'];
  if (host === undefined && typeof url === 'string') {
    try {
      host = new URL(url).host;
    } catch {
      host = undefined;
    }
  }
  return host === undefined ? span.name : `${method} ${host}`;
}

function formatMs(ms) {
  return `${(Math.round(ms * 10) / 10).toFixed(1)} ms`;
}

module.exports = {
  name: 'query_in_http_loop',

  analyze(trace) {
    // Outgoing HTTP calls and queries, per parent. Most traces have no HTTP client span at all.
    let byParent;
    let calls = 0;
    for (const span of trace.spans) {
      if (span.parentSpanId === undefined) continue;
      const http = isHttpClient(span);
      if (!http && !span.isDb) continue;
      if (http) calls++;
      byParent = byParent || new Map();
      const siblings = byParent.get(span.parentSpanId);
      if (siblings === undefined) byParent.set(span.parentSpanId, [span]);
      else siblings.push(span);
    }
    if (calls < MIN_ROUNDS) return [];

    const findings = [];
    for (const siblings of byParent.values()) {
      if (siblings.length < 2 * MIN_ROUNDS) continue;
      siblings.sort((a, b) => a.startMs - b.startMs);
      // A round: a query right after an HTTP call (the last call since the previous query).
      const rounds = new Map(); // "call label + query fingerprint" -> [{ call, query }]
      let lastCall;
      for (const span of siblings) {
        if (!span.isDb) {
          lastCall = span;
          continue;
        }
        if (lastCall === undefined) continue;
        const key = `${httpLabel(lastCall)}\u0000${span.fingerprint || span.statement || span.name}`;
        const list = rounds.get(key);
        if (list === undefined) rounds.set(key, [{ call: lastCall, query: span }]);
        else list.push({ call: lastCall, query: span });
        lastCall = undefined;
      }
      for (const list of rounds.values()) {
        if (list.length >= MIN_ROUNDS) findings.push(finding(trace, list));
      }
    }
    return findings;
  },
};

function finding(trace, rounds) {
  const { call, query } = rounds[0];
  const label = httpLabel(call);
  const pattern = query.statement || query.name;
  let httpMs = 0;
  let dbMs = 0;
  const spanIds = [];
  for (const round of rounds) {
    httpMs += round.call.durationMs;
    dbMs += round.query.durationMs;
    spanIds.push(round.call.spanId, round.query.spanId);
  }
  return {
    type: 'query_in_http_loop',
    severity: 'warning',
    message:
      `API call then query, ${rounds.length} times in ${trace.operation}: ${label} -> ${pattern} ` +
      `(HTTP ${formatMs(httpMs)}, database ${formatMs(dbMs)})`,
    recommendation:
      `Fetch what ${label} returns for all items first (a batch endpoint, or concurrent requests with a ` +
      'small limit), then write or read the rows in one query (WHERE id = ANY($1) on PostgreSQL, IN (?) on ' +
      'MySQL), instead of one API call and one query per item',
    fingerprint: query.fingerprint,
    pattern,
    repeatCount: rounds.length,
    totalMs: httpMs + dbMs,
    callSite: query.callSite(),
    spanIds,
  };
}
