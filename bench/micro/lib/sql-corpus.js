'use strict';
// Statements for the SQL micro-benchmarks: what the members-api example really sends, what ORMs
// and hand-written code typically send (inlined literals, comments, quoted identifiers, IN lists,
// multi-row INSERTs), and one generated statement of about 100 KB.

const SHORT = [
  // examples/members-api, verbatim
  'SELECT id, paid_on, amount_cents, method FROM payments WHERE invoice_id = $1',
  'SELECT id, issued_on, amount_cents, status FROM invoices WHERE member_id = $1 ORDER BY issued_on',
  'SELECT id, invoice_id, paid_on, amount_cents, method FROM payments WHERE invoice_id = ANY($1)',
  'SELECT id, name, email, joined_on, plan FROM members WHERE id = $1',
  `SELECT count(*)::int AS invoices,
            coalesce(sum(i.amount_cents), 0)::int AS billed_cents,
            coalesce(sum(p.paid_cents), 0)::int AS paid_cents,
            (count(*) FILTER (WHERE i.status <> 'paid'))::int AS unpaid_invoices
       FROM invoices i
       LEFT JOIN LATERAL (SELECT sum(amount_cents) AS paid_cents FROM payments WHERE invoice_id = i.id) p ON true
      WHERE i.member_id = $1`,
  'SELECT id, name, email, plan FROM members ORDER BY id LIMIT 20',
  'SELECT pg_sleep($1)',
  // typical of other applications
  "SELECT * FROM payments WHERE invoice_id = 1234 AND method = 'card'",
  "INSERT INTO payments (invoice_id, paid_on, amount_cents, method) VALUES (17, '2025-05-01', 4500, 'transfer') RETURNING id",
  "UPDATE invoices SET status = 'paid', updated_at = now() WHERE id = 42",
  'SELECT id, email FROM members WHERE id IN (101, 102, 103, 104, 105, 106, 107, 108)',
  '/* members-api:getMember */ SELECT m.id, m.name FROM members m WHERE m.email = $1 -- by email',
  `select "members"."id", "members"."email", "members"."plan" from "members" where "members"."email" = 'jane.doe@example.org' limit 1`,
  "SELECT * FROM ledger WHERE balance < -10.5 AND note = E'it\\'s overdue' AND tags @> ARRAY['late', 'q2']",
  'DELETE FROM sessions WHERE expires_at < $1 AND member_id = $2',
  'BEGIN',
];

/** About 100 KB: a multi-row INSERT whose tuples differ only in their literals. */
function generateLong(targetChars = 100 * 1024) {
  const methods = ['card', 'transfer', 'cash', 'direct_debit'];
  const parts = [];
  let length = 0;
  for (let i = 1; length < targetChars; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    const tuple = `(${i}, '2025-05-${day}', ${(i * 7919) % 100000}, '${methods[i % methods.length]}')`;
    parts.push(tuple);
    length += tuple.length + 2;
  }
  return `INSERT INTO payments (invoice_id, paid_on, amount_cents, method) VALUES ${parts.join(', ')}`;
}

const LONG = generateLong();

module.exports = { SHORT, LONG };
