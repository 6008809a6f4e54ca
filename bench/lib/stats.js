'use strict';
// Small statistics helpers; every function ignores values that are not finite numbers.

function finite(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v));
}

function quantile(values, q) {
  const v = finite(values).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

function median(values) {
  return quantile(values, 0.5);
}

function min(values) {
  const v = finite(values);
  return v.length ? Math.min(...v) : null;
}

function max(values) {
  const v = finite(values);
  return v.length ? Math.max(...v) : null;
}

/** a / b, or null when either is missing or b is 0. */
function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

module.exports = { quantile, median, min, max, ratio };
