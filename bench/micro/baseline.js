'use strict';
// Plain loops over the same inputs as the SQL benchmarks: one pass reading every char code, the
// least work any one-pass normalizer or hash has to do. The SQL rows show how many times this
// they cost ("x baseline").

const { SHORT, LONG } = require('./lib/sql-corpus');
const { cycle, next, plainLoop } = require('./lib/cycle');

module.exports = [
  {
    name: 'plain loop: short statements',
    setup: () => cycle(SHORT),
    fn: (c) => plainLoop(next(c)),
  },
  {
    name: 'plain loop: 100 KB statement',
    setup: () => LONG,
    fn: (text) => plainLoop(text),
  },
];
