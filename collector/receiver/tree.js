'use strict';
// Renders received spans as one terminal tree per trace, so a person can see at a glance what a
// request did: which queries ran, how long they took, and what the agent concluded about it.

/** @typedef {import('./index').DecodedSpan} DecodedSpan */

const STATEMENT_MAX = 80;
const ANSI = { bold: '1', dim: '2', red: '31', yellow: '33', magenta: '35', cyan: '36' };

/**
 * @param {DecodedSpan[]} spans spans of one or more traces, in any order
 * @param {{ color?: boolean }} [options]
 * @returns {string} lines joined with '\n', traces separated by a blank line; '' for no spans
 */
function formatTraceTree(spans, { color = false } = {}) {
  /** @param {keyof typeof ANSI} style @param {string} text */
  const paint = (style, text) => (color ? `\x1b[${ANSI[style]}m${text}\x1b[0m` : text);

  /** @type {Map<string, DecodedSpan[]>} */
  const traces = new Map();
  for (const s of spans) {
    const list = traces.get(s.traceId);
    if (list) list.push(s);
    else traces.set(s.traceId, [s]);
  }
  const ordered = [...traces.values()].sort((a, b) => compareStart(earliest(a), earliest(b)));
  return ordered.map((trace) => renderTrace(trace, paint)).join('\n\n');
}

/**
 * @param {DecodedSpan[]} trace
 * @param {(style: keyof typeof ANSI, text: string) => string} paint
 */
function renderTrace(trace, paint) {
  const ids = new Set(trace.map((s) => s.spanId));
  /** @type {Map<string, DecodedSpan[]>} */
  const children = new Map();
  /** @type {DecodedSpan[]} */
  const tops = [];
  for (const s of trace) {
    // A span whose parent never arrived (remote parent, or still in flight) is shown at the top.
    if (!s.parentSpanId || !ids.has(s.parentSpanId)) {
      tops.push(s);
      continue;
    }
    const siblings = children.get(s.parentSpanId);
    if (siblings) siblings.push(s);
    else children.set(s.parentSpanId, [s]);
  }
  for (const list of children.values()) list.sort((a, b) => compareStart(a.startTimeUnixNano, b.startTimeUnixNano));
  tops.sort((a, b) => compareStart(a.startTimeUnixNano, b.startTimeUnixNano));

  const lines = [paint('dim', `trace ${trace[0].traceId} (${trace.length} spans)`)];
  const seen = new Set();

  /** @param {DecodedSpan} span @param {string} prefix @param {string} connector @param {string} childPrefix @param {boolean} top */
  const visit = (span, prefix, connector, childPrefix, top) => {
    if (seen.has(span.spanId)) return; // malformed input with a parent cycle must not hang the printer
    seen.add(span.spanId);
    const kids = children.get(span.spanId) || [];
    lines.push(prefix + paint('dim', connector) + spanLine(span, top, paint));

    const info = childPrefix + paint('dim', kids.length ? '│  ' : '   ');
    if (top) {
      const perf = Object.entries(span.attributes).filter(([k]) => k.startsWith('perf.'));
      if (perf.length) lines.push(info + 'perf: ' + perf.map(([k, v]) => `${k.slice(5)}=${compact(v)}`).join(' '));
      const db = dbBelow(span, children);
      lines.push(info + `db: ${db.count} queries, ${db.ms.toFixed(1)} ms`);
    }
    for (const e of span.events) {
      if (e.name !== 'perf.finding') continue;
      const a = e.attributes;
      const finding = `! ${a['perf.finding.type'] ?? '?'} ${a['perf.finding.severity'] ?? '?'}: ${a['perf.finding.message'] ?? ''}`;
      lines.push(info + paint('red', finding));
      const frames = callStack(a);
      frames.forEach((f, i) => lines.push(info + paint('dim', `    ${i === 0 ? 'at' : 'called from'} ${relative(f.file)}:${f.line}${f.fn ? ` (${f.fn})` : ''}`)));
      if (a['perf.finding.recommendation']) lines.push(info + paint('dim', `    -> ${a['perf.finding.recommendation']}`));
    }
    kids.forEach((kid, i) => {
      const last = i === kids.length - 1;
      visit(kid, childPrefix, last ? '└─ ' : '├─ ', childPrefix + paint('dim', last ? '   ' : '│  '), false);
    });
  };
  for (const s of tops) visit(s, '', '', '', true);
  return lines.join('\n');
}

/**
 * The finding's application frames, innermost first: `perf.finding.call_stack` (one
 * `at fn (file:line)` per line) when the agent sent it, else the single `code.*` frame.
 * @param {Record<string, unknown>} a
 */
function callStack(a) {
  const stack = a['perf.finding.call_stack'];
  if (typeof stack === 'string' && stack) {
    const frames = [];
    for (const line of stack.split('\n')) {
      const m = /^at (?:(.+) \((.+):(\d+)\)|(.+):(\d+))$/.exec(line.trim());
      if (m) frames.push(m[2] ? { fn: m[1], file: m[2], line: m[3] } : { file: m[4], line: m[5] });
    }
    if (frames.length) return frames;
  }
  if (!a['code.filepath']) return [];
  return [{ file: String(a['code.filepath']), line: a['code.lineno'], fn: a['code.function'] }];
}

/** @param {DecodedSpan} span @param {boolean} top @param {(style: keyof typeof ANSI, text: string) => string} paint */
function spanLine(span, top, paint) {
  const name = span.status.code === 2 ? paint('red', span.name) : top ? paint('bold', span.name) : span.name;
  let line = `${name} ${paint('yellow', `${span.durationMs.toFixed(1)} ms`)}`;
  if (span.status.code === 2) line += paint('red', ` ERROR${span.status.message ? ` ${span.status.message}` : ''}`);
  if (top && span.parentSpanId) line += paint('dim', ` (parent ${span.parentSpanId} not received)`);
  const composite = span.attributes['perf.composite.count'];
  if (composite != null) line += paint('magenta', ` x${composite} (${span.attributes['perf.composite.strategy']}, sum ${compact(span.attributes['perf.composite.sum_ms'])} ms)`);
  const statement = span.attributes['db.query.text'] ?? span.attributes['db.statement'];
  if (typeof statement === 'string' && statement) line += '  ' + paint('cyan', shorten(statement));
  return line;
}

/** @param {DecodedSpan} span @param {Map<string, DecodedSpan[]>} children */
function dbBelow(span, children) {
  let count = 0;
  let ms = 0;
  const stack = [...(children.get(span.spanId) || [])];
  const seen = new Set();
  while (stack.length) {
    const s = /** @type {DecodedSpan} */ (stack.pop());
    if (seen.has(s.spanId)) continue;
    seen.add(s.spanId);
    if (isDb(s)) {
      // A composite span stands for perf.composite.count queries taking perf.composite.sum_ms.
      count += Number(s.attributes['perf.composite.count'] ?? 1);
      ms += Number(s.attributes['perf.composite.sum_ms'] ?? s.durationMs);
    }
    stack.push(...(children.get(s.spanId) || []));
  }
  return { count, ms };
}

/** @param {string} file */
function relative(file) {
  const rel = require('node:path').relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** @param {DecodedSpan} s */
const isDb = (s) => s.attributes['db.system.name'] != null || s.attributes['db.system'] != null;

/** @param {string} sql */
function shorten(sql) {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > STATEMENT_MAX ? `${flat.slice(0, STATEMENT_MAX - 1)}…` : flat;
}

/** @param {unknown} v */
function compact(v) {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Math.round(v * 1000) / 1000);
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** @param {DecodedSpan[]} spans */
const earliest = (spans) => spans.reduce((min, s) => (s.startTimeUnixNano < min ? s.startTimeUnixNano : min), spans[0].startTimeUnixNano);

/** @param {bigint} a @param {bigint} b */
const compareStart = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

module.exports = { formatTraceTree };
