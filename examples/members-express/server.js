'use strict';
// members-api on Express 5 and Sequelize 6: the same data, the N+1 an ORM makes (a lazy
// association read per row) and its fix (`include`). No tracing code; run it under the agent:
//   node --require otel-perf-agent/register examples/members-express/server.js
// Operations are named by Express's route templates (`GET /members/:id/payments`).

const express = require('express');
const { Sequelize } = require('sequelize');
const { openDatabase } = require('../members-api/db');
const { ensureSchema } = require('../members-api/seed');
const { defineModels } = require('./models');

function historyOf(memberId, invoices, paymentsOf) {
  return {
    member_id: memberId,
    invoices: invoices.map((invoice) => ({
      id: invoice.id,
      issued_on: invoice.issuedOn,
      amount_cents: invoice.amountCents,
      payments: paymentsOf(invoice).map((p) => ({ id: p.id, paid_on: p.paidOn, amount_cents: p.amountCents, method: p.method })),
    })),
  };
}

function createApp({ Member, Invoice, Payment }) {
  const app = express();
  const memberId = (req) => {
    const id = Number(req.params.id);
    return Number.isInteger(id) && id > 0 ? id : undefined;
  };

  app.get('/members/:id', async (req, res) => {
    const member = await Member.findByPk(memberId(req) ?? 0);
    if (!member) return res.status(404).json({ error: 'no such member' });
    res.json(member);
  });

  // N+1: the invoices, then each invoice's payments read lazily, one query per invoice.
  app.get('/members/:id/payments', async (req, res) => {
    const id = memberId(req);
    if (id === undefined) return res.status(400).json({ error: 'id must be a positive integer' });
    const invoices = await Invoice.findAll({ where: { memberId: id }, order: [['issuedOn', 'ASC'], ['id', 'ASC']] });
    const payments = new Map();
    for (const invoice of invoices) {
      payments.set(invoice.id, await invoice.getPayments({ order: [['id', 'ASC']] }));
    }
    res.json(historyOf(id, invoices, (invoice) => payments.get(invoice.id)));
  });

  // The fix the agent recommends: `include`, one query for invoices and payments together.
  app.get('/members/:id/payments-eager', async (req, res) => {
    const id = memberId(req);
    if (id === undefined) return res.status(400).json({ error: 'id must be a positive integer' });
    const invoices = await Invoice.findAll({
      where: { memberId: id },
      include: [{ model: Payment, as: 'payments' }],
      order: [['issuedOn', 'ASC'], ['id', 'ASC'], [{ model: Payment, as: 'payments' }, 'id', 'ASC']],
    });
    res.json(historyOf(id, invoices, (invoice) => invoice.payments));
  });

  app.use((err, req, res, next) => {
    process.stderr.write(`members-express: ${req.method} ${req.url} failed: ${err.stack || err}\n`);
    if (res.headersSent) return next(err);
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}

async function main() {
  const db = await openDatabase();
  await ensureSchema(db.pool);
  // Sequelize keeps its own pool; the driver pool only served the schema set-up. Embedded
  // PGlite takes one connection at a time.
  await db.pool.end();
  const sequelize = new Sequelize(db.url, { logging: false, pool: { max: db.kind === 'pglite' ? 1 : 10 } });
  const server = createApp(defineModels(sequelize)).listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    process.stdout.write(`members-express listening on http://127.0.0.1:${server.address().port}\n`);
  });
  const shutdown = () => server.close(async () => {
    await sequelize.close();
    await db.close();
  });
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

module.exports = { createApp };

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`members-express: failed to start: ${err.stack || err}\n`);
    process.exit(1);
  });
}
