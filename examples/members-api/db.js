'use strict';
// Opens the database the service talks to: the PostgreSQL server at DATABASE_URL when one
// answers, otherwise an embedded PGlite served over the Postgres wire protocol. Either way the
// application uses the real `pg` driver, so its behaviour (and what an agent sees of it) is the
// same as in production.

const pg = require('pg');

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
const PROBE_TIMEOUT_MS = 1500;

// Errors that mean "no server there", as opposed to a server that answered with an error
// (bad password, missing database), which is a configuration mistake worth failing on.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EADDRNOTAVAIL']);

// Dates stay 'YYYY-MM-DD' strings: pg's default turns them into local-midnight Date objects,
// whose JSON depends on the server's time zone.
const DATE_OID = 1082;
const types = {
  getTypeParser(oid, format) {
    if (oid === DATE_OID && format !== 'binary') return (value) => value;
    return pg.types.getTypeParser(oid, format);
  },
};

function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

function isUnreachable(err) {
  if (UNREACHABLE_CODES.has(err.code)) return true;
  // pg reports its own connect timeout without a code.
  return /timeout|terminated unexpectedly/i.test(String(err.message));
}

async function probe(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  // Without a listener a late socket error on the probe would be an uncaught 'error' event.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (err) {
    if (isUnreachable(err)) return false;
    throw new Error(`database at ${redact(url)} answered but refused us: ${err.message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

function newPool(config) {
  const pool = new pg.Pool({ ...config, types });
  // An idle client losing its connection emits on the pool; unhandled, that kills the process.
  pool.on('error', (err) => {
    process.stderr.write(`members-api: idle database connection failed: ${err.message}\n`);
  });
  return pool;
}

async function openPostgres(url) {
  const pool = newPool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
  return { pool, kind: 'postgres', url, close: () => pool.end() };
}

async function openPglite() {
  // Required lazily: production never loads the wasm build, and it is a dev dependency only.
  const { PGlite } = require('@electric-sql/pglite');
  const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');
  const pglite = await PGlite.create();
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  // One connection only: the socket server accepts one by default, and with several a failing
  // statement on one of them can drop another. Keep it open (no idle timeout) so that a
  // reconnect never races the server's bookkeeping of the old one.
  const pool = newPool({ connectionString: url, max: 1, idleTimeoutMillis: 0 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await pool.end().catch(() => {});
    await server.stop().catch(() => {});
    await pglite.close().catch(() => {});
  };
  return { pool, kind: 'pglite', url, close };
}

/** @returns {Promise<{ pool: import('pg').Pool, kind: 'postgres'|'pglite', url: string, close(): Promise<void> }>} */
async function openDatabase() {
  const url = process.env.DATABASE_URL || DEFAULT_URL;
  if (await probe(url)) {
    process.stderr.write(`members-api: using PostgreSQL at ${redact(url)}\n`);
    return openPostgres(url);
  }
  process.stderr.write(`members-api: no database at ${redact(url)}, using embedded PGlite\n`);
  return openPglite();
}

module.exports = { openDatabase };
