'use strict';
// The configurations the same application runs under. Each one is a list of preloads and the
// environment they read; `exports` says where its telemetry goes (and so what to count).

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST_REGISTER = path.join(ROOT, 'dist', 'register.js');

/** The dist/ the agent configurations load: the repository's, or a snapshot (see dist.js). */
let distDir = path.join(ROOT, 'dist');
function useDist(dir) {
  distDir = dir;
}
function agentRegister() {
  return path.join(distDir, 'register.js');
}
const PLAIN_OTEL = path.join(ROOT, 'bench', 'preload', 'plain-otel.js');
const CONTEXT_ONLY = path.join(ROOT, 'bench', 'preload', 'context-only.js');

function elasticStart() {
  try {
    return require.resolve('elastic-apm-node/start', { paths: [ROOT] });
  } catch {
    return null;
  }
}

/**
 * @typedef {object} BenchConfig
 * @property {string} name
 * @property {string} description
 * @property {() => string[]} preloads  modules for `--require`, resolved when the run starts
 * @property {Record<string, string>} env
 * @property {'none' | 'otlp' | 'elastic'} exports  where traces go; 'none' = none are expected
 * @property {boolean} [needsDist]  uses the agent's dist/
 * @property {boolean} [mayFail]    a failure is reported, never fatal (third-party agents)
 * @property {boolean} [quick]      part of --quick
 * @property {boolean} [extra]      only with --only (cost breakdowns of plain OpenTelemetry)
 * @property {boolean} [adminProbe] turn on the admin API and time it during the measured load
 */

/** @type {BenchConfig[]} */
const CONFIGS = [
  {
    name: 'none',
    description: 'no agent',
    preloads: () => [],
    env: {},
    exports: 'none',
    quick: true,
  },
  {
    name: 'otel',
    description: 'plain OpenTelemetry: sdk-node + http + pg, BatchSpanProcessor, OTLP proto + gzip, 100%',
    preloads: () => [PLAIN_OTEL],
    env: {},
    exports: 'otlp',
    quick: true,
  },
  {
    name: 'otel-ratio-0.1',
    description: 'the same with ParentBased(TraceIdRatioBased(0.1))',
    preloads: () => [PLAIN_OTEL],
    env: { BENCH_OTEL_RATIO: '0.1' },
    exports: 'otlp',
  },
  {
    name: 'agent-dev',
    description: 'this agent, PERF_AGENT_ENV=development (100%, analysis, compression), trace rate limit lifted: every request recorded and exported, as otel does',
    preloads: () => [agentRegister()],
    // The 100 traces a second of the default limit would leave most requests of this load
    // unsampled, and the comparison with plain OpenTelemetry at 100% would not be one.
    env: { PERF_AGENT_ENV: 'development', PERF_AGENT_SAMPLING_MAX_TRACES_PER_SECOND: '1000000' },
    exports: 'otlp',
    needsDist: true,
    quick: true,
  },
  {
    name: 'agent-prod',
    description: 'this agent, PERF_AGENT_ENV=production: the production defaults (10%, keep-findings on, admin API off)',
    preloads: () => [agentRegister()],
    env: { PERF_AGENT_ENV: 'production' },
    exports: 'otlp',
    needsDist: true,
    quick: true,
  },
  {
    name: 'agent-prod-admin',
    description: 'this agent, production with the admin API on (PERF_AGENT_ADMIN_PORT), polled ten times a second during the load',
    preloads: () => [agentRegister()],
    env: { PERF_AGENT_ENV: 'production' },
    exports: 'otlp',
    needsDist: true,
    quick: true,
    // The admin API's target: answers with p99 under 50 ms while the app is under load.
    adminProbe: true,
  },
  {
    name: 'agent-prod-nokeep',
    description: 'this agent, production with PERF_AGENT_SAMPLING_KEEP_FINDINGS=false',
    preloads: () => [agentRegister()],
    env: { PERF_AGENT_ENV: 'production', PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'false' },
    exports: 'otlp',
    needsDist: true,
  },
  {
    name: 'agent-prod-unsampled',
    description: 'this agent, production with rate 0 and keep-findings off: every request takes the unsampled path (compare with otel-ratio-0)',
    preloads: () => [agentRegister()],
    env: { PERF_AGENT_ENV: 'production', PERF_AGENT_SAMPLING_RATE: '0', PERF_AGENT_SAMPLING_KEEP_FINDINGS: 'false' },
    exports: 'none',
    needsDist: true,
    extra: true,
  },
  {
    name: 'agent-prod-keep100',
    description: 'this agent, production with PERF_AGENT_SAMPLING_KEEP_FINDINGS_MAX_PER_SECOND=100 (keep-findings records 10x more)',
    preloads: () => [agentRegister()],
    env: { PERF_AGENT_ENV: 'production', PERF_AGENT_SAMPLING_KEEP_FINDINGS_MAX_PER_SECOND: '100' },
    exports: 'otlp',
    needsDist: true,
    extra: true,
  },
  {
    name: 'elastic',
    description: 'elastic-apm-node 4.18.0, span compression on, metrics and central config off, to a discarding sink',
    preloads: () => {
      const start = elasticStart();
      if (!start) throw new Error('elastic-apm-node is not installed');
      return [start];
    },
    env: {
      ELASTIC_APM_SERVICE_NAME: 'members-api',
      ELASTIC_APM_SPAN_COMPRESSION_ENABLED: 'true',
      ELASTIC_APM_METRICS_INTERVAL: '0s',
      ELASTIC_APM_CENTRAL_CONFIG: 'false',
      ELASTIC_APM_CLOUD_PROVIDER: 'none',
      ELASTIC_APM_LOG_LEVEL: 'off',
    },
    exports: 'elastic',
    mayFail: true,
  },

  // Cost breakdowns of plain OpenTelemetry, run only when named with --only.
  {
    name: 'otel-ratio-0',
    description: 'plain OpenTelemetry, http + pg, nothing sampled (instrumentation and context only)',
    preloads: () => [PLAIN_OTEL],
    env: { BENCH_OTEL_RATIO: '0' },
    exports: 'none',
    extra: true,
  },
  {
    name: 'otel-http-0',
    description: 'plain OpenTelemetry, instrumentation-http only, nothing sampled',
    preloads: () => [PLAIN_OTEL],
    env: { BENCH_OTEL_RATIO: '0', BENCH_OTEL_INSTRUMENTATIONS: 'http' },
    exports: 'none',
    extra: true,
  },
  {
    name: 'context-only',
    description: 'no instrumentation: only AsyncLocalStorage context per request, emitters bound (the floor of context propagation)',
    preloads: () => [CONTEXT_ONLY],
    env: {},
    exports: 'none',
    extra: true,
  },
  {
    name: 'otel-pg-0',
    description: 'plain OpenTelemetry, instrumentation-pg only, nothing sampled',
    preloads: () => [PLAIN_OTEL],
    env: { BENCH_OTEL_RATIO: '0', BENCH_OTEL_INSTRUMENTATIONS: 'pg' },
    exports: 'none',
    extra: true,
  },
  {
    name: 'otel-noexport',
    description: 'plain OpenTelemetry 100%, spans batched then dropped (no serialization, gzip or HTTP)',
    preloads: () => [PLAIN_OTEL],
    env: { BENCH_OTEL_EXPORTER: 'none' },
    exports: 'none',
    extra: true,
  },
  {
    name: 'otel-noconnect',
    description: 'plain OpenTelemetry 100% with instrumentation-pg ignoreConnectSpans',
    preloads: () => [PLAIN_OTEL],
    env: { BENCH_OTEL_PG_CONNECT_SPANS: 'false' },
    exports: 'otlp',
    extra: true,
  },
  {
    name: 'otel-nogzip',
    description: 'plain OpenTelemetry 100%, OTLP protobuf without gzip',
    preloads: () => [PLAIN_OTEL],
    env: { BENCH_OTEL_COMPRESSION: 'none' },
    exports: 'otlp',
    extra: true,
  },
];

/** Variables of the harness's own environment that would change what a configuration measures. */
const SCRUBBED = /^(OTEL_|PERF_AGENT_|ELASTIC_APM_|BENCH_|NODE_OPTIONS$|NODE_ENV$)/;

function childEnv(extra) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) if (!SCRUBBED.test(key)) env[key] = value;
  return { ...env, ...extra };
}

/*
 * Configurations of one's own, for an experiment, without editing this file: BENCH_EXTRA_CONFIGS
 * names a module exporting a list of { name, description, env, agent?: true } (agent ones preload
 * the agent's dist/ like agent-prod; the rest run no agent). They run only when named with --only.
 */
if (process.env.BENCH_EXTRA_CONFIGS) {
  for (const extra of require(path.resolve(process.env.BENCH_EXTRA_CONFIGS))) {
    CONFIGS.push({
      name: extra.name,
      description: extra.description || extra.name,
      preloads: extra.agent ? () => [agentRegister()] : () => [],
      env: extra.env || {},
      exports: extra.exports || (extra.agent ? 'otlp' : 'none'),
      needsDist: Boolean(extra.agent),
      extra: true,
    });
  }
}

/** The directory given to --baseline-dist, resolved, once it holds a built agent (register.js). */
function baselineDistDir(dir) {
  const resolved = path.resolve(dir);
  if (!fs.existsSync(path.join(resolved, 'register.js'))) {
    throw new Error(`--baseline-dist needs a built dist/ directory (with register.js), got ${JSON.stringify(dir)}`);
  }
  return resolved;
}

/** Each configuration, and after each agent one its twin on the build in `baselineDist`, as NAME@base. */
function withBaselines(configs, baselineDist) {
  if (!baselineDist) return configs;
  const register = path.join(baselineDist, 'register.js');
  const out = [];
  for (const c of configs) {
    out.push(c);
    if (c.needsDist) out.push({ ...c, name: `${c.name}@base`, description: `${c.description}; the build in ${baselineDist}`, preloads: () => [register], quick: false });
  }
  return out;
}

/**
 * The configuration of that name, or an error that lists the known ones. `standalone`: the caller
 * runs the app by itself, without the Elastic sink or the admin probe that only run.js provides.
 */
function configNamed(name, { standalone = false } = {}) {
  const config = CONFIGS.find((c) => c.name === name);
  if (!config) throw new Error(`unknown configuration ${name}; known: ${CONFIGS.map((c) => c.name).join(', ')}`);
  if (standalone && (config.exports === 'elastic' || config.adminProbe)) {
    throw new Error(`${name} is not supported here (it needs a sink or a probe of its own); use bench/run.js`);
  }
  return config;
}

module.exports = { CONFIGS, ROOT, DIST_REGISTER, useDist, childEnv, baselineDistDir, withBaselines, configNamed };
