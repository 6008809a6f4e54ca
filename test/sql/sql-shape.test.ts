import { describe, expect, it } from 'vitest';
import {
  filterColumns,
  hasLimit,
  mainTable,
  parameterLookup,
  selectsStar,
  statementVerb,
} from '../../src/sql/sql-shape';
import { normalizeSql } from '../../src/sql';

describe('parameterLookup', () => {
  it('reads table, column and parameter of a PostgreSQL lookup', () => {
    expect(parameterLookup('SELECT id, paid_on, amount_cents, method FROM payments WHERE invoice_id = $1')).toEqual({
      table: 'payments',
      column: 'invoice_id',
      param: '$1',
    });
  });

  it('reads a MySQL ? parameter', () => {
    expect(parameterLookup('SELECT * FROM payments WHERE invoice_id = ?')).toEqual({
      table: 'payments',
      column: 'invoice_id',
      param: '?',
    });
  });

  it('resolves an alias, with or without AS', () => {
    const expected = { table: 'payments', column: 'invoice_id', param: '$1' };
    expect(parameterLookup('SELECT p.id FROM payments p WHERE p.invoice_id = $1')).toEqual(expected);
    expect(parameterLookup('SELECT p.id FROM payments AS p WHERE p.invoice_id = $1')).toEqual(expected);
  });

  it('keeps schema qualification and quotes as written', () => {
    expect(parameterLookup('SELECT id FROM public.payments WHERE invoice_id = $1')).toEqual({
      table: 'public.payments',
      column: 'invoice_id',
      param: '$1',
    });
    expect(parameterLookup('SELECT "id" FROM "billing"."Payments" WHERE "invoiceId" = $1')).toEqual({
      table: '"billing"."Payments"',
      column: '"invoiceId"',
      param: '$1',
    });
    expect(parameterLookup('SELECT `id` FROM `payments` WHERE `payments`.`invoice_id` = ?')).toEqual({
      table: '`payments`',
      column: '`invoice_id`',
      param: '?',
    });
  });

  it('matches a qualifier against the table name when there is no alias', () => {
    expect(parameterLookup('SELECT id FROM public.payments WHERE payments.invoice_id = $1')?.table).toBe('public.payments');
  });

  it('ties a qualified column to its table in a join', () => {
    const sql = 'SELECT p.id FROM invoices i JOIN payments p ON p.invoice_id = i.id WHERE i.member_id = $1';
    expect(parameterLookup(sql)).toEqual({ table: 'invoices', column: 'member_id', param: '$1' });
  });

  it('accepts other conditions without parameters, a cast, LIMIT and ORDER BY', () => {
    expect(parameterLookup('SELECT id FROM payments WHERE invoice_id = $1::int AND deleted_at IS NULL ORDER BY id LIMIT ?')).toEqual({
      table: 'payments',
      column: 'invoice_id',
      param: '$1',
    });
    expect(parameterLookup('SELECT id FROM payments WHERE status = ? AND invoice_id = $1')).toEqual({
      table: 'payments',
      column: 'invoice_id',
      param: '$1',
    });
  });

  it('reads UPDATE and DELETE', () => {
    expect(parameterLookup('UPDATE invoices SET status = ? WHERE id = $1')).toEqual({ table: 'invoices', column: 'id', param: '$1' });
    expect(parameterLookup('DELETE FROM sessions WHERE member_id = ?')).toEqual({ table: 'sessions', column: 'member_id', param: '?' });
  });

  it.each([
    ['two parameters compared', 'SELECT id FROM payments WHERE invoice_id = $1 AND member_id = $2'],
    ['two ? parameters compared', 'SELECT id FROM payments WHERE invoice_id = ? AND member_id = ?'],
    ['an OR at the top level', 'SELECT id FROM payments WHERE invoice_id = $1 OR legacy_id = ?'],
    ['an unqualified column in a join', 'SELECT p.id FROM invoices i JOIN payments p ON p.invoice_id = i.id WHERE member_id = $1'],
    ['an unknown qualifier', 'SELECT id FROM payments p WHERE x.invoice_id = $1'],
    ['a function of the column', 'SELECT id FROM members WHERE lower(email) = $1'],
    ['a cast column', 'SELECT id FROM members WHERE email::text = $1'],
    ['an expression of the parameter', 'SELECT id FROM payments WHERE invoice_id = $1 + 1'],
    ['no WHERE', 'SELECT id FROM payments'],
    ['no FROM', 'SELECT pg_sleep($1)'],
    ['a CTE', 'WITH x AS (SELECT 1) SELECT id FROM payments WHERE invoice_id = $1'],
    ['a derived table', 'SELECT id FROM (SELECT id, invoice_id FROM payments) p WHERE invoice_id = $1'],
    ['ANY already', 'SELECT id FROM payments WHERE invoice_id = ANY($1)'],
    ['an INSERT', 'INSERT INTO payments (invoice_id) VALUES ($1)'],
    ['not SQL', 'hello'],
    ['empty', ''],
  ])('is undefined for %s', (_, sql) => {
    expect(parameterLookup(sql)).toBeUndefined();
  });

  it('ignores parameters compared inside a subquery', () => {
    expect(
      parameterLookup('SELECT id FROM members WHERE id = $1 AND plan IN (SELECT plan FROM plans WHERE region = $2)'),
    ).toEqual({ table: 'members', column: 'id', param: '$1' });
  });

  it('never throws on unterminated quotes or stray parentheses', () => {
    for (const sql of ['SELECT "a FROM t WHERE x = $1', 'SELECT ( FROM t WHERE', 'SELECT ) FROM ) WHERE ) = $1', "SELECT 'x"]) {
      expect(() => parameterLookup(sql)).not.toThrow();
      expect(() => filterColumns(sql)).not.toThrow();
    }
  });
});

describe('filterColumns', () => {
  it('lists WHERE and JOIN columns with their tables', () => {
    const sql =
      'SELECT p.id FROM invoices i JOIN payments p ON p.invoice_id = i.id WHERE i.member_id = $1 AND i.status <> ? AND p.paid_on >= ?';
    expect(filterColumns(sql)).toEqual([
      { table: 'payments', column: 'invoice_id' },
      { table: 'invoices', column: 'id' },
      { table: 'invoices', column: 'member_id' },
      { table: 'invoices', column: 'status' },
      { table: 'payments', column: 'paid_on' },
    ]);
  });

  it('handles IN, LIKE, NOT LIKE, BETWEEN and IS', () => {
    expect(filterColumns('SELECT id FROM members WHERE plan IN (?) AND email NOT LIKE ? AND joined_on BETWEEN ? AND ? AND deleted_at IS NULL')).toEqual([
      { table: 'members', column: 'plan' },
      { table: 'members', column: 'email' },
      { table: 'members', column: 'joined_on' },
      { table: 'members', column: 'deleted_at' },
    ]);
  });

  it('skips subqueries and columns it cannot tie to a table', () => {
    expect(filterColumns("SELECT count(*) FROM invoices i LEFT JOIN LATERAL (SELECT sum(amount_cents) AS paid FROM payments WHERE invoice_id = i.id) p ON true WHERE i.member_id = $1")).toEqual([
      { table: 'invoices', column: 'member_id' },
    ]);
    expect(filterColumns('SELECT a.id FROM a, b WHERE x = ? AND a.y = b.z')).toEqual([
      { table: 'a', column: 'y' },
      { table: 'b', column: 'z' },
    ]);
  });

  it('is empty without a table', () => {
    expect(filterColumns('SELECT pg_sleep($1)')).toEqual([]);
  });

  it('honours the limit', () => {
    expect(filterColumns('SELECT id FROM t WHERE a = ? AND b = ? AND c = ?', 2)).toHaveLength(2);
  });
});

describe('mainTable', () => {
  it.each([
    ['SELECT id FROM payments WHERE invoice_id = $1', 'payments'],
    ['SELECT id FROM public.payments p', 'public.payments'],
    ['INSERT INTO payments (invoice_id, amount_cents) VALUES ($1, $2)', 'payments'],
    ['INSERT INTO "Audit" VALUES (?)', '"Audit"'],
    ['UPDATE ONLY invoices SET status = ? WHERE id = $1', 'invoices'],
    ['DELETE FROM sessions WHERE id = ?', 'sessions'],
    ['SELECT x FROM unnest($1) AS x', undefined],
    ['SELECT 1', undefined],
    ['BEGIN', undefined],
  ])('%s -> %s', (sql, table) => {
    expect(mainTable(sql)).toBe(table);
  });
});

describe('statementVerb, selectsStar, hasLimit', () => {
  it('reads the verb', () => {
    expect(statementVerb('  select 1')).toBe('SELECT');
    expect(statementVerb('(SELECT 1) UNION (SELECT 2)')).toBe('SELECT');
    expect(statementVerb('COMMIT')).toBeUndefined();
  });

  it('sees SELECT * and t.*', () => {
    expect(selectsStar('SELECT * FROM payments')).toBe(true);
    expect(selectsStar('select distinct p.* from payments p')).toBe(true);
    expect(selectsStar('SELECT count(*) FROM payments')).toBe(false);
    expect(selectsStar('SELECT id FROM payments')).toBe(false);
  });

  it('sees LIMIT and FETCH FIRST', () => {
    expect(hasLimit('SELECT id FROM t LIMIT ?')).toBe(true);
    expect(hasLimit('SELECT id FROM t FETCH FIRST ? ROWS ONLY')).toBe(true);
    expect(hasLimit('SELECT id FROM t')).toBe(false);
  });
});

// The shape reader sees statements after the normalizer: literals are `?` by then.
describe('the shape of a normalized statement', () => {
  it('reads what the analyzers need from the normalizer\'s output', () => {
    const lookup = normalizeSql("SELECT * FROM payments p WHERE p.invoice_id = 42 AND p.method = 'card'");
    expect(statementVerb(lookup)).toBe('SELECT');
    expect(mainTable(lookup)).toBe('payments');
    expect(selectsStar(lookup)).toBe(true);
    expect(hasLimit(lookup)).toBe(false);
    expect(filterColumns(lookup).map((c) => c.column)).toEqual(['invoice_id', 'method']);

    const byKey = normalizeSql('SELECT id, paid_on FROM payments WHERE invoice_id = 7');
    expect(parameterLookup(byKey)).toMatchObject({ table: 'payments', column: 'invoice_id' });

    const update = normalizeSql("UPDATE members SET name = 'x' WHERE id IN (1, 2, 3)");
    expect(statementVerb(update)).toBe('UPDATE');
    expect(mainTable(update)).toBe('members');
    expect(hasLimit(normalizeSql('SELECT id FROM members LIMIT 10'))).toBe(true);
  });
});
