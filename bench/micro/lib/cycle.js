'use strict';
// A cursor over a list of inputs: one benchmark call = one input, taken in turn.

function cycle(items) {
  return { items, i: 0, n: items.length };
}

function next(c) {
  const item = c.items[c.i];
  if (++c.i === c.n) c.i = 0;
  return item;
}

/** The least work a single pass over a string can do: read every char code. */
function plainLoop(text) {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h + text.charCodeAt(i)) | 0;
  return h;
}

module.exports = { cycle, next, plainLoop };
