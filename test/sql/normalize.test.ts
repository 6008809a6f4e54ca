import { describe, it, expect } from 'vitest';
import mysql from 'mysql2';
import { fingerprint, normalizeSql } from '../../src/sql';
import { DIALECTS } from '../../src/sql/dialect';
import { MAX_NORMALIZE_LENGTH } from '../../src/sql/normalize';

// [what it covers, input, expected]
const CASES: Array<[string, string, string]> = [
  ['empty input', '', ''],
  ['whitespace only', ' \t\r\n ', ''],
  ['integer and string', "SELECT * FROM users WHERE id = 42 AND name = 'bob'", 'SELECT * FROM users WHERE id = ? AND name = ?'],
  ['positional params stay', 'SELECT * FROM users WHERE id = $1 AND org = $12', 'SELECT * FROM users WHERE id = $1 AND org = $12'],
  ['digits inside identifiers', 'SELECT t1.col2, col_3 FROM t1 JOIN t22 ON t1.id = t22.t1_id', 'SELECT t1.col2, col_3 FROM t1 JOIN t22 ON t1.id = t22.t1_id'],
  ['quoted identifiers with digits and ""', 'SELECT "x1", "Col ""2""" FROM "Table9" WHERE "x1" = 7', 'SELECT "x1", "Col ""2""" FROM "Table9" WHERE "x1" = ?'],
  ['doubled quote in string', "SELECT 'it''s', 'a''''b' FROM t", 'SELECT ?, ? FROM t'],
  ['E string with backslash escapes', "SELECT E'it\\'s', e'\\\\', E'a''b' FROM t", 'SELECT ?, ?, ? FROM t'],
  ['B, X, N and U& prefixes', "SELECT B'0101', X'FF', N'naïve', U&'d\\0061t' FROM t", 'SELECT ?, ?, ?, ? FROM t'],
  ['casts kept', "SELECT '5'::int, $1::text[], 3.5::numeric(10, 2)", 'SELECT ?::int, $1::text[], ?::numeric(?, ?)'],
  ['decimals, leading dot, scientific', 'SELECT 1.5, .5, 10., 1.5e-3, 2E+10, 6e7 FROM t', 'SELECT ?, ?, ?, ?, ?, ? FROM t'],
  ['hex and underscored numbers', 'SELECT 0x1F, 0XABC, 1_000_000, 0b101 FROM t', 'SELECT ?, ?, ?, ? FROM t'],
  ['negative numbers where a value is expected', 'SELECT -1, f(-2.5), x = -5, y IN (-1, -2) FROM t WHERE z > -.5', 'SELECT ?, f(?), x = ?, y IN (?) FROM t WHERE z > ?'],
  ['binary minus stays', 'SELECT a - 5, a-5, (a) - 1, arr[1] - 1, $1 - 2, 3 - 4 FROM t', 'SELECT a - ?, a-?, (a) - ?, arr[?] - ?, $1 - ?, ? - ? FROM t'],
  ['minus after keywords', 'SELECT CASE WHEN a THEN -1 ELSE -2 END FROM t LIMIT -1', 'SELECT CASE WHEN a THEN ? ELSE ? END FROM t LIMIT ?'],
  ['line comment', 'SELECT 1 -- the answer\nFROM t', 'SELECT ? FROM t'],
  ['block comment', 'SELECT /* hint */ 1 FROM/*x*/t', 'SELECT ? FROM t'],
  ['nested block comment', 'SELECT 1 /* a /* b */ still comment */ FROM t', 'SELECT ? FROM t'],
  ['# is an operator, not a comment', 'SELECT 5 # 3, a # b FROM t', 'SELECT ? # ?, a # b FROM t'],
  ['multi-line with tabs and CRLF', 'SELECT\r\n\tid,\r\n\tname\r\nFROM\tusers\r\nWHERE\r\n\tid = 7\r\n', 'SELECT id, name FROM users WHERE id = ?'],
  ['trailing semicolon removed', 'SELECT 1;  ', 'SELECT ?'],
  ['inner semicolon kept', 'SELECT 1; SELECT 2;', 'SELECT ?; SELECT ?'],
  ['keywords keep their case; TRUE/FALSE/NULL are words', 'select * from T where a is null and b = true and c <> FALSE', 'select * from T where a is null and b = true and c <> FALSE'],
  ['IN list of literals', 'SELECT * FROM t WHERE id IN (1, 2, 3)', 'SELECT * FROM t WHERE id IN (?)'],
  ['NOT IN and lowercase in', "SELECT * FROM t WHERE a NOT IN (1,2) AND b in ('x', 'y') AND c IN ($1, $2)", 'SELECT * FROM t WHERE a NOT IN (?) AND b in (?) AND c IN (?)'],
  ['IN subquery is not collapsed', 'SELECT * FROM t WHERE id IN (SELECT user_id FROM u WHERE org = 5)', 'SELECT * FROM t WHERE id IN (SELECT user_id FROM u WHERE org = ?)'],
  ['IN list with an expression is not collapsed', 'SELECT * FROM t WHERE id IN (1, a + 2)', 'SELECT * FROM t WHERE id IN (?, a + ?)'],
  ['= ANY($1) stays', 'SELECT * FROM t WHERE id = ANY($1)', 'SELECT * FROM t WHERE id = ANY($1)'],
  ['ARRAY literal collapses', 'SELECT * FROM t WHERE id = ANY(ARRAY[1, 2, 3]) AND tags && array[$1,$2]', 'SELECT * FROM t WHERE id = ANY(ARRAY[?]) AND tags && array[?]'],
  ['array subscripts and slices', 'SELECT arr[1], arr[2:3] FROM t', 'SELECT arr[?], arr[?:?] FROM t'],
  ['multi-row VALUES collapse', "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", 'INSERT INTO t (a, b) VALUES (?, ?)'],
  ['VALUES with RETURNING', 'INSERT INTO t (a) VALUES ($1), ($2) RETURNING id;', 'INSERT INTO t (a) VALUES ($1), ($2) RETURNING id'],
  ['VALUES with nested calls', "INSERT INTO t (a, b) VALUES (1, now()), (2, now()),(3, now()) ON CONFLICT (a) DO NOTHING", 'INSERT INTO t (a, b) VALUES (?, now()) ON CONFLICT (a) DO NOTHING'],
  ['VALUES tuples of different lengths kept', 'INSERT INTO t VALUES (1, 2), (3), (4, 5, 6)', 'INSERT INTO t VALUES (?, ?), (?), (?, ?, ?)'],
  ['VALUES with a comment between tuples', 'INSERT INTO t VALUES (1), /* two */ (2),\n(3)', 'INSERT INTO t VALUES (?)'],
  ['VALUES with different tuples kept', "INSERT INTO t (a, b) VALUES (1, 'x'), (2, DEFAULT)", 'INSERT INTO t (a, b) VALUES (?, ?), (?, DEFAULT)'],
  ['UPDATE ... SET', "UPDATE accounts SET balance = balance - 100.50, note = 'x' WHERE id = 3", 'UPDATE accounts SET balance = balance - ?, note = ? WHERE id = ?'],
  ['DELETE', "DELETE FROM sessions WHERE expires_at < now() - INTERVAL '1 day'", 'DELETE FROM sessions WHERE expires_at < now() - INTERVAL ?'],
  ['CTE', "WITH recent AS (SELECT * FROM orders WHERE created_at > '2024-01-01') SELECT count(*) FROM recent WHERE total > 100", 'WITH recent AS (SELECT * FROM orders WHERE created_at > ?) SELECT count(*) FROM recent WHERE total > ?'],
  ['JSON operators', "SELECT data->>'name', data->'a'->>0, data #>> '{a,b}' FROM docs WHERE tags @> '{\"x\": 1}'", 'SELECT data->>?, data->?->>?, data #>> ? FROM docs WHERE tags @> ?'],
  ['jsonb ? operator is not a placeholder', "SELECT * FROM docs WHERE data ? 'key' AND data ?| array['a']", 'SELECT * FROM docs WHERE data ? ? AND data ?| array[?]'],
  ['LIKE pattern', "SELECT * FROM t WHERE name LIKE '%x%' OR name ILIKE 'a_%'", 'SELECT * FROM t WHERE name LIKE ? OR name ILIKE ?'],
  ['BETWEEN', 'SELECT * FROM t WHERE x BETWEEN 1 AND 10', 'SELECT * FROM t WHERE x BETWEEN ? AND ?'],
  ['LIMIT OFFSET', 'SELECT * FROM t ORDER BY id LIMIT 10 OFFSET 20', 'SELECT * FROM t ORDER BY id LIMIT ? OFFSET ?'],
  ['function calls with numeric args', 'SELECT round(x, 2), substr(name, 1, 3), power(2, -1) FROM t', 'SELECT round(x, ?), substr(name, ?, ?), power(?, ?) FROM t'],
  ['dollar-quoted strings', 'SELECT $$a \'quoted\' $$, $tag$ has $$ inside $tag$', 'SELECT ?, ?'],
  ['dollar-quoted function body', "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 42; END $body$ LANGUAGE plpgsql", 'CREATE FUNCTION f() RETURNS int AS ? LANGUAGE plpgsql'],
  ['identifiers containing $', 'SELECT a$b, c$1 FROM t', 'SELECT a$b, c$1 FROM t'],
  ['PostgreSQL string ending in a backslash', "SELECT 'C:\\', 'D:\\' FROM t", 'SELECT ?, ? FROM t'],
  ['unicode identifiers', 'SELECT ñ FROM tábla WHERE ñ = 1', 'SELECT ñ FROM tábla WHERE ñ = ?'],
  ['standard string: backslash is ordinary, quotes doubled', "SELECT 'C:\\''docs''' AS path, 'alice@example.com'", 'SELECT ? AS path, ?'],
  ['standard strings ending in a backslash', "SELECT 'C:\\', 'D:\\' FROM t", 'SELECT ?, ? FROM t'],
  ['"..." is an identifier in PostgreSQL', 'SELECT "abc" FROM t', 'SELECT "abc" FROM t'],
  ['U& identifiers are kept', 'SELECT U&"d\\0061t" FROM t', 'SELECT U&"d\\0061t" FROM t'],
  ['an E string continued after a newline keeps backslash escapes', "SELECT E'a'\n  'b\\'secret' FROM t", 'SELECT ? FROM t'],
  ['a standard string continued after a newline', "SELECT 'a'\n'b' FROM t", 'SELECT ? FROM t'],
  ['backticks are no quotes in PostgreSQL', "SELECT `a, 'b`' FROM t", 'SELECT `a, ? FROM t'],
  ['typed literals', "SELECT DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', INTERVAL '2 hours'", 'SELECT DATE ?, TIMESTAMP ?, INTERVAL ?'],
];

// MySQL/MariaDB: backslash escapes, "..." strings, # and `-- ` comments, executable comments.
const MYSQL_CASES: Array<[string, string, string]> = [
  ['mysql2 format with a quote in a value', "SELECT 'students\\' grades' AS name, 'alice@example.com' AS email", 'SELECT ? AS name, ? AS email'],
  ['backticks and ? placeholders', 'SELECT `id`, `col 1` FROM `db`.`t1` WHERE `a` = ? AND b IN (?, ?, ?) LIMIT ?', 'SELECT `id`, `col 1` FROM `db`.`t1` WHERE `a` = ? AND b IN (?) LIMIT ?'],
  ['backslash-escaped quotes', "SELECT * FROM t WHERE name = 'O\\'Brien' AND x = 'it\\'s'", 'SELECT * FROM t WHERE name = ? AND x = ?'],
  ['a string ending in an escaped backslash', "SELECT 'C:\\\\', 'alice@example.com' FROM t", 'SELECT ?, ? FROM t'],
  ['"..." is a string', 'SELECT "alice@example.com", "say \\"hi\\"", "a""b" FROM t', 'SELECT ?, ?, ? FROM t'],
  ['# comment', 'SELECT a # alice@example.com\nFROM t', 'SELECT a FROM t'],
  ['-- comment needs a space', 'SELECT 1--1, a -- alice@example.com\nFROM t', 'SELECT ?-?, a FROM t'],
  ['block comments do not nest', 'SELECT /* a /* b */ 1 FROM t', 'SELECT ? FROM t'],
  ['executable comments are SQL', "SELECT /*!40001 SQL_NO_CACHE */ a, /*M!100100 'alice@example.com' */ b FROM t", 'SELECT SQL_NO_CACHE a, ? b FROM t'],
  ['hex, bit and national strings', "SELECT X'4142', x'41', b'1010', B'1', N'alice', 0x414243, 0b101 FROM t", 'SELECT ?, ?, ?, ?, ?, ?, ? FROM t'],
  ['charset introducers are kept, their strings are not', "SELECT _utf8mb4'alice@example.com', _latin1 \"bob\" FROM t", 'SELECT _utf8mb4?, _latin1 ? FROM t'],
  ['$ is an identifier character', 'SELECT $a, b$ FROM t$1', 'SELECT $a, b$ FROM t$1'],
  ['E is no prefix', "SELECT E'a\\'b' FROM t", 'SELECT E? FROM t'],
];

// Not tokenizable with certainty: only the verb and the tables before the first quote or comment.
const FAIL_CLOSED: Array<[string, string, 'postgresql' | 'mysql' | 'unknown', string]> = [
  ['unterminated string', "SELECT * FROM t WHERE a = 'never closed", 'postgresql', 'SELECT FROM t ?'],
  ['unterminated E string ending in backslash', "SELECT E'abc\\", 'postgresql', 'SELECT ?'],
  ['unterminated block comment', 'SELECT 1 FROM t /* never /* closed */', 'postgresql', 'SELECT FROM t ?'],
  ['unterminated dollar quote', 'SELECT $x$ abc', 'postgresql', 'SELECT ?'],
  ['lone $', 'SELECT $ FROM t', 'postgresql', 'SELECT ?'],
  ['malformed dollar tag', 'SELECT $a-b$ x $a-b$', 'postgresql', 'SELECT ?'],
  ['unterminated quoted identifier', 'SELECT "abc', 'postgresql', 'SELECT ?'],
  ['unterminated MySQL string after a backslash', "UPDATE users SET a = 'x\\' WHERE id = 1", 'mysql', 'UPDATE users ?'],
  ['unterminated executable comment', 'SELECT /*! 1 FROM t', 'mysql', 'SELECT ?'],
  ['unterminated backtick', 'SELECT `a FROM t', 'mysql', 'SELECT ?'],
  ['unknown dialect', "INSERT INTO audit.log (a) VALUES ('alice@example.com')", 'unknown', 'INSERT INTO audit.log ?'],
  ['unknown dialect, joins', "SELECT a FROM users u JOIN orders o ON o.id = 'x'", 'unknown', 'SELECT FROM users JOIN orders ?'],
  ['no verb', "'alice@example.com'", 'unknown', '?'],
  ['numbers are never tables', 'DELETE FROM 0xdeadbeef', 'unknown', 'DELETE ?'],
];

describe('normalizeSql (PostgreSQL, the default)', () => {
  it.each(CASES)('%s', (_name, input, expected) => {
    expect(normalizeSql(input)).toBe(expected);
    expect(normalizeSql(input, 'postgresql')).toBe(expected);
  });

  it('fails closed past the length bound', () => {
    const sql = `SELECT a FROM t WHERE b = '${'x'.repeat(MAX_NORMALIZE_LENGTH)}'`;
    expect(normalizeSql(sql)).toBe('SELECT FROM t ?');
  });

  it('normalizes a 100 KB statement to a bounded result', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `(${i}, 'name ${i}', ${i * 1.5})`);
    const sql = `INSERT INTO t (a, b, c) VALUES ${rows.join(', ')}`;
    expect(sql.length).toBeGreaterThan(100_000);
    expect(normalizeSql(sql)).toBe('INSERT INTO t (a, b, c) VALUES (?, ?, ?)');
  });

  it('never throws on arbitrary input', () => {
    const rand = prng(7);
    const alphabet = "ab1 .-'\"`$/*\\\n()[],;:?#E";
    for (let k = 0; k < 2000; k++) {
      let s = '';
      for (let j = rand() * 40; j > 0; j--) s += alphabet[Math.floor(rand() * alphabet.length)];
      for (const dialect of DIALECTS) expect(typeof normalizeSql(s, dialect)).toBe('string');
    }
  });
});

describe('normalizeSql (MySQL/MariaDB)', () => {
  it.each(MYSQL_CASES)('%s', (_name, input, expected) => {
    expect(normalizeSql(input, 'mysql')).toBe(expected);
  });

  it("reads mysql2's own format() output (issue 8's first case)", () => {
    const sql = mysql.format('SELECT ? AS name, ? AS email', ["students' grades", 'alice@example.com']);
    expect(sql).toBe("SELECT 'students\\' grades' AS name, 'alice@example.com' AS email");
    expect(normalizeSql(sql, 'mysql')).toBe('SELECT ? AS name, ? AS email');
  });
});

describe('normalizeSql fails closed', () => {
  it.each(FAIL_CLOSED)('%s', (_name, input, dialect, expected) => {
    expect(normalizeSql(input, dialect)).toBe(expected);
  });
});

// Statement shapes with slots: {n} a number, {s} a string, {list} an IN list, {rows} VALUES rows.
const TEMPLATES = [
  'SELECT * FROM users WHERE id = {n} AND email = {s}',
  'SELECT id, name FROM "Accounts1" WHERE org_id = {n} AND status IN ({list}) ORDER BY id LIMIT {n} OFFSET {n}',
  'INSERT INTO events (a, b, c) VALUES {rows} RETURNING id',
  'UPDATE accounts SET balance = balance - {n}, note = {s} WHERE id = {n}',
  'DELETE FROM sessions WHERE expires_at < now() - INTERVAL {s} AND user_id = {n}',
  'SELECT data ->> {s} FROM docs WHERE tags @> {s}::jsonb AND score BETWEEN {n} AND {n}',
  'SELECT * FROM t WHERE name LIKE {s} AND x = round({n}, {n})',
  'WITH x AS ( SELECT id FROM t WHERE v > {n} ) SELECT * FROM x WHERE id NOT IN ({list})',
];

const SEPARATORS = [' ', '  ', '\t', '\n', '\r\n', ' /* note */ ', ' -- note\n', ' /* a /* b */ c */ ', '\n\t '];

describe('normalizeSql properties', () => {
  it('leaks none of the literal values', () => {
    const rand = prng(42);
    for (let k = 0; k < 500; k++) {
      const secrets: string[] = [];
      const sql = render(TEMPLATES[k % TEMPLATES.length], rand, secrets, k % 2 === 1);
      const out = normalizeSql(sql);
      for (const secret of secrets) expect(out, sql).not.toContain(secret);
    }
  });

  it('gives one fingerprint per shape, whatever the literals, whitespace and comments', () => {
    const rand = prng(1234);
    const byShape = TEMPLATES.map((template) => {
      const prints = new Set<string>();
      for (let k = 0; k < 50; k++) {
        prints.add(fingerprint(normalizeSql(render(template, rand, [], k > 0))));
      }
      expect(prints.size, template).toBe(1);
      return [...prints][0];
    });
    expect(new Set(byShape).size).toBe(TEMPLATES.length);
  });
});

/** Mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function render(template: string, rand: () => number, secrets: string[], vary: boolean): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const count = () => 1 + Math.floor(rand() * 8);
  const number = () => {
    const digits = String(100000 + Math.floor(rand() * 899999999));
    secrets.push(digits);
    return pick([digits, `-${digits}`, `${digits}.25`, `.${digits}`, `${digits}e-3`, `0x${digits}`]);
  };
  const string = () => {
    const secret = `zq${Math.floor(rand() * 1e9).toString(36)}`;
    secrets.push(secret);
    return pick([
      `'${secret}'`,
      `'${secret} it''s'`,
      `E'${secret} it\\'s'`,
      `$$${secret} 'x'$$`,
      `$q$${secret}$q$`,
      `N'${secret}'`,
    ]);
  };
  const list = () => Array.from({ length: count() }, () => (rand() < 0.5 ? number() : string())).join(', ');
  const rows = () => Array.from({ length: count() }, () => `(${number()}, ${string()}, ${number()})`).join(', ');
  const sql = template.replace(/\{(n|s|list|rows)\}/g, (_m, slot: string) =>
    slot === 'n' ? number() : slot === 's' ? string() : slot === 'list' ? list() : rows(),
  );
  return vary ? sql.replace(/ /g, () => pick(SEPARATORS)) : sql;
}
