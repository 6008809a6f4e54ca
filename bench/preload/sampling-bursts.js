'use strict';
// An experiment, not a configuration of the run: does recording cost less per recorded request
// when the recorded requests come together? Preloaded through NODE_OPTIONS in a configuration of
// one's own (BENCH_EXTRA_CONFIGS), after the agent has started:
// - BENCH_BURST_MODE=burst: every second, sampling rate 1 for BENCH_BURST_ON_MS (default 100),
//   then 0 for the rest of the second: the same share as rate 0.1, recorded in bursts;
// - BENCH_BURST_MODE=spread: sets rate BENCH_BURST_RATE (default 0.1) at the same moments, so
//   that the cost of the updates themselves is in both.
// Run it with keep-findings off and the trace limit lifted, so the rate alone decides.
const mode = process.env.BENCH_BURST_MODE;

if (mode === 'burst' || mode === 'spread') {
  const { agentHandle } = require('./agent-handle');
  const onMs = Number(process.env.BENCH_BURST_ON_MS || 100);
  const rate = Number(process.env.BENCH_BURST_RATE || 0.1);
  if (!(onMs > 0 && onMs < 1000)) throw new Error(`BENCH_BURST_ON_MS=${process.env.BENCH_BURST_ON_MS}: expected milliseconds between 0 and 1000`);
  if (!(rate >= 0 && rate <= 1)) throw new Error(`BENCH_BURST_RATE=${process.env.BENCH_BURST_RATE}: expected a rate from 0 to 1`);
  const setRate = (r) => {
    const result = agentHandle()?.updateConfig({ 'sampling.rate': r });
    if (result && !result.ok) process.stderr.write(`sampling-bursts: ${JSON.stringify(result.issues)}\n`);
  };
  setInterval(() => {
    setRate(mode === 'burst' ? 1 : rate);
    setTimeout(() => setRate(mode === 'burst' ? 0 : rate), onMs).unref();
  }, 1000).unref();
}
