'use strict';
// The agent under test as the benchmark's preloads see it: its handle from dist/agent.js, found
// among the loaded modules (whichever dist/ the configuration loads), or undefined without one.
const path = require('node:path');

const AGENT_SUFFIX = `${path.sep}dist${path.sep}agent.js`;

function agentHandle() {
  for (const [id, mod] of Object.entries(require.cache)) {
    if (id.endsWith(AGENT_SUFFIX) && typeof mod.exports.getAgent === 'function') return mod.exports.getAgent();
  }
  return undefined;
}

module.exports = { agentHandle };
