'use strict';
// normalizeSql from dist/sql: literals to `?`, whitespace and comments folded.

const { SHORT, LONG } = require('./lib/sql-corpus');
const { cycle, next } = require('./lib/cycle');

const requires = { 'sql': ['normalizeSql'] };

module.exports = [
  {
    name: `normalizeSql: short statements (${SHORT.length}, in turn)`,
    requires,
    setup: ({ 'sql': sql }) => ({ normalizeSql: sql.normalizeSql, c: cycle(SHORT) }),
    fn: (s) => s.normalizeSql(next(s.c)),
    baseline: 'plain loop: short statements',
  },
  {
    name: `normalizeSql: 100 KB statement (${LONG.length} chars)`,
    requires,
    setup: ({ 'sql': sql }) => ({ normalizeSql: sql.normalizeSql, text: LONG }),
    fn: (s) => s.normalizeSql(s.text),
    baseline: 'plain loop: 100 KB statement',
  },
];
