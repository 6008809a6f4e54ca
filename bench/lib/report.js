'use strict';
// RESULTS.md: machine, command, figures per configuration, targets, per-round values (to judge
// the noise), failures and micro-benchmarks.

const { formatMicroTable } = require('../micro/run');

const num = (v, d = 0) => (v == null ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const x = (v) => (v == null ? '' : ` (x${v.toFixed(2)})`);

function header(ctx) {
  const m = ctx.machine;
  const lines = [
    `# ${ctx.title}`,
    '',
    `Written by \`bench/run.js\`; do not edit by hand. How to read it: \`bench/README.md\`.`,
    '',
    '```',
    ctx.command,
    '```',
    '',
    `- Date: ${m.date}; duration of the run: ${Math.round(ctx.wallSec)} s`,
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; load average at start ${m.loadAvg.join(' / ')}`,
    `- Node ${m.node}; commit ${m.gitCommit || 'unknown'}${m.gitDirtyFiles ? ` with ${m.gitDirtyFiles} uncommitted file(s)` : ''}; dist/ built ${m.distBuilt || 'never'}${ctx.options.dist ? ` (build ${ctx.options.dist.hash}, copied at start and used for every run)` : ''}`,
    `- ${ctx.options.rounds} round(s) x ${ctx.options.durationSec} s of load per configuration (after ${ctx.options.warmupSec} s of warm-up), ${ctx.options.connections} connections${ctx.options.rate ? `, at most ${ctx.options.rate} requests/s` : ""}; N+1 phase ${ctx.options.n1DurationSec} s per configuration and round`,
    `- Load: each connection sends, in turn, ${ctx.mixDescription}`,
  ];
  return lines.join('\n');
}

function loadTable(ctx) {
  const lines = [
    '## Mixed load',
    '',
    'Medians over rounds; (xN) = median over rounds of the ratio to `none` measured in the same round. CPU per request sent, from the start of the load to the exit (the final flush included). Warm-up CPU: the same during the warm-up load before it, while V8 still compiles. db CPU: the local PostgreSQL server\'s CPU over the measured load, per request: the same queries under every configuration, so it moves with the speed of the machine, not with the agent. Receiver CPU: the OTLP receiver decoding what was exported, on the same cores (not part of the app\'s cost, but it competes with the app for them). Heap used / total: V8\'s heap at the end of the load (the rest of RSS is code, native buffers and the allocator). Bytes and spans are per exported request trace; traces/req = exported request traces per request served; analyzed/req = traces the agent recorded and analyzed (sampled, or recorded for keep-findings) per request sent, a count that does not move with the machine\'s speed.',
    '',
    '| configuration | req/s | p50 ms | p99 ms | app CPU ms/req | warm-up CPU ms/req | db CPU ms/req | receiver CPU ms/req | peak RSS MiB | steady RSS MiB | heap used / total MiB | spans/trace | B/trace gzip | B/trace raw | traces/req | analyzed/req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const name of ctx.configNames) {
    const s = ctx.summary[name];
    const f = s.figures;
    const failed = s.failed.filter((e) => e.phase !== 'n1').length;
    const okRounds = f.rps.perRound.filter((v) => v != null).length;
    const label = `\`${name}\`${failed ? ` (${failed} failed)` : ''}`;
    if (okRounds === 0) {
      lines.push(`| ${label} | failed | | | | | | | | | | | | | |`);
      continue;
    }
    const isNone = name === 'none';
    lines.push(
      `| ${label} | ${num(f.rps.median)}${isNone ? '' : x(f.rps.ratio)} | ${num(f.p50Ms.median, 1)}${isNone ? '' : x(f.p50Ms.ratio)} | ${num(f.p99Ms.median, 1)}${isNone ? '' : x(f.p99Ms.ratio)} | ${num(f.cpuMsPerRequest.median, 2)}${isNone ? '' : x(f.cpuMsPerRequest.ratio)} | ${num(f.warmupCpuMsPerRequest.median, 2)}${isNone ? '' : x(f.warmupCpuMsPerRequest.ratio)} | ${num(f.dbCpuMsPerRequest.median, 2)} | ${num(f.receiverCpuMsPerRequest.median, 2)} | ${num(f.peakRssMiB.median, 1)} | ${num(f.steadyRssMiB.median, 1)} | ${num(f.heapUsedMiB.median, 1)} / ${num(f.heapTotalMiB.median, 1)} | ${num(f.spansPerTrace.median, 1)} | ${num(f.wireBytesPerTrace.median)} | ${num(f.rawBytesPerTrace.median)} | ${num(f.tracesPerRequest.median, 2)} | ${num(f.analyzedPerRequest.median, 3)} |`,
    );
  }
  return lines.join('\n');
}

function n1Table(ctx) {
  const lines = [
    '## N+1 requests only (`/members/1/payments`, 21 queries)',
    '',
    '(xN) = ratio to `otel` in the same round. "B/req" spreads the bytes over every request served, sampled or not.',
    '',
    '| configuration | spans/trace | B/trace gzip | B/trace raw | traces/req | B/req gzip |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const name of ctx.configNames) {
    if (name === 'none' || ctx.configByName[name].exports === 'none') continue;
    const s = ctx.summary[name];
    const f = s.figures;
    const okRounds = f.n1WireBytesPerTrace.perRound.filter((v) => v != null).length;
    const failed = s.failed.filter((e) => e.phase === 'n1').length;
    const label = `\`${name}\`${failed ? ` (${failed} failed)` : ''}`;
    if (okRounds === 0) {
      lines.push(`| ${label} | failed | | | | |`);
      continue;
    }
    const isOtel = name === 'otel';
    lines.push(
      `| ${label} | ${num(f.n1SpansPerTrace.median, 1)} | ${num(f.n1WireBytesPerTrace.median)}${isOtel ? '' : x(f.n1WireBytesPerTrace.ratio)} | ${num(f.n1RawBytesPerTrace.median)}${isOtel ? '' : x(f.n1RawBytesPerTrace.ratio)} | ${num(f.n1TracesPerRequest.median, 2)} | ${num(f.n1WireBytesPerRequest.median)}${isOtel ? '' : x(f.n1WireBytesPerRequest.ratio)} |`,
    );
  }
  return lines.join('\n');
}

function targetsTable(ctx) {
  const lines = ['## Targets', '', '| target | wanted | result | measured |', '|---|---|---|---|'];
  for (const t of ctx.targets) lines.push(`| ${t.target} | ${t.threshold} | **${t.status}** | ${t.measured} |`);
  return lines.join('\n');
}

function roundsTable(ctx) {
  const rounds = ctx.options.rounds;
  const head = Array.from({ length: rounds }, (_, i) => `round ${i + 1}`);
  const lines = [
    '## Per round (noise)',
    '',
    'req/s, then app CPU ms per request, then the 1-minute load average of the machine when the run started. A spread between rounds larger than the differences between configurations means those differences are noise.',
    '',
    `| configuration | ${head.join(' | ')} |`,
    `|---|${head.map(() => '---:').join('|')}|`,
  ];
  for (const name of ctx.configNames) {
    const f = ctx.summary[name].figures;
    const cells = head.map((_, i) => {
      const run = ctx.runs.find((r) => r.config === name && r.phase === 'load' && r.round === i + 1);
      if (!run) return '';
      if (!run.ok) return 'failed';
      return `${num(f.rps.perRound[i])} / ${num(f.cpuMsPerRequest.perRound[i], 2)} / ${num(run.loadAvg1m.start, 1)}`;
    });
    lines.push(`| \`${name}\` | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function problems(ctx) {
  const lines = [];
  for (const name of ctx.configNames) {
    const s = ctx.summary[name];
    for (const f of s.failed) lines.push(`- \`${name}\` round ${f.round} (${f.phase}) failed: ${oneLine(f.error)}`);
    for (const n of s.notes) lines.push(`- \`${name}\` ${n}`);
  }
  return lines.length ? ['## Failures and notes', '', ...lines].join('\n') : '';
}

function configList(ctx) {
  return ['## Configurations', '', ...ctx.configNames.map((n) => `- \`${n}\`: ${ctx.configByName[n].description}`)].join('\n');
}

function microSection(ctx) {
  if (!ctx.micro) return '## Micro-benchmarks\n\nNot run.';
  if (ctx.micro.error) return `## Micro-benchmarks\n\nFailed: ${oneLine(ctx.micro.error)}`;
  return [
    '## Micro-benchmarks',
    '',
    `\`node bench/micro/run.js${ctx.micro.profile === 'quick' ? ' --quick' : ''}\`: median of the samples, timed by this process's CPU time; spread = half the range of the samples; "x baseline" = time per operation over that of the benchmark's baseline (for the SQL functions: a plain loop reading every character of the same input).`,
    '',
    formatMicroTable(ctx.micro),
  ].join('\n');
}

function oneLine(text) {
  const first = String(text || '').split('\n')[0];
  return first.length > 300 ? `${first.slice(0, 300)}…` : first;
}

function renderResults(ctx) {
  return `${[header(ctx), targetsTable(ctx), loadTable(ctx), n1Table(ctx), roundsTable(ctx), problems(ctx), configList(ctx), microSection(ctx)]
    .filter(Boolean)
    .join('\n\n')}\n`;
}

function renderSoak(ctx) {
  const v = ctx.verdict;
  const run = ctx.soakRun;
  const lines = [
    `# ${ctx.title}`,
    '',
    '```',
    ctx.command,
    '```',
    '',
    `- Date: ${ctx.machine.date}; ${ctx.machine.cpuModel}, ${ctx.machine.cores} cores, Node ${ctx.machine.node}; commit ${ctx.machine.gitCommit || 'unknown'}`,
    `- \`${run.config}\` under the mixed load for ${ctx.options.durationSec} s; baseline \`none\` for ${ctx.baselineSec} s just before`,
    '',
  ];
  if (!run.ok) {
    lines.push(`**Soak failed**: ${oneLine(run.error)}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `- Throughput ${num(run.load.rps)} req/s, p99 ${num(run.load.p99Ms)} ms, app CPU ${num(run.cpu.perRequestMs, 2)} ms per request, ${num(run.load.requests)} requests`,
    `- RSS median ${num(v.earlyWindow[0])}-${num(v.earlyWindow[1])} s: ${num(v.earlyMiB, 1)} MiB, ${num(v.lateWindow[0])}-${num(v.lateWindow[1])} s: ${num(v.lateMiB, 1)} MiB, growth ${num(v.growthMiB, 1)} MiB (flat if <= ${num(v.allowedGrowthMiB, 1)}): **${v.flat == null ? 'N/A' : v.flat ? 'FLAT' : 'GROWING'}**`,
    `- Baseline without agent: ${num(ctx.baselineMiB, 1)} MiB; RSS above it at the end: ${num(v.overheadMiB, 1)} MiB (limit 100): **${v.underLimit == null ? 'N/A' : v.underLimit ? 'UNDER' : 'OVER'}**`,
    '',
    '| s | RSS MiB |',
    '|---:|---:|',
    ...ctx.series10s.map((s) => `| ${num(s.sec)} | ${num(s.mib, 1)} |`),
  );
  return `${lines.join('\n')}\n`;
}

module.exports = { renderResults, renderSoak };
