import { describe, expect, it } from 'vitest';
import { libraryAdvice } from '../../../src/analysis/analyzers/library-advice';
import { batchRecommendation, nPlusOneAnalyzer } from '../../../src/analysis/analyzers/n-plus-one';
import { loadConfig } from '../../../src/config';
import type { AgentConfig } from '../../../src/config';
import type { CallSite, SpanView, TraceView } from '../../../src/analysis/types';

const SEQUELIZE_SELECT = 'SELECT "id", "invoice_id" AS "invoiceId" FROM "payments" AS "Payment" WHERE "Payment"."invoice_id" = ?';

describe('libraryAdvice', () => {
  it.each([
    ['sequelize', SEQUELIZE_SELECT, ['Sequelize: load the association with `include`', 'findAll({ where: { invoice_id: ids } })']],
    ['knex', 'select * from "payments" where "invoice_id" = $1', [".whereIn('invoice_id', ids)", '.where({ invoice_id })']],
    ['prisma', 'SELECT "t1"."id" FROM "public"."payments" AS "t1" WHERE "t1"."invoice_id" = $1 OFFSET $2', ['Prisma: `include` the relation', '{ in: ids }']],
    ['typeorm', 'SELECT "p"."id" FROM "payments" "p" WHERE "p"."invoice_id" = $1', ['`relations`', '`leftJoinAndSelect`', 'In(ids)']],
    ['sequelize', 'INSERT INTO "audit" ("member_id","action") VALUES ($1,$2)', ['bulkCreate']],
    ['knex', 'update "invoices" set "status" = $1 where "id" = $2', [".whereIn('id', ids).update(...)"]],
    ['prisma', 'DELETE FROM "sessions" WHERE "member_id" = $1', ['deleteMany({ where: { member_id: { in: ids } } })']],
  ] as const)('%s: %s', (library, pattern, expected) => {
    const sql = batchRecommendation(pattern, 'postgresql');
    const advice = libraryAdvice(library, pattern, sql);
    for (const text of expected) expect(advice).toContain(text);
    // The SQL form stays beside the tool's own cure.
    expect(advice.endsWith(`In SQL: ${sql}`)).toBe(true);
  });
});

describe('n_plus_one advice follows the library the call site went through', () => {
  const config = (() => {
    const loaded = loadConfig({});
    if (!loaded.ok) throw new Error('default config');
    return loaded.config as AgentConfig;
  })();

  function traceOf(callSite: CallSite | undefined): TraceView {
    const spans: SpanView[] = Array.from({ length: 6 }, (_, i) => ({
      spanId: `s${i}`, parentSpanId: 'root', name: 'pg.query:SELECT', kind: 2, startMs: i * 2, endMs: i * 2 + 1, durationMs: 1,
      isDb: true, statement: SEQUELIZE_SELECT, fingerprint: 'f00d', dbSystem: 'postgresql', error: false, attributes: {},
      callSite: () => callSite,
    }));
    return { traceId: 't', root: spans[0], spans, dbSpans: spans, operation: 'GET /x', childrenOf: () => [] };
  }

  it('names the ORM cure with the SQL form when the stack went through Sequelize, the SQL form alone otherwise', () => {
    const via = nPlusOneAnalyzer.analyze(traceOf({ filepath: '/app/a.js', lineno: 3, library: 'sequelize' }), { config }) as { recommendation: string }[];
    expect(via[0].recommendation).toMatch(/^Sequelize: .*`include`.*In SQL: .*"invoice_id" = ANY\(\$1\)/);
    const plain = nPlusOneAnalyzer.analyze(traceOf({ filepath: '/app/a.js', lineno: 3 }), { config }) as { recommendation: string }[];
    expect(plain[0].recommendation).not.toContain('Sequelize');
    expect(plain[0].recommendation).toContain('= ANY($1)');
  });
});
