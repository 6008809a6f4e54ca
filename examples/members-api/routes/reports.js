'use strict';
// A deliberately slow report, to give the slow-query analysis something to find.

const { HttpError } = require('../http-util');

const MAX_SECONDS = 2;

/** GET /reports/slow?seconds=0.2: waits in the database, then counts unpaid invoices. */
async function slowReport({ pool, query }) {
  const raw = query.get('seconds');
  let seconds = raw === null || raw === '' ? 0.2 : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new HttpError(400, `invalid seconds ${JSON.stringify(raw)}: expected a number >= 0`);
  }
  // Capped so that one request cannot hold a pool connection for long.
  seconds = Math.min(seconds, MAX_SECONDS);
  await pool.query('SELECT pg_sleep($1)', [seconds]);
  const { rows } = await pool.query("SELECT count(*)::int AS unpaid FROM invoices WHERE status <> 'paid'");
  return { slept_seconds: seconds, unpaid_invoices: rows[0].unpaid };
}

module.exports = { slowReport };
