'use strict';
// Small helpers shared by the route modules: JSON replies and request validation.

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

const MAX_INT4 = 2147483647;

/** A path id must be a positive int4, or the database would reject it with a 500. */
function parseId(raw) {
  if (!/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > MAX_INT4) {
    throw new HttpError(400, `invalid id ${JSON.stringify(raw)}: expected a positive integer`);
  }
  return Number(raw);
}

function parseIntParam(params, name, { min, max, fallback }) {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw)) throw new HttpError(400, `invalid ${name} ${JSON.stringify(raw)}: expected an integer`);
  const value = Number(raw);
  if (value < min || value > max) throw new HttpError(400, `invalid ${name} ${value}: expected ${min}-${max}`);
  return value;
}

module.exports = { HttpError, sendJson, parseId, parseIntParam };
