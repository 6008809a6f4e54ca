'use strict';
// The two CPU-probe marks between which a profiling preload measures (measured-window.js,
// perf-window.js). bench/run.js's measured load lies between marks 2 and 3; bench/interleave.js
// makes two marks a slice (its start and its end), so 1,20 is its first ten slices.

/** `spec` is "FROM,TO" from the variable `name`; unset gives run.js's window. */
function windowMarks(name, spec) {
  if (!spec) return [2, 3];
  const [from, to] = spec.split(',').map(Number);
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 1 && to > from)) {
    throw new Error(`${name}=${JSON.stringify(spec)}: expected two whole numbers FROM,TO with 1 <= FROM < TO`);
  }
  return [from, to];
}

module.exports = { windowMarks };
