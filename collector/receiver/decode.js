'use strict';
// Decodes OTLP/HTTP trace export bodies (protobuf or JSON) into one flat, normalized span list.
// Both encodings go through the same normalizer: protobufjs messages and parsed OTLP JSON differ
// only in how ids (bytes vs hex), 64-bit integers (Long vs string/number) and enums arrive.

const path = require('node:path');
const protobuf = require('protobufjs');

const root = protobuf.loadSync(path.join(__dirname, 'otlp-trace.proto'));
const ExportTraceServiceRequest = root.lookupType('otlp.ExportTraceServiceRequest');

const SPAN_KINDS = {
  SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/**
 * Types live in index.d.ts, so JS and TypeScript callers share one definition.
 * @typedef {import('./index').DecodedSpan} DecodedSpan
 * @typedef {import('./index').Attributes} Attributes
 * @typedef {import('./index').AttributeValue} AttributeValue
 */

/**
 * @param {Uint8Array} buffer uncompressed request body
 * @param {string} [contentType] `application/x-protobuf` (default) or `application/json`, parameters ignored
 * @returns {DecodedSpan[]}
 */
function decodeTraceRequest(buffer, contentType = 'application/x-protobuf') {
  const type = String(contentType).split(';')[0].trim().toLowerCase();
  let request;
  if (type === 'application/json') {
    request = JSON.parse(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).toString('utf8'));
  } else if (type === 'application/x-protobuf' || type === 'application/protobuf') {
    request = ExportTraceServiceRequest.decode(buffer);
  } else {
    throw new Error(`unsupported content type: ${contentType}`);
  }
  return normalizeRequest(request);
}

/** @param {any} request */
function normalizeRequest(request) {
  /** @type {DecodedSpan[]} */
  const out = [];
  for (const rs of list(get(request, 'resourceSpans', 'resource_spans'))) {
    // Shared by every span of this ResourceSpans/ScopeSpans: cheap, but callers must not mutate.
    const resource = { attributes: attributes(get(rs.resource, 'attributes')) };
    for (const ss of list(get(rs, 'scopeSpans', 'scope_spans'))) {
      const scope = { name: str(get(ss.scope, 'name')), version: str(get(ss.scope, 'version')) };
      for (const s of list(ss.spans)) out.push(normalizeSpan(s, resource, scope));
    }
  }
  return out;
}

/** @param {any} s @param {{ attributes: Attributes }} resource @param {{ name: string, version: string }} scope */
function normalizeSpan(s, resource, scope) {
  const start = nanos(get(s, 'startTimeUnixNano', 'start_time_unix_nano'));
  const end = nanos(get(s, 'endTimeUnixNano', 'end_time_unix_nano'));
  const status = s.status || {};
  return {
    traceId: id(get(s, 'traceId', 'trace_id')),
    spanId: id(get(s, 'spanId', 'span_id')),
    parentSpanId: id(get(s, 'parentSpanId', 'parent_span_id')),
    traceState: str(get(s, 'traceState', 'trace_state')),
    name: str(s.name),
    kind: enumNumber(s.kind, SPAN_KINDS),
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    durationMs: Number(end - start) / 1e6,
    attributes: attributes(s.attributes),
    events: list(s.events).map((e) => ({
      name: str(e.name),
      timeUnixNano: nanos(get(e, 'timeUnixNano', 'time_unix_nano')),
      attributes: attributes(e.attributes),
    })),
    links: list(s.links).map((l) => ({
      traceId: id(get(l, 'traceId', 'trace_id')),
      spanId: id(get(l, 'spanId', 'span_id')),
      traceState: str(get(l, 'traceState', 'trace_state')),
      attributes: attributes(l.attributes),
    })),
    status: { code: enumNumber(status.code, STATUS_CODES), message: str(status.message) },
    resource,
    scope,
  };
}

/** @param {any} kvs @returns {Attributes} */
function attributes(kvs) {
  /** @type {Attributes} */
  const out = {};
  for (const kv of list(kvs)) out[str(kv.key)] = anyValue(kv.value);
  return out;
}

// protobufjs puts proto3 defaults on the message prototype, so only an own property tells which
// member of the AnyValue oneof was actually sent; parsed JSON has only own properties anyway.
const hasOwn = (/** @type {any} */ o, /** @type {string} */ k) =>
  Object.prototype.hasOwnProperty.call(o, k) && o[k] != null;

/** @param {any} v @returns {AttributeValue} */
function anyValue(v) {
  if (v == null) return null;
  if (hasOwn(v, 'stringValue')) return v.stringValue;
  if (hasOwn(v, 'string_value')) return v.string_value;
  if (hasOwn(v, 'boolValue')) return Boolean(v.boolValue);
  if (hasOwn(v, 'bool_value')) return Boolean(v.bool_value);
  // int64 is assumed to be within the safe integer range (attributes in practice are).
  if (hasOwn(v, 'intValue')) return int(v.intValue);
  if (hasOwn(v, 'int_value')) return int(v.int_value);
  if (hasOwn(v, 'doubleValue')) return Number(v.doubleValue);
  if (hasOwn(v, 'double_value')) return Number(v.double_value);
  const arr = get(v, 'arrayValue', 'array_value');
  if (arr != null) return list(arr.values).map(anyValue);
  const kvl = get(v, 'kvlistValue', 'kvlist_value');
  if (kvl != null) return attributes(kvl.values);
  const bytes = get(v, 'bytesValue', 'bytes_value');
  if (bytes != null) return typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : bytes;
  return null;
}

/** @param {any} o @param {string} camel @param {string} [snake] */
function get(o, camel, snake) {
  if (o == null) return undefined;
  const v = o[camel];
  return v === undefined && snake ? o[snake] : v;
}

/** @param {any} v @returns {any[]} */
const list = (v) => (Array.isArray(v) ? v : []);

/** @param {any} v @returns {string} */
const str = (v) => (v == null ? '' : String(v));

/** Ids are bytes in protobuf and hex strings in OTLP JSON. @param {any} v */
function id(v) {
  if (typeof v === 'string') return v.toLowerCase();
  // An absent bytes field is protobufjs's prototype default, an empty array.
  if (v == null || !v.length) return '';
  return (Buffer.isBuffer(v) ? v : Buffer.from(v)).toString('hex');
}

/** fixed64 arrives as a Long from protobufjs, a decimal string (or number) in JSON. @param {any} v */
function nanos(v) {
  if (v == null || v === '') return 0n;
  if (typeof v === 'object') return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return BigInt(v);
}

/** int64: a Long from protobufjs, a string (spec) or number (OpenTelemetry JS) in JSON. @param {any} v */
const int = (v) => (typeof v === 'object' ? v.toNumber() : Number(v));

/** @param {any} v @param {Record<string, number>} names */
function enumNumber(v, names) {
  if (typeof v === 'string') return names[v] ?? (Number(v) || 0);
  return Number(v) || 0;
}

module.exports = { decodeTraceRequest };
