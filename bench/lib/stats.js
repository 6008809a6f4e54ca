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

/** Least-squares slope of y over x (per unit of x), or null with fewer than 2 points. */
function slope(points) {
  const p = points.filter((pt) => Number.isFinite(pt.x) && Number.isFinite(pt.y));
  if (p.length < 2) return null;
  const mx = p.reduce((s, pt) => s + pt.x, 0) / p.length;
  const my = p.reduce((s, pt) => s + pt.y, 0) / p.length;
  let num = 0;
  let den = 0;
  for (const pt of p) {
    num += (pt.x - mx) * (pt.y - my);
    den += (pt.x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

module.exports = { quantile, median, min, max, ratio, slope };
