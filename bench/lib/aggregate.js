'use strict';
// From runs to figures: per configuration, the median over rounds of each figure, and the
// median over rounds of its ratio to a reference configuration measured in the same round.

const { median, min, max, ratio } = require('./stats');

const per = (num, den) => (typeof num === 'number' && den > 0 ? num / den : null);

/**
 * phase: which run a figure comes from ('load' = the mixed load, 'n1' = N+1 requests only).
 * ratioTo: the configuration each round's value is divided by.
 */
const FIGURES = [
  { key: 'rps', phase: 'load', ratioTo: 'none', get: (r) => r.load.rps },
  { key: 'p50Ms', phase: 'load', ratioTo: 'none', get: (r) => r.load.p50Ms },
  { key: 'p99Ms', phase: 'load', ratioTo: 'none', get: (r) => r.load.p99Ms },
  { key: 'cpuMsPerRequest', phase: 'load', ratioTo: 'none', get: (r) => r.cpu && r.cpu.perRequestMs },
  { key: 'warmupCpuMsPerRequest', phase: 'load', ratioTo: 'none', get: (r) => r.cpu && r.cpu.perRequestWarmupMs },
  { key: 'cpuMsPerRequestLoadOnly', phase: 'load', ratioTo: 'none', get: (r) => r.cpu && r.cpu.perRequestLoadOnlyMs },
  { key: 'receiverCpuMsPerRequest', phase: 'load', get: (r) => r.receiverCpuMsPerRequest },
  { key: 'dbCpuMsPerRequest', phase: 'load', ratioTo: 'none', get: (r) => r.dbCpuMsPerRequest },
  // App CPU in units of the database's CPU for the same requests: what the machine's speed of the moment cancels out of.
  { key: 'cpuPerDbCpu', phase: 'load', ratioTo: 'none', get: (r) => (r.cpu && r.dbCpuMsPerRequest > 0 ? r.cpu.perRequestLoadOnlyMs / r.dbCpuMsPerRequest : null) },
  { key: 'harnessCpuMsPerRequest', phase: 'load', get: (r) => r.harnessCpuMsPerRequest },
  { key: 'peakRssMiB', phase: 'load', ratioTo: 'none', get: (r) => r.rss && r.rss.maxRssMiB },
  { key: 'steadyRssMiB', phase: 'load', ratioTo: 'none', get: (r) => r.rss && r.rss.steadyMiB },
  { key: 'heapUsedMiB', phase: 'load', ratioTo: 'none', get: (r) => r.cpu && r.cpu.heapUsedAtEndMiB },
  { key: 'heapTotalMiB', phase: 'load', ratioTo: 'none', get: (r) => r.cpu && r.cpu.heapTotalAtEndMiB },
  { key: 'spansPerTrace', phase: 'load', get: (r) => per(r.telemetry.spans, r.telemetry.traces) },
  { key: 'wireBytesPerTrace', phase: 'load', ratioTo: 'otel', get: (r) => per(r.telemetry.wireBytes, r.telemetry.traces) },
  { key: 'rawBytesPerTrace', phase: 'load', ratioTo: 'otel', get: (r) => per(r.telemetry.rawBytes, r.telemetry.traces) },
  { key: 'tracesPerRequest', phase: 'load', get: (r) => per(r.telemetry.traces, r.servedRequests) },
  { key: 'analyzedPerRequest', phase: 'load', get: (r) => r.cpu && r.cpu.analyzedPerRequest },
  { key: 'n1SpansPerTrace', phase: 'n1', get: (r) => per(r.telemetry.spans, r.telemetry.traces) },
  { key: 'n1WireBytesPerTrace', phase: 'n1', ratioTo: 'otel', get: (r) => per(r.telemetry.wireBytes, r.telemetry.traces) },
  { key: 'n1RawBytesPerTrace', phase: 'n1', ratioTo: 'otel', get: (r) => per(r.telemetry.rawBytes, r.telemetry.traces) },
  { key: 'n1TracesPerRequest', phase: 'n1', get: (r) => per(r.telemetry.traces, r.servedRequests) },
  { key: 'n1WireBytesPerRequest', phase: 'n1', ratioTo: 'otel', get: (r) => per(r.telemetry.allWireBytes, r.servedRequests) },
];

function value(fig, run) {
  if (!run || !run.ok) return null;
  try {
    const v = fig.get(run);
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * @param {any[]} runs  every run, each with .round, .config, .phase, .ok
 * @param {string[]} configNames  in display order
 * @param {number} rounds
 */
function aggregate(runs, configNames, rounds) {
  const find = (config, phase, round) => runs.find((r) => r.config === config && r.phase === phase && r.round === round);
  const out = {};
  for (const name of configNames) {
    const mine = runs.filter((r) => r.config === name);
    const entry = {
      runs: mine.length,
      failed: mine.filter((r) => !r.ok).map((r) => ({ round: r.round, phase: r.phase, error: r.error })),
      notes: mine.flatMap((r) => (r.notes || []).map((n) => `round ${r.round} ${r.phase}: ${n}`)),
      figures: {},
    };
    for (const fig of FIGURES) {
      const perRound = [];
      const ratios = [];
      for (let round = 1; round <= rounds; round++) {
        const v = value(fig, find(name, fig.phase, round));
        perRound.push(v);
        if (fig.ratioTo) ratios.push(ratio(v, value(fig, find(fig.ratioTo, fig.phase, round))));
      }
      entry.figures[fig.key] = {
        median: median(perRound),
        min: min(perRound),
        max: max(perRound),
        perRound,
        ...(fig.ratioTo ? { ratioTo: fig.ratioTo, ratio: median(ratios), ratioPerRound: ratios } : {}),
      };
    }
    out[name] = entry;
  }
  return out;
}

/** Median over rounds of a figure's ratio between two configurations of the same round. */
function pairRatio(runs, rounds, key, config, base) {
  const fig = FIGURES.find((f) => f.key === key);
  const find = (c, round) => runs.find((r) => r.config === c && r.phase === fig.phase && r.round === round);
  const ratios = [];
  for (let round = 1; round <= rounds; round++) ratios.push(ratio(value(fig, find(config, round)), value(fig, find(base, round))));
  return { median: median(ratios), perRound: ratios };
}

module.exports = { aggregate, pairRatio, FIGURES };
