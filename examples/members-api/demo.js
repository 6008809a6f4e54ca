'use strict';
// End-to-end demo: runs members-api under the agent, calls the N+1 endpoint and its fixed
// twins, and prints the traces the agent exported, as received by the in-repo OTLP receiver.
//
//   npm run build && node examples/members-api/demo.js
//
// With OTEL_EXPORTER_OTLP_ENDPOINT set, the spans are also forwarded to that collector.

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const REPO = path.resolve(__dirname, '..', '..');
const REGISTER = path.join(REPO, 'dist', 'register.js');
const SERVER = path.join(__dirname, 'server.js');

const START_TIMEOUT_MS = 30000;
const EXIT_TIMEOUT_MS = 15000;
const SPANS_TIMEOUT_MS = 10000;

// What the service is expected to do per request; a different count means something is off in
// the service or in the agent, and the demo says so instead of printing a misleading story.
// `loop` is the function whose loop makes the N+1: the finding's call stack must name it above
// the query helper.
const REQUESTS = [
  { path: '/members/1/payments', label: 'N+1', queries: 21, loop: 'paymentsNPlusOne', sequential: true },
  { path: '/members/1/payments-batched', label: 'batched', queries: 2 },
  { path: '/members/1', label: 'healthy', queries: 2 },
  { path: '/members/1/payments-parallel', label: 'N+1, parallel', queries: 21, loop: 'paymentsParallel' },
];

class DemoError extends Error {}

function startServer(receiverUrl) {
  const env = {
    ...process.env,
    OTEL_SERVICE_NAME: 'members-api',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    OTEL_TRACES_EXPORTER: 'otlp',
    // The demo shows every request, whatever sampling the caller's shell would pick.
    PERF_AGENT_ENV: 'development',
    PERF_AGENT_SAMPLING_RATE: '1',
    PORT: '0',
  };
  // These would send the spans elsewhere or nowhere; the receiver forwards to the user's endpoint.
  delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  delete env.OTEL_SDK_DISABLED;

  const child = spawn(process.execPath, ['--require', REGISTER, SERVER], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    // Bounded: a chatty failure loop must not grow the demo's memory.
    stderr = (stderr + chunk).slice(-64 * 1024);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /members-api listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.once('error', reject);
    exited.then(({ code, signal }) => reject(new DemoError(`members-api exited before listening (code ${code}, signal ${signal})`)));
    setTimeout(() => reject(new DemoError(`members-api did not print its listening line within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS).unref();
  });
  return { child, listening, exited, stderr: () => stderr };
}

async function drive(baseUrl) {
  const bodies = new Map();
  for (const request of REQUESTS) {
    const res = await fetch(baseUrl + request.path);
    const text = await res.text();
    if (res.status !== 200) throw new DemoError(`GET ${request.path} answered ${res.status}: ${text.slice(0, 300)}`);
    bodies.set(request.path, text);
  }
  const nPlusOne = bodies.get('/members/1/payments');
  for (const twin of ['/members/1/payments-batched', '/members/1/payments-parallel']) {
    if (bodies.get(twin) !== nPlusOne) throw new DemoError(`GET ${twin} did not return the same body as GET /members/1/payments`);
  }
}

async function stopServer(server) {
  server.child.kill('SIGTERM');
  const timeout = new Promise((resolve) => setTimeout(resolve, EXIT_TIMEOUT_MS, null).unref());
  const result = await Promise.race([server.exited, timeout]);
  if (!result) {
    server.child.kill('SIGKILL');
    throw new DemoError(`members-api did not exit within ${EXIT_TIMEOUT_MS / 1000} s of SIGTERM`);
  }
  if (result.code !== 0) throw new DemoError(`members-api exited with code ${result.code} (signal ${result.signal}) after SIGTERM`);
}

function requestPath(span) {
  const raw = span.attributes['url.path'] ?? span.attributes['http.target'];
  return typeof raw === 'string' ? raw.split('?')[0] : undefined;
}

function findRoot(spans, wanted) {
  return spans.find((s) => s.kind === 2 && s.parentSpanId === '' && requestPath(s) === wanted);
}

function isQuery(span) {
  return typeof (span.attributes['db.query.text'] ?? span.attributes['db.statement']) === 'string';
}

// Prefer what the agent computed on the root; count the spans ourselves when it did not,
// expanding composite spans back into the queries they stand for.
function summarize(root, traceSpans) {
  const queries = traceSpans.filter(isQuery);
  const counted = queries.reduce((n, s) => n + (Number(s.attributes['perf.composite.count']) || 1), 0);
  const countedMs = queries.reduce((ms, s) => ms + (Number(s.attributes['perf.composite.sum_ms']) || s.durationMs), 0);
  const a = root.attributes;
  const findings = root.events.filter((e) => e.name === 'perf.finding').map((e) => e.attributes['perf.finding.type']);
  return {
    queries: typeof a['perf.query_count'] === 'number' ? a['perf.query_count'] : counted,
    dbMs: typeof a['perf.query_time_ms'] === 'number' ? a['perf.query_time_ms'] : countedMs,
    requestMs: root.durationMs,
    spans: traceSpans.length,
    health: a['perf.health'] === undefined ? '-' : `${a['perf.health']} (${a['perf.health_score']})`,
    findings: findings.length ? findings.join(', ') : '-',
  };
}

// The N+1 finding must send the reader to the loop, and call a loop of awaits nothing but sequential.
function nPlusOneProblem(request, root) {
  const event = root.events.find((e) => e.name === 'perf.finding' && e.attributes['perf.finding.type'] === 'n_plus_one');
  if (!event) return `GET ${request.path}: no n_plus_one finding`;
  const stack = String(event.attributes['perf.finding.call_stack'] || '');
  if (!stack.includes(`at ${request.loop} (`)) return `GET ${request.path}: the finding's call stack does not name ${request.loop}: ${JSON.stringify(stack)}`;
  if (request.sequential && /concurren/.test(String(event.attributes['perf.finding.message']))) {
    return `GET ${request.path}: a sequential loop is described as concurrent`;
  }
  return undefined;
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((cell, i) => String(cell).padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

async function main() {
  if (!fs.existsSync(REGISTER)) throw new DemoError(`${path.relative(REPO, REGISTER)} not found: run \`npm run build\` first`);
  const { startOtlpReceiver } = require('../../collector/receiver');
  const { formatTraceTree } = require('../../collector/receiver/tree');

  const forwardTo = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
  const receiver = await startOtlpReceiver({ port: 0, forwardTo });
  let server;
  try {
    console.log(`OTLP receiver on ${receiver.url}${forwardTo ? `, forwarding to ${forwardTo}` : ''}`);
    server = startServer(receiver.url);
    let baseUrl;
    try {
      baseUrl = await server.listening;
    } catch (err) {
      throw new DemoError(`${err.message}\n--- members-api stderr ---\n${server.stderr() || '(empty)'}`);
    }
    const dbLine = server.stderr().split('\n').find((l) => l.startsWith('members-api: '));
    console.log(`members-api under the agent at ${baseUrl}${dbLine ? ` (${dbLine.slice('members-api: '.length)})` : ''}\n`);

    try {
      await drive(baseUrl);
      // The agent exports in batches; SIGTERM makes it flush before the process exits.
      await stopServer(server);
    } catch (err) {
      throw new DemoError(`${err.message}\n--- members-api stderr ---\n${server.stderr() || '(empty)'}`);
    }

    const allRootsIn = (spans) => REQUESTS.every((r) => findRoot(spans, r.path));
    let spans;
    try {
      spans = await receiver.waitFor(allRootsIn, SPANS_TIMEOUT_MS);
    } catch (err) {
      spans = receiver.spans();
      const missing = REQUESTS.filter((r) => !findRoot(spans, r.path)).map((r) => r.path);
      throw new DemoError(`no server span for ${missing.join(', ')} within ${SPANS_TIMEOUT_MS / 1000} s of shutdown `
        + `(${err.message})\n--- members-api stderr ---\n${server.stderr() || '(empty)'}`);
    }

    const traces = receiver.traces();
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    const results = [];
    for (const request of REQUESTS) {
      const root = findRoot(spans, request.path);
      const traceSpans = traces.get(root.traceId) || [root];
      const summary = summarize(root, traceSpans);
      results.push({ request, summary });
      console.log(`GET ${request.path}  — ${request.label}: ${summary.queries} queries`);
      console.log(formatTraceTree(traceSpans, { color }));
      console.log('');
    }

    console.log('Comparison');
    console.log(table([
      ['endpoint', 'queries', 'db ms (sum)', 'request ms', 'spans sent', 'health', 'findings'],
      ...results.map(({ request, summary: s }) => [
        `GET ${request.path}`, s.queries, s.dbMs.toFixed(1), s.requestMs.toFixed(1), s.spans, s.health, s.findings,
      ]),
    ]));
    const [nPlusOne, batched] = results;
    console.log(`\nSame response, ${nPlusOne.summary.queries} queries the N+1 way vs ${batched.summary.queries} batched `
      + `(${nPlusOne.summary.dbMs.toFixed(1)} ms vs ${batched.summary.dbMs.toFixed(1)} ms in the database).`);
    console.log('\nTo see these traces in Jaeger: run `docker compose -f collector/docker-compose.yaml up` '
      + 'and set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://localhost:4318) before running the demo.');

    const wrong = results.filter(({ request, summary }) => summary.queries !== request.queries);
    if (wrong.length) {
      throw new DemoError(`unexpected query counts: ${wrong.map(({ request, summary }) =>
        `GET ${request.path} ${summary.queries} (expected ${request.queries})`).join('; ')}`);
    }
    const misleading = REQUESTS.filter((r) => r.loop).map((r) => nPlusOneProblem(r, findRoot(spans, r.path))).filter(Boolean);
    if (misleading.length) throw new DemoError(misleading.join('; '));
  } finally {
    if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await receiver.close();
  }
}

main().catch((err) => {
  const message = err instanceof DemoError ? err.message : err.stack || String(err);
  process.stderr.write(`\ndemo failed: ${message}\n`);
  process.exitCode = 1;
});
