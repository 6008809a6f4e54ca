// A TypeScript service with no tracing code, run with tsx or compiled with tsc. Its N+1 findings
// name this file and its lines, not the JavaScript that actually runs:
//   npx tsx --import otel-perf-agent/register examples/typescript/server.ts
//   npx tsc -p examples/typescript && node --enable-source-maps --require otel-perf-agent/register examples/typescript/dist/server.js
import http from 'node:http';
import { Pool } from 'pg';

interface Invoice {
  id: number;
  amount_cents: number;
}

interface Payment {
  invoice_id: number;
  reference: string;
}

const pool = new Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 4 });

async function invoicesOf(memberId: number): Promise<Invoice[]> {
  const { rows } = await pool.query<Invoice>('SELECT g AS id, g * 100 + $1::int AS amount_cents FROM generate_series(1, 8) AS g', [memberId]);
  return rows;
}

async function paymentsOf(invoiceId: number): Promise<Payment[]> {
  const { rows } = await pool.query<Payment>('SELECT $1::int AS invoice_id, md5($1::text) AS reference', [invoiceId]);
  return rows;
}

const server = http.createServer(async (req, res) => {
  const memberId = Number(/^\/members\/(\d+)\/payments$/.exec(req.url ?? '')?.[1]);
  if (!Number.isInteger(memberId)) {
    res.writeHead(404).end();
    return;
  }
  const history: { invoice: Invoice; payments: Payment[] }[] = [];
  for (const invoice of await invoicesOf(memberId)) {
    history.push({ invoice, payments: await paymentsOf(invoice.id) });
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(history));
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => server.close(() => void pool.end()));
