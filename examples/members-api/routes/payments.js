'use strict';
// A member's payment history, three ways: N+1 (sequential), N+1 (parallel) and batched.
// The N+1 variants are kept on purpose: they are what the agent is meant to catch.

const { parseId } = require('../http-util');

// Keep the query call on line 9: traces, tests and the README point at routes/payments.js:9.
async function findPaymentsForInvoice(pool, invoiceId) {
  const { rows } = await pool.query('SELECT id, paid_on, amount_cents, method FROM payments WHERE invoice_id = $1', [invoiceId]);
  return rows;
}

async function findInvoices(pool, memberId) {
  const { rows } = await pool.query(
    'SELECT id, issued_on, amount_cents, status FROM invoices WHERE member_id = $1 ORDER BY issued_on',
    [memberId],
  );
  return rows;
}

// Same response whichever way the rows were fetched: payments in id order per invoice, so the
// N+1 and batched endpoints can be compared byte for byte.
function buildHistory(memberId, invoices, paymentsByInvoice) {
  let billed = 0;
  let paid = 0;
  let paymentCount = 0;
  const out = invoices.map((invoice) => {
    const payments = (paymentsByInvoice.get(invoice.id) || [])
      .map(({ id, paid_on, amount_cents, method }) => ({ id, paid_on, amount_cents, method }))
      .sort((a, b) => a.id - b.id);
    const paidCents = payments.reduce((sum, p) => sum + p.amount_cents, 0);
    billed += invoice.amount_cents;
    paid += paidCents;
    paymentCount += payments.length;
    return { ...invoice, paid_cents: paidCents, payments };
  });
  return {
    member_id: memberId,
    invoices: out,
    totals: { invoices: out.length, payments: paymentCount, billed_cents: billed, paid_cents: paid },
  };
}

/** GET /members/:id/payments: one query for the invoices, then one per invoice, in turn. */
async function paymentsNPlusOne({ pool, params }) {
  const memberId = parseId(params.id);
  const invoices = await findInvoices(pool, memberId);
  const byInvoice = new Map();
  for (const invoice of invoices) {
    byInvoice.set(invoice.id, await findPaymentsForInvoice(pool, invoice.id));
  }
  return buildHistory(memberId, invoices, byInvoice);
}

/** GET /members/:id/payments-parallel: the same N+1, fired all at once. */
async function paymentsParallel({ pool, params }) {
  const memberId = parseId(params.id);
  const invoices = await findInvoices(pool, memberId);
  const lists = await Promise.all(invoices.map((invoice) => findPaymentsForInvoice(pool, invoice.id)));
  const byInvoice = new Map(invoices.map((invoice, i) => [invoice.id, lists[i]]));
  return buildHistory(memberId, invoices, byInvoice);
}

/** GET /members/:id/payments-batched: the fix, two queries whatever the number of invoices. */
async function paymentsBatched({ pool, params }) {
  const memberId = parseId(params.id);
  const invoices = await findInvoices(pool, memberId);
  const byInvoice = new Map();
  if (invoices.length > 0) {
    const { rows } = await pool.query(
      'SELECT id, invoice_id, paid_on, amount_cents, method FROM payments WHERE invoice_id = ANY($1)',
      [invoices.map((invoice) => invoice.id)],
    );
    for (const row of rows) {
      if (!byInvoice.has(row.invoice_id)) byInvoice.set(row.invoice_id, []);
      byInvoice.get(row.invoice_id).push(row);
    }
  }
  return buildHistory(memberId, invoices, byInvoice);
}

module.exports = { paymentsNPlusOne, paymentsParallel, paymentsBatched, findPaymentsForInvoice };
