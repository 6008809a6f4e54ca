'use strict';
// Member lookups: the healthy endpoints the N+1 one is compared against.

const { HttpError, parseId, parseIntParam } = require('../http-util');

/** GET /members/:id: the member and their invoice totals, in two queries whatever the history. */
async function getMember({ pool, params }) {
  const memberId = parseId(params.id);
  const member = await pool.query(
    'SELECT id, name, email, joined_on, plan FROM members WHERE id = $1',
    [memberId],
  );
  if (member.rows.length === 0) throw new HttpError(404, `member ${memberId} not found`);
  // LATERAL keeps the payment sum on the payments_invoice_id_idx index, one probe per invoice.
  const totals = await pool.query(
    `SELECT count(*)::int AS invoices,
            coalesce(sum(i.amount_cents), 0)::int AS billed_cents,
            coalesce(sum(p.paid_cents), 0)::int AS paid_cents,
            (count(*) FILTER (WHERE i.status <> 'paid'))::int AS unpaid_invoices
       FROM invoices i
       LEFT JOIN LATERAL (SELECT sum(amount_cents) AS paid_cents FROM payments WHERE invoice_id = i.id) p ON true
      WHERE i.member_id = $1`,
    [memberId],
  );
  const t = totals.rows[0];
  return { ...member.rows[0], totals: { ...t, balance_cents: t.billed_cents - t.paid_cents } };
}

/** GET /members?limit=20: a page of members. */
async function listMembers({ pool, query }) {
  const limit = parseIntParam(query, 'limit', { min: 1, max: 200, fallback: 20 });
  // The limit is validated as an integer above, so inlining it is safe; plenty of real code
  // builds SQL this way, and the agent has to normalize such literals.
  const { rows } = await pool.query(`SELECT id, name, email, plan FROM members ORDER BY id LIMIT ${limit}`);
  return { members: rows, count: rows.length };
}

module.exports = { getMember, listMembers };
