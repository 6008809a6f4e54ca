'use strict';
// The table both profile summaries print: µs per request by owner (or function), one column per
// configuration, the rows with the largest figure in any column first.

/**
 * @param {Map<string, {requests: number, runs: number, rows: Map<string, number>, total: number}>} groups
 *   per configuration: requests served in its windows, windows (runs), µs per row, µs in all
 */
function printOwnerTable(title, groups, top, totalLabel) {
  const names = [...groups.keys()].sort();
  const keys = new Map();
  for (const name of names) {
    const g = groups.get(name);
    for (const [k, v] of g.rows) keys.set(k, Math.max(keys.get(k) || 0, v / g.requests));
  }
  const rows = [...keys].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k]) => k);
  const width = Math.max(...rows.map((k) => k.length), totalLabel.length, 10);
  const column = (n) => Math.max(n.length + 2, 14);
  console.log(title);
  console.log(''.padEnd(width) + names.map((n) => n.padStart(column(n))).join(''));
  console.log('requests'.padEnd(width) + names.map((n) => `${groups.get(n).requests} in ${groups.get(n).runs}`.padStart(column(n))).join(''));
  for (const k of rows) console.log(k.padEnd(width) + names.map((n) => ((groups.get(n).rows.get(k) || 0) / groups.get(n).requests).toFixed(1).padStart(column(n))).join(''));
  console.log(totalLabel.padEnd(width) + names.map((n) => (groups.get(n).total / groups.get(n).requests).toFixed(1).padStart(column(n))).join(''));
}

module.exports = { printOwnerTable };
