'use strict';
// StatementCache from dist/sql: the memo the agent puts in front of normalize +
// fingerprint on every query span.

const { SHORT, LONG } = require('./lib/sql-corpus');
const { cycle, next } = require('./lib/cycle');

const requires = { 'sql': ['StatementCache'] };
const ENTRIES = 2000;

module.exports = [
  {
    name: 'StatementCache.get: hit (short statements, warm cache)',
    requires,
    setup: ({ 'sql': sql }) => {
      const cache = new sql.StatementCache(ENTRIES);
      for (const text of SHORT) cache.get(text);
      return { cache, c: cycle(SHORT) };
    },
    fn: (s) => s.cache.get(next(s.c)),
    baseline: 'plain loop: short statements',
  },
  {
    name: 'StatementCache.get: miss (caching off: normalize + fingerprint)',
    requires,
    setup: ({ 'sql': sql }) => ({ cache: new sql.StatementCache(0), c: cycle(SHORT) }),
    fn: (s) => s.cache.get(next(s.c)),
    baseline: 'plain loop: short statements',
  },
  {
    name: 'StatementCache.get: 100 KB statement (too long to cache)',
    requires,
    setup: ({ 'sql': sql }) => ({ cache: new sql.StatementCache(ENTRIES), text: LONG }),
    fn: (s) => s.cache.get(s.text),
    baseline: 'plain loop: 100 KB statement',
  },
];
