'use strict';
// The product's performance targets (README, Performance), checked against one run's figures. A target whose
// configurations did not run (or failed) is N/A, never a pass.

const { pairRatio } = require('./aggregate');

const fmt = (v, d = 2) => (v == null ? 'n/a' : v.toFixed(d));
const rounds = (values, d = 2) => values.map((v) => fmt(v, d)).join(', ');

function evaluateTargets(runs, summary, nRounds) {
  const has = (name) => summary[name] && summary[name].runs > summary[name].failed.length;
  const targets = [];

  // 1. Throughput at 100% not below plain OpenTelemetry's.
  {
    const t = { id: 'throughput-100', target: 'Throughput at 100% sampling (agent-dev) not below plain OpenTelemetry (otel)', threshold: '>= 1.00' };
    if (has('agent-dev') && has('otel')) {
      const r = pairRatio(runs, nRounds, 'rps', 'agent-dev', 'otel');
      const cpu = pairRatio(runs, nRounds, 'cpuMsPerRequest', 'agent-dev', 'otel');
      t.value = r.median;
      t.status = r.median == null ? 'N/A' : r.median >= 1 ? 'PASS' : 'MISS';
      t.measured = `req/s agent-dev / otel = ${fmt(r.median)} (rounds: ${rounds(r.perRound)}); CPU per request agent-dev / otel = ${fmt(cpu.median)} (rounds: ${rounds(cpu.perRound)})`;
    } else {
      t.status = 'N/A';
      t.measured = 'needs agent-dev and otel';
    }
    targets.push(t);
  }

  // 2. Production sampling: at least 0.95 of the uninstrumented throughput.
  {
    const t = { id: 'throughput-prod', target: 'At production sampling (agent-prod): at least 0.95 of the throughput without agent', threshold: '>= 0.95' };
    if (has('agent-prod') && has('none')) {
      const f = summary['agent-prod'].figures;
      t.value = f.rps.ratio;
      t.status = t.value == null ? 'N/A' : t.value >= 0.95 ? 'PASS' : 'MISS';
      t.measured = `req/s agent-prod / none = ${fmt(t.value)} (rounds: ${rounds(f.rps.ratioPerRound)}); CPU per request x${fmt(f.cpuMsPerRequest.ratio)} of none`;
    } else {
      t.status = 'N/A';
      t.measured = 'needs agent-prod and none';
    }
    targets.push(t);
  }

  // 3. Exported bytes per N+1 trace: at most 30% of plain OpenTelemetry's.
  {
    const t = { id: 'bytes-n1', target: 'Exported bytes (gzip, on the wire) per N+1 trace: at most 30% of plain OpenTelemetry', threshold: '<= 0.30' };
    if (has('agent-dev') && has('otel')) {
      const r = pairRatio(runs, nRounds, 'n1WireBytesPerTrace', 'agent-dev', 'otel');
      const otelB = summary.otel.figures.n1WireBytesPerTrace.median;
      const devB = summary['agent-dev'].figures.n1WireBytesPerTrace.median;
      t.value = r.median;
      t.status = r.median == null ? 'N/A' : r.median <= 0.3 ? 'PASS' : 'MISS';
      t.measured = `agent-dev ${fmt(devB, 0)} B / otel ${fmt(otelB, 0)} B = ${fmt(r.median)} (rounds: ${rounds(r.perRound)})`;
      if (has('agent-prod')) {
        const p = pairRatio(runs, nRounds, 'n1WireBytesPerTrace', 'agent-prod', 'otel');
        t.measured += `; agent-prod ${fmt(p.median)}`;
      }
    } else {
      t.status = 'N/A';
      t.measured = 'needs agent-dev and otel';
    }
    targets.push(t);
  }

  // 4. Memory: only a soak can say "flat"; the load runs give an indication.
  {
    const t = { id: 'memory', target: 'Agent memory under sustained load: flat, under PERF_AGENT_MEMORY_LIMIT_MB (100)', threshold: 'flat, < 100 MiB' };
    t.status = 'NOT MEASURED';
    if (has('agent-prod') && has('none')) {
      const extra = summary['agent-prod'].figures.steadyRssMiB.median - summary.none.figures.steadyRssMiB.median;
      t.measured = `needs --soak; indication from ${summary['agent-prod'].figures.rps.perRound.length} short run(s): steady RSS agent-prod - none = ${fmt(extra, 1)} MiB`;
    } else {
      t.measured = 'needs --soak';
    }
    targets.push(t);
  }
  // 5. Admin API: p99 under 50 ms while the app is under load.
  {
    const t = { id: 'admin-p99', target: 'Admin API (agent-prod-admin): p99 latency under 50 ms while the app is under load', threshold: '< 50 ms' };
    const probes = runs.filter((r) => r.config === 'agent-prod-admin' && r.ok && r.admin && r.admin.requests > 0).map((r) => r.admin);
    if (probes.length > 0) {
      const p99s = probes.map((p) => p.p99);
      const worst = Math.max(...p99s);
      t.value = worst;
      t.status = worst < 50 ? 'PASS' : 'MISS';
      t.measured = `p99 per round ${rounds(p99s, 1)} ms (p50 ${rounds(probes.map((p) => p.p50), 1)} ms; ${probes.reduce((n, p) => n + p.requests, 0)} requests, ${probes.reduce((n, p) => n + p.failures, 0)} failed)`;
    } else {
      t.status = 'N/A';
      t.measured = 'needs agent-prod-admin load runs';
    }
    targets.push(t);
  }

  // 6-8. Production cost (CPU per request on the N+1 mix, medians of per-round ratios).
  const cpuTarget = (id, target, limit, a, b, extra) => {
    const t = { id, target, threshold: `<= ${limit.toFixed(2)}` };
    if (has(a) && has(b)) {
      const r = pairRatio(runs, nRounds, 'cpuMsPerRequest', a, b);
      t.value = r.median;
      t.status = r.median == null ? 'N/A' : r.median <= limit ? 'PASS' : 'MISS';
      t.measured = `CPU per request ${a} / ${b} = ${fmt(r.median)} (rounds: ${rounds(r.perRound)})`;
      const w = pairRatio(runs, nRounds, 'warmupCpuMsPerRequest', a, b);
      if (w.median != null) t.measured += `; during the warm-up ${fmt(w.median)}`;
      const d = pairRatio(runs, nRounds, 'cpuPerDbCpu', a, b);
      if (d.median != null) t.measured += `; in units of the database's CPU ${fmt(d.median)} (rounds: ${rounds(d.perRound)})`;
      for (const [x, y] of extra) {
        if (!has(x) || !has(y)) continue;
        const e = pairRatio(runs, nRounds, 'cpuMsPerRequest', x, y);
        t.measured += `; ${x} / ${y} = ${fmt(e.median)}`;
      }
    } else {
      t.status = 'N/A';
      t.measured = `needs ${a} and ${b}`;
    }
    targets.push(t);
  };
  cpuTarget('cpu-prod', 'CPU per request at production defaults (agent-prod) at most 1.3x no agent', 1.3, 'agent-prod', 'none', [
    ['agent-prod-admin', 'none'],
    ['agent-prod-nokeep', 'none'],
    ['agent-prod-unsampled', 'none'],
    ['otel-ratio-0', 'none'],
    ['context-only', 'none'],
  ]);
  cpuTarget('cpu-prod-floor', 'CPU per request at production defaults (agent-prod) at or below plain OpenTelemetry sampling nothing (otel-ratio-0)', 1, 'agent-prod', 'otel-ratio-0', [
    ['agent-prod-admin', 'otel-ratio-0'],
    ['agent-prod-unsampled', 'otel-ratio-0'],
  ]);
  cpuTarget('cpu-dev', 'CPU per request at 100% (agent-dev) at or below plain OpenTelemetry at 100% (otel)', 1, 'agent-dev', 'otel', []);

  return targets;
}

/**
 * Soak verdict: flat = the median RSS of the last minute is at most max(5 MiB, 5%) above the
 * median of the second minute (the first is warm-up; shorter soaks scale both windows down);
 * under the limit = final RSS minus the steady RSS of the no-agent baseline below 100 MiB.
 */
function evaluateSoak(series, baselineMiB, limitMiB = 100) {
  const window = (from, to) => series.filter((s) => s.sec >= from && s.sec < to).map((s) => s.mib);
  const med = (v) => (v.length ? [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] : null);
  const end = series.length ? series[series.length - 1].sec : 0;
  const earlyWindow = [Math.min(60, end / 4), Math.min(120, end / 2)];
  const lateWindow = [end - Math.min(60, end / 4), end];
  const early = med(window(earlyWindow[0], earlyWindow[1]));
  const late = med(window(lateWindow[0], lateWindow[1] + 1));
  const growth = early != null && late != null ? late - early : null;
  const allowed = early != null ? Math.max(5, early * 0.05) : null;
  const overhead = late != null && baselineMiB != null ? late - baselineMiB : null;
  return {
    earlyWindow,
    lateWindow,
    earlyMiB: early,
    lateMiB: late,
    growthMiB: growth,
    allowedGrowthMiB: allowed,
    flat: growth == null ? null : growth <= allowed,
    overheadMiB: overhead,
    underLimit: overhead == null ? null : overhead < limitMiB,
  };
}

module.exports = { evaluateTargets, evaluateSoak };
