import fc from 'fast-check';
import knex from 'knex';
import mysql from 'mysql2';
import { escapeLiteral } from 'pg';
import { Op, Sequelize } from 'sequelize';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprint, normalizeSql } from '../../src/sql';
import type { SqlDialect } from '../../src/sql/dialect';

/*
 * The privacy promise, as properties: a secret placed in any literal (or comment) form of a
 * dialect, written by hand or by the real escaping functions of pg, mysql2, Knex 3 and Sequelize 6,
 * never appears in the normalized statement; and the normalized statement (so the fingerprint)
 * does not depend on the secret.
 *
 * Fixed seed here; `node bench/privacy-fuzz.js` runs the same properties much longer with fresh
 * seeds (PRIVACY_FUZZ_RUNS, PRIVACY_FUZZ_SEED).
 */
const RUNS = Number(process.env.PRIVACY_FUZZ_RUNS) || 400;
const SEED = Number(process.env.PRIVACY_FUZZ_SEED) || 20261130;

/** Every alphanumeric part of a secret starts with this; nothing else in a statement has it. */
const MARK = 'qz';

const secretPart = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{2,8}$/).map((s) => MARK + s),
  fc.constantFrom(
    "'", "''", '"', '""', '\\', "\\'", '\\\\', '$', '$$', '$q$', '$1', '#', '--', '-- ', '/*', '*/', '/*!', '\n',
    '\r\n', ' ', '`', ';', ',', '(', ')', '?', ':', "E'", "U&'", "N'", '@', '%', '_', 'é', 'ß', '中文', '😀', '\t',
  ),
  fc.string({ unit: 'grapheme', maxLength: 3 }),
);
const secret = fc.array(secretPart, { minLength: 0, maxLength: 10 }).map((parts) => `${MARK}s${parts.join('')}`);
const numberSecret = fc.integer({ min: 1_000_000, max: 2_000_000_000 });

/** A literal (or comment) form: how one secret is written into a statement. */
type Form = (s: string, n: number) => string;

const doubled = (s: string, q: string): string => s.split(q).join(q + q);
const backslashed = (s: string, q: string): string => s.replace(/\\/g, '\\\\').split(q).join(`\\${q}`);
const dollarTag = (s: string): string => {
  let k = 0;
  while (s.includes(`$t${k}$`)) k++;
  return `$t${k}$`;
};
const oneLine = (s: string): string => s.replace(/[\r\n]/g, ' ');
const noCommentEnd = (s: string): string => s.replace(/\*\//g, '* /').replace(/\/\*/g, '/ *');

const PG_FORMS: Form[] = [
  (s) => `'${doubled(s, "'")}'`,
  (s) => escapeLiteral(s),
  (s) => `E'${backslashed(s, "'")}'`,
  (s) => `e'${doubled(s.replace(/\\/g, '\\\\'), "'")}'`,
  (s) => `N'${doubled(s, "'")}'`,
  (s) => `U&'${doubled(s.replace(/\\/g, '\\\\'), "'")}'`,
  (s) => `B'${doubled(s, "'")}'`,
  (s) => `X'${doubled(s, "'")}'`,
  (s) => `$$${s.includes('$$') || s.endsWith('$') ? '' : s}$$`,
  (s) => `${dollarTag(s)}${s}${dollarTag(s)}`,
  (s) => `E'x'\n'${backslashed(s, "'")}'`,
  (s) => `'x'\n  -- continued\n'${doubled(s, "'")}'`,
  (s) => `'${doubled(s, "'")}'::text`,
  (s) => `/* ${noCommentEnd(s)} */ 1`,
  (s) => `1 -- ${oneLine(s)}\n`,
  (_s, n) => String(n),
  (_s, n) => `${n}.${n}e-3`,
  (_s, n) => `0x${n.toString(16)}`,
];

const MYSQL_FORMS: Form[] = [
  (s) => mysql.escape(s),
  (s) => mysql.format('?', [s]),
  (s) => `'${backslashed(s, "'")}'`,
  (s) => `'${doubled(s.replace(/\\/g, '\\\\'), "'")}'`,
  (s) => `"${backslashed(s, '"')}"`,
  (s) => `"${doubled(s.replace(/\\/g, '\\\\'), '"')}"`,
  (s) => `N${mysql.escape(s)}`,
  (s) => `_utf8mb4${mysql.escape(s)}`,
  (s) => `_latin1 "${backslashed(s, '"')}"`,
  (s) => `X${mysql.escape(s)}`,
  (s) => `b${mysql.escape(s)}`,
  (s) => `/*!40101 ${mysql.escape(s)} */`,
  (s) => `/* ${noCommentEnd(s)} */ 1`,
  (s) => `1 # ${oneLine(s)}\n`,
  (s) => `1 -- ${oneLine(s)}\n`,
  (_s, n) => String(n),
  (_s, n) => `0x${n.toString(16)}`,
  (_s, n) => `${n}.5E+3`,
];

/** Statement shapes; each {L} is one literal slot. */
const TEMPLATES = [
  'SELECT id, name FROM users WHERE email = {L} AND id = {L}',
  'INSERT INTO users (email, note, n) VALUES ({L}, {L}, {L}), ({L}, {L}, {L}) RETURNING id',
  'UPDATE users SET note = {L} WHERE id IN ({L}, {L}) AND name LIKE {L}',
  'SELECT {L} AS a, {L} AS b FROM t WHERE x > {L} ORDER BY id LIMIT {L}',
  'DELETE FROM sessions WHERE token = {L} OR token = {L}',
  'SELECT * FROM t WHERE a = ({L}) AND b = lower({L})',
];
const SLOTS = 6;

interface Rendered {
  sql: string;
  secrets: string[];
}

function render(template: string, forms: Form[], picks: number[], secrets: string[], numbers: number[]): Rendered {
  const used: string[] = [];
  let k = 0;
  const sql = template.replace(/\{L\}/g, () => {
    const form = forms[picks[k] % forms.length];
    const text = form(secrets[k], numbers[k]);
    used.push(text.includes(String(numbers[k])) || text.includes(numbers[k].toString(16)) ? String(numbers[k]) : secrets[k]);
    k++;
    return text;
  });
  return { sql, secrets: used };
}

/** Fails with the statement and the output when anything of a secret shows. */
function expectNoLeak(dialect: SqlDialect, sql: string, secrets: string[]): string {
  const out = normalizeSql(sql, dialect);
  const context = `${dialect}: ${JSON.stringify(sql)}\n -> ${JSON.stringify(out)}`;
  expect(out.includes(MARK), context).toBe(false);
  for (const s of secrets) if (s.length > 0) expect(out.includes(s), context).toBe(false);
  // No digit run of a number literal either ($1 parameters are the only digits allowed).
  expect(/(?<![$\w])\d{4,}/.test(out), context).toBe(false);
  return out;
}

const picks = fc.array(fc.nat({ max: 1000 }), { minLength: SLOTS, maxLength: SLOTS });
const secrets = fc.array(secret, { minLength: SLOTS, maxLength: SLOTS });
const numbers = fc.array(numberSecret, { minLength: SLOTS, maxLength: SLOTS });
const template = fc.nat({ max: TEMPLATES.length - 1 });

describe.each([
  ['postgresql', PG_FORMS],
  ['mysql', MYSQL_FORMS],
] as Array<[SqlDialect, Form[]]>)('privacy properties, %s', (dialect, forms) => {
  it('no secret in any literal form appears in the normalized statement', () => {
    fc.assert(
      fc.property(template, picks, secrets, numbers, (t, p, s, n) => {
        const { sql, secrets: used } = render(TEMPLATES[t], forms, p, s, n);
        expectNoLeak(dialect, sql, used);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('the normalized statement and its fingerprint do not depend on the secrets', () => {
    fc.assert(
      fc.property(template, picks, secrets, numbers, secrets, numbers, (t, p, s1, n1, s2, n2) => {
        const a = normalizeSql(render(TEMPLATES[t], forms, p, s1, n1).sql, dialect);
        const b = normalizeSql(render(TEMPLATES[t], forms, p, s2, n2).sql, dialect);
        expect(b).toBe(a);
        expect(fingerprint(b)).toBe(fingerprint(a));
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });
});

// What the ORMs and query builders really emit, built without a connection.
const knexPg = knex({ client: 'pg' });
const knexMysql = knex({ client: 'mysql2' });
const sequelizePg = new Sequelize('postgres://u@127.0.0.1:1/db', { logging: false });
const sequelizeMysql = new Sequelize('mysql://u@127.0.0.1:1/db', { logging: false });
afterAll(async () => {
  await Promise.all([knexPg.destroy(), knexMysql.destroy(), sequelizePg.close(), sequelizeMysql.close()]);
});

type Builder = (s: string, n: number) => string;

function queryBuilders(k: typeof knexPg, sequelize: Sequelize): Builder[] {
  const qg = (sequelize.getQueryInterface() as unknown as { queryGenerator: QueryGenerator }).queryGenerator;
  return [
    (s, n) => k('users').where({ email: s }).whereIn('id', [n, n + 1]).toString(),
    (s, n) => k('users').insert({ email: s, n }).toString(),
    (s, n) => k('users').update({ note: s }).where('id', n).toString(),
    (s) => k('users').whereLike('name', s).orWhere('note', '<>', s).select('id').toString(),
    (s, n) => k.raw('select * from users where email = ? and id = ?', [s, n]).toString(),
    (s, n) => qg.selectQuery('users', { attributes: ['id'], where: { email: s, name: { [Op.like]: s }, id: { [Op.in]: [n, n + 1] } } }),
    (s, n) => qg.selectQuery('users', { where: { [Op.or]: [{ email: s }, { id: n }] }, limit: 10 }),
    (s) => `SELECT ${qg.escape(s)} AS x`,
  ];
}

interface QueryGenerator {
  selectQuery(table: string, options: object): string;
  escape(value: unknown): string;
}

describe.each([
  ['postgresql', () => queryBuilders(knexPg, sequelizePg)],
  ['mysql', () => queryBuilders(knexMysql, sequelizeMysql)],
] as Array<[SqlDialect, () => Builder[]]>)('privacy properties, Knex 3 and Sequelize 6 SQL, %s', (dialect, builders) => {
  it('no secret leaks, and the shape is stable', () => {
    const all = builders();
    fc.assert(
      fc.property(fc.nat({ max: all.length - 1 }), secret, secret, numberSecret, numberSecret, (b, s1, s2, n1, n2) => {
        const a = expectNoLeak(dialect, all[b](s1, n1), [s1, String(n1)]);
        const c = expectNoLeak(dialect, all[b](s2, n2), [s2, String(n2)]);
        expect(c).toBe(a);
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });
});
