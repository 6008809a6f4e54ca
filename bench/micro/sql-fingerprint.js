'use strict';
// fingerprint from dist/sql: FNV-1a 64 over the UTF-8 bytes of a normalized statement.
// Inputs are normalized once in setup, as the agent fingerprints only normalized text.

const { SHORT, LONG } = require('./lib/sql-corpus');
const { cycle, next } = require('./lib/cycle');

const requires = { 'sql': ['normalizeSql', 'fingerprint'] };

module.exports = [
  {
    name: 'fingerprint: short normalized statements',
    requires,
    setup: ({ 'sql': sql }) => ({ fingerprint: sql.fingerprint, c: cycle(SHORT.map((t) => sql.normalizeSql(t))) }),
    fn: (s) => s.fingerprint(next(s.c)),
    baseline: 'plain loop: short statements',
  },
  {
    // The normalized 100 KB INSERT collapses to one tuple; fingerprint the raw text too, as the
    // worst case of a statement that does not collapse.
    name: 'fingerprint: 100 KB text',
    requires,
    setup: ({ 'sql': sql }) => ({ fingerprint: sql.fingerprint, text: LONG }),
    fn: (s) => s.fingerprint(s.text),
    baseline: 'plain loop: 100 KB statement',
  },
];
