'use strict';
// members-api: a small association service (members, invoices, payments) on node:http and pg.
// It contains no tracing code on purpose; run it under the agent with
//   node --require otel-perf-agent/register server.js

const http = require('node:http');
const { openDatabase } = require('./db');
const { ensureSchema } = require('./seed');
const { HttpError, sendJson } = require('./http-util');
const { getMember, listMembers } = require('./routes/members');
const { paymentsNPlusOne, paymentsParallel, paymentsBatched } = require('./routes/payments');
const { slowReport } = require('./routes/reports');

const IN_FLIGHT_GRACE_MS = 3000;
const CLOSE_TIMEOUT_MS = 10000;
const EXIT_GRACE_MS = 5000;

const ROUTES = [
  { path: /^\/health$/, handler: async () => ({ ok: true }) },
  { path: /^\/members$/, handler: listMembers },
  { path: /^\/members\/([^/]+)$/, handler: getMember },
  { path: /^\/members\/([^/]+)\/payments$/, handler: paymentsNPlusOne },
  { path: /^\/members\/([^/]+)\/payments-batched$/, handler: paymentsBatched },
  { path: /^\/members\/([^/]+)\/payments-parallel$/, handler: paymentsParallel },
  { path: /^\/reports\/slow$/, handler: slowReport },
];

function route(pathname) {
  for (const r of ROUTES) {
    const match = r.path.exec(pathname);
    if (match) return { handler: r.handler, params: { id: match[1] } };
  }
  return null;
}

function createHandler(pool) {
  return async function handle(req, res) {
    try {
      const url = new URL(req.url, 'http://localhost');
      const found = route(url.pathname);
      if (!found) throw new HttpError(404, `no route for ${url.pathname}`);
      if (req.method !== 'GET') {
        sendJson(res, 405, { error: `${req.method} not allowed on ${url.pathname}` }, { allow: 'GET' });
        return;
      }
      const body = await found.handler({ pool, params: found.params, query: url.searchParams });
      sendJson(res, 200, body);
    } catch (err) {
      if (err instanceof HttpError) {
        sendJson(res, err.status, { error: err.message });
        return;
      }
      // Database and programming errors: log the details here, keep them out of the response.
      process.stderr.write(`members-api: ${req.method} ${req.url} failed: ${err.stack || err}\n`);
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: 'internal error' });
    }
  };
}

async function main() {
  const state = { server: null, db: null, stopping: false };

  // Registered before the (possibly slow) database start, so that a signal at any point ends
  // with exit code 0.
  const shutdown = async (signal) => {
    if (state.stopping) return;
    state.stopping = true;
    // Still starting: no request was served and nothing needs draining.
    if (!state.server) process.exit(0);
    // Last resort if the server or the database refuses to close; unref'd so that it never
    // keeps the process alive by itself.
    const stuck = setTimeout(() => {
      process.stderr.write(`members-api: shutdown after ${signal} timed out\n`);
      process.exit(1);
    }, CLOSE_TIMEOUT_MS).unref();
    const closed = new Promise((resolve) => state.server.close(resolve));
    state.server.closeIdleConnections();
    // Let in-flight requests finish, but not forever.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, IN_FLIGHT_GRACE_MS).unref())]);
    state.server.closeAllConnections();
    await state.db.close().catch(() => {});
    clearTimeout(stuck);
    // Rather than exiting on the spot, let the event loop drain: whatever else is still
    // finishing in this process (a log shipper, a telemetry exporter flushing its last batch)
    // gets to complete, and Node then exits with code 0 by itself. Anything that would keep
    // the process alive longer than the grace period is cut off.
    process.exitCode = 0;
    setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  state.db = await openDatabase();
  await ensureSchema(state.db.pool);

  const server = http.createServer(createHandler(state.db.pool));
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid PORT ${JSON.stringify(process.env.PORT)}: expected 0-65535`);
  }
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  server.on('error', (err) => process.stderr.write(`members-api: server error: ${err.message}\n`));
  state.server = server;
  process.stdout.write(`members-api listening on http://127.0.0.1:${server.address().port}\n`);
}

module.exports = { createHandler };

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`members-api: failed to start: ${err.stack || err}\n`);
    process.exit(1);
  });
}
