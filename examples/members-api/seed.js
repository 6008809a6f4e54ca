'use strict';
// Schema setup and deterministic demo data for members-api.
//
//   ensureSchema(pool)   creates the tables if needed and seeds them once
//   node seed.js         does the same against DATABASE_URL (or embedded PGlite) and prints counts

const fs = require('node:fs');
const path = require('node:path');

const SCHEMA_SQL = fs.readFileSync(path.join(__dirname, 'schema.sql'), 'utf8');

// Any constant works; it only has to be the same in every process that sets up this schema.
const SETUP_LOCK_KEY = 727031400;

const MEMBER_COUNT = 200;
// Member 1 is the one the demo and the tests look at: 20 invoices = 1 + 20 queries the N+1 way.
const MEMBER_ONE_INVOICES = 20;
// A fixed "today" keeps the data identical whatever day the seed runs.
const REFERENCE_DATE = Date.UTC(2025, 5, 1);
const DAY_MS = 86400000;

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret',
  'Niklaus', 'Radia', 'Tim', 'Sophie', 'John', 'Hedy', 'Linus', 'Katherine', 'Dennis', 'Shafi', 'Leslie'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson',
  'Hamilton', 'Wirth', 'Perlman', 'Berners-Lee', 'Wilson', 'Backus', 'Lamarr', 'Torvalds', 'Johnson',
  'Ritchie', 'Goldwasser', 'Lamport'];
const PLANS = [
  { name: 'basic', cents: 1500 },
  { name: 'standard', cents: 3000 },
  { name: 'family', cents: 4500 },
  { name: 'supporter', cents: 10000 },
];
const METHODS = ['card', 'sepa_debit', 'bank_transfer', 'cash'];

// xorshift32: tiny, fast and fully determined by the seed, which is all demo data needs.
function createRandom(seed) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

function isoDate(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

function monthsBefore(ms, months, dayOfMonth) {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - months, dayOfMonth);
}

/** Builds every row in memory; same output on every run and every machine. */
function generateData() {
  const random = createRandom(20250601);
  const members = [];
  const invoices = [];
  const payments = [];

  for (let memberId = 1; memberId <= MEMBER_COUNT; memberId++) {
    const first = FIRST_NAMES[(memberId - 1) % FIRST_NAMES.length];
    const last = LAST_NAMES[Math.floor((memberId - 1) / FIRST_NAMES.length) % LAST_NAMES.length];
    const plan = random.pick(PLANS);
    const invoiceCount = memberId === 1 ? MEMBER_ONE_INVOICES : random.int(5, 30);
    const billingDay = random.int(1, 28);
    const firstIssued = monthsBefore(REFERENCE_DATE, invoiceCount, billingDay);
    members.push({
      id: memberId,
      name: `${first} ${last}`,
      email: `${first}.${last}.${memberId}@example.org`.toLowerCase(),
      joined_on: isoDate(firstIssued - random.int(0, 20) * DAY_MS),
      plan: plan.name,
    });

    for (let n = 0; n < invoiceCount; n++) {
      const issued = monthsBefore(REFERENCE_DATE, invoiceCount - n, billingDay);
      const due = issued + 30 * DAY_MS;
      // Now and then an event fee on top of the membership fee, so amounts are not all equal.
      const amount = plan.cents + (random.next() < 0.2 ? random.int(1, 8) * 500 : 0);
      const invoice = {
        id: invoices.length + 1,
        member_id: memberId,
        issued_on: isoDate(issued),
        due_on: isoDate(due),
        amount_cents: amount,
        status: '',
      };
      invoices.push(invoice);

      const roll = random.next();
      const paymentCount = roll < 0.15 ? 0 : roll < 0.75 ? 1 : 2;
      const paidOn = () => isoDate(Math.min(issued + random.int(0, 40) * DAY_MS, REFERENCE_DATE));
      if (paymentCount === 0) {
        invoice.status = due < REFERENCE_DATE ? 'overdue' : 'open';
      } else if (paymentCount === 1) {
        const partial = random.next() < 0.1;
        const paid = partial ? Math.round(amount / 2) : amount;
        payments.push({ invoice_id: invoice.id, paid_on: paidOn(), amount_cents: paid, method: random.pick(METHODS) });
        invoice.status = partial ? 'partially_paid' : 'paid';
      } else {
        // Two instalments that add up to the invoice amount, in date order.
        const firstPart = Math.round(amount * (0.3 + random.next() * 0.4));
        const dates = [paidOn(), paidOn()].sort();
        const method = random.pick(METHODS);
        payments.push({ invoice_id: invoice.id, paid_on: dates[0], amount_cents: firstPart, method });
        payments.push({ invoice_id: invoice.id, paid_on: dates[1], amount_cents: amount - firstPart, method });
        invoice.status = 'paid';
      }
    }
  }
  payments.forEach((p, i) => { p.id = i + 1; });
  return { members, invoices, payments };
}

function column(rows, key) {
  return rows.map((row) => row[key]);
}

// One INSERT per table with array parameters: a handful of round trips instead of thousands,
// which matters most on PGlite where every statement goes through one queue.
async function insertAll(client, { members, invoices, payments }) {
  await client.query(
    `INSERT INTO members (id, name, email, joined_on, plan)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::date[], $5::text[])`,
    ['id', 'name', 'email', 'joined_on', 'plan'].map((k) => column(members, k)),
  );
  await client.query(
    `INSERT INTO invoices (id, member_id, issued_on, due_on, amount_cents, status)
     SELECT * FROM unnest($1::int[], $2::int[], $3::date[], $4::date[], $5::int[], $6::text[])`,
    ['id', 'member_id', 'issued_on', 'due_on', 'amount_cents', 'status'].map((k) => column(invoices, k)),
  );
  await client.query(
    `INSERT INTO payments (id, invoice_id, paid_on, amount_cents, method)
     SELECT * FROM unnest($1::int[], $2::int[], $3::date[], $4::int[], $5::text[])`,
    ['id', 'invoice_id', 'paid_on', 'amount_cents', 'method'].map((k) => column(payments, k)),
  );
  // Explicit ids keep the data identical between runs; move the sequences past them so that
  // rows the service might insert later do not collide.
  for (const table of ['members', 'invoices', 'payments']) {
    await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`);
  }
}

/**
 * Creates the tables and indexes if they are missing and seeds them if `members` is empty.
 * Safe to call from several processes at once: the whole check-then-create runs under a
 * session advisory lock, and the seed is one transaction, so nobody sees a half-seeded database.
 * Returns true when this call seeded the data.
 */
async function ensureSchema(pool) {
  const client = await pool.connect();
  let broken = null;
  try {
    await client.query(`SELECT pg_advisory_lock(${SETUP_LOCK_KEY})`);
    try {
      await client.query(SCHEMA_SQL);
      const { rows } = await client.query('SELECT EXISTS (SELECT 1 FROM members) AS seeded');
      if (rows[0].seeded) return false;
      await client.query('BEGIN');
      try {
        await insertAll(client, generateData());
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
      return true;
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${SETUP_LOCK_KEY})`);
    }
  } catch (err) {
    broken = err;
    throw err;
  } finally {
    // A client that failed mid-setup may still hold the lock or a transaction: drop it rather
    // than hand it back to the pool (closing the session releases the lock).
    client.release(broken || undefined);
  }
}

module.exports = { ensureSchema, generateData, MEMBER_COUNT, MEMBER_ONE_INVOICES };

if (require.main === module) {
  const { openDatabase } = require('./db');
  (async () => {
    const db = await openDatabase();
    try {
      const seeded = await ensureSchema(db.pool);
      const { rows } = await db.pool.query(
        `SELECT (SELECT count(*) FROM members)::int AS members,
                (SELECT count(*) FROM invoices)::int AS invoices,
                (SELECT count(*) FROM payments)::int AS payments`,
      );
      console.log(`${seeded ? 'seeded' : 'already seeded'}: ${JSON.stringify(rows[0])}`);
    } finally {
      await db.close();
    }
  })().catch((err) => {
    console.error(`members-api seed failed: ${err.stack || err}`);
    process.exit(1);
  });
}
