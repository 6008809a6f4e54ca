/*
 * Small, pure readers of a normalized statement's shape, for the text of recommendations: which
 * table a query reads, which column its WHERE compares to a bind parameter, which columns its
 * WHERE and JOIN ... ON filter on.
 *
 * This is not a SQL parser. It tokenizes, walks the top level of SELECT / UPDATE / DELETE /
 * INSERT, and answers only what it can answer for certain: anything ambiguous (an unqualified
 * column in a join, two parameters compared in one WHERE, an OR, a CTE) gives `undefined` or
 * leaves the column out, because a recommendation naming the wrong column is worse than a
 * generic one. It only runs for findings, never per span, and it never throws.
 *
 * Identifiers are returned as written in the statement (`public.payments`, `"invoiceId"`), so
 * they can be pasted back into SQL.
 */

/** `FROM payments WHERE invoice_id = $1` -> `{ table: 'payments', column: 'invoice_id', param: '$1' }` */
export interface ParameterLookup {
  /** The table the column belongs to, as written (schema-qualified and quoted as in the statement). */
  table: string;
  /** The column, as written, without its table qualifier. */
  column: string;
  /** The bind parameter it is compared to: `$1`, `$2`, ... or `?`. */
  param: string;
}

export interface ColumnRef {
  table: string;
  column: string;
}

export type StatementVerb = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

// Token kinds.
const WORD = 1; // unquoted identifier or keyword
const QUOTED = 2; // "identifier" or `identifier`
const PARAM = 3; // $1 or ?
const VALUE = 4; // a literal the normalizer left (it should leave none) or a number
const PUNCT = 5; // operators and punctuation

interface Token {
  kind: number;
  text: string;
  /** Upper-cased text of a WORD, '' otherwise. */
  upper: string;
}

/** One token at a time (sticky); every alternative consumes at least one character. */
const TOKEN =
  /\s+|("(?:[^"]|"")*"|`(?:[^`]|``)*`)|(\$\d+|\?)|([A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)|('(?:[^'\\]|''|\\[\s\S])*'|\d[\d_.]*(?:[eE][+-]?\d+)?)|(::|<>|!=|<=|>=|\|\||[\s\S])/y;

const LEADING_VERB = /^[\s(]*([A-Za-z]+)/;
const SELECT_STAR = /\bSELECT\s+(?:DISTINCT\s+)?(?:(?:[A-Za-z_][\w$]*|"[^"]*"|`[^`]*`)\.)?\*/i;
const HAS_LIMIT = /\b(?:LIMIT|FETCH\s+(?:FIRST|NEXT)|TOP)\b/i;

/** Words that end a FROM list or a condition at the top level. */
const CLAUSE_END = new Set([
  'WHERE', 'GROUP', 'ORDER', 'LIMIT', 'OFFSET', 'HAVING', 'UNION', 'EXCEPT', 'INTERSECT',
  'RETURNING', 'FOR', 'WINDOW', 'FETCH', 'SET', 'USING', 'ON', 'VALUES', 'LOCK', 'INTO',
]);

/** Words that start a join. */
const JOIN_START = new Set(['JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'OUTER', 'CROSS', 'NATURAL', 'STRAIGHT_JOIN']);

/** Words that can never be a table, an alias or a column. */
const RESERVED = new Set([
  ...CLAUSE_END, ...JOIN_START,
  'SELECT', 'FROM', 'AS', 'AND', 'OR', 'NOT', 'NULL', 'TRUE', 'FALSE', 'IS', 'IN', 'LIKE', 'ILIKE',
  'BETWEEN', 'EXISTS', 'ANY', 'ALL', 'SOME', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'DISTINCT',
  'ONLY', 'LATERAL', 'USE', 'FORCE', 'IGNORE', 'TABLESAMPLE', 'WITH', 'INDEX', 'KEY',
]);

const COMPARISON_OPS = new Set(['=', '<', '>', '<=', '>=', '<>', '!=']);
const COMPARISON_WORDS = new Set(['LIKE', 'ILIKE', 'IN', 'BETWEEN', 'IS']);

interface TableRef {
  /** As written; undefined for a derived table (subquery, function). */
  name: string | undefined;
  /** Matching key of the table's own name (last part). */
  key: string | undefined;
  /** Matching key of the alias. */
  alias: string | undefined;
}

interface Parsed {
  verb: StatementVerb;
  tokens: Token[];
  tables: TableRef[];
  /** Token ranges [start, end) of the WHERE condition and of every JOIN ... ON condition. */
  where: [number, number] | undefined;
  joins: Array<[number, number]>;
}

/** SELECT, INSERT, UPDATE or DELETE when the statement starts with one, else undefined. */
export function statementVerb(statement: string): StatementVerb | undefined {
  const m = LEADING_VERB.exec(statement);
  if (m === null) return undefined;
  const verb = m[1].toUpperCase();
  return verb === 'SELECT' || verb === 'INSERT' || verb === 'UPDATE' || verb === 'DELETE' ? verb : undefined;
}

/** Whether the statement selects every column (`SELECT *`, `SELECT t.*`). */
export function selectsStar(statement: string): boolean {
  return SELECT_STAR.test(statement);
}

/** Whether the statement bounds its rows (LIMIT, FETCH FIRST, TOP). */
export function hasLimit(statement: string): boolean {
  return HAS_LIMIT.test(statement);
}

/** The table a statement reads or writes first (`FROM x`, `INSERT INTO x`, `UPDATE x`), as written. */
export function mainTable(statement: string): string | undefined {
  return parse(statement)?.tables[0]?.name;
}

/**
 * The single column the WHERE clause compares with `=` to a bind parameter, and its table: the
 * lookup an N+1 loop repeats. When `$n` parameters are there, `?` ones are literals the
 * normalizer replaced and do not count. Undefined when there is none, more than one, an OR at the
 * top level of the WHERE, or the column cannot be tied to one table.
 */
export function parameterLookup(statement: string): ParameterLookup | undefined {
  const parsed = parse(statement);
  if (parsed === undefined || parsed.where === undefined || parsed.verb === 'INSERT') return undefined;
  const { tokens } = parsed;
  const [start, end] = parsed.where;
  let found: ParameterLookup | undefined;
  let ambiguous = false;
  let depth = 0;
  for (let i = start; i < end; i++) {
    const t = tokens[i];
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    if (depth !== 0) continue;
    if (t.upper === 'OR') return undefined;
    if (t.text !== '=' || tokens[i + 1]?.kind !== PARAM) continue;
    // The parameter must stand alone (a cast is fine): `= $1 + 1` is not a lookup.
    const after = skipCast(tokens, i + 2, end);
    if (after < end && tokens[after].upper !== 'AND') continue;
    const ref = columnBefore(tokens, i, start);
    if (ref === undefined) continue;
    if (ref.start !== start && tokens[ref.start - 1].upper !== 'AND') continue;
    const table = resolve(parsed.tables, ref.qualifier);
    if (table === undefined) return undefined;
    const candidate = { table, column: ref.column, param: tokens[i + 1].text };
    if (found === undefined) {
      found = candidate;
    } else if (bindsNumbered(candidate) === bindsNumbered(found)) {
      ambiguous = true;
    } else if (bindsNumbered(candidate)) {
      // In a PostgreSQL statement `$1` is what the code passes; a `?` is a literal the
      // normalizer replaced (`status = 'paid'`), the same on every call.
      found = candidate;
      ambiguous = false;
    }
  }
  return ambiguous ? undefined : found;
}

function bindsNumbered(lookup: ParameterLookup): boolean {
  return lookup.param !== '?';
}

/**
 * The columns the WHERE and JOIN ... ON conditions compare (=, <, LIKE, IN, BETWEEN, IS ...),
 * with their tables: where an index would help. Columns that cannot be tied to one table are left
 * out. At most `limit` of them, in statement order, without repeats.
 */
export function filterColumns(statement: string, limit = 6): ColumnRef[] {
  const parsed = parse(statement);
  if (parsed === undefined) return [];
  const out: ColumnRef[] = [];
  const seen = new Set<string>();
  const ranges = parsed.where === undefined ? parsed.joins : [...parsed.joins, parsed.where];
  for (const [start, end] of ranges) {
    const { tokens } = parsed;
    for (let i = start; i < end && out.length < limit; i++) {
      const t = tokens[i];
      if (t.text === '(' && isSubquery(tokens, i)) {
        i = closingParen(tokens, i) - 1;
        continue;
      }
      const isOp = (t.kind === PUNCT && COMPARISON_OPS.has(t.text)) || COMPARISON_WORDS.has(t.upper);
      if (!isOp) continue;
      const opStart = tokens[i - 1]?.upper === 'NOT' ? i - 1 : i;
      const left = columnBefore(tokens, opStart, start);
      const right = t.kind === PUNCT ? columnAfter(tokens, i + 1, end) : undefined;
      for (const ref of [left, right]) {
        if (ref === undefined) continue;
        const table = resolve(parsed.tables, ref.qualifier);
        if (table === undefined) continue;
        const id = `${table}\u0000${ref.column}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ table, column: ref.column });
      }
    }
  }
  return out.slice(0, limit);
}

// ---------------------------------------------------------------------------------------------

function parse(statement: string): Parsed | undefined {
  const verb = statementVerb(statement);
  if (verb === undefined) return undefined;
  const tokens = tokenize(statement);
  if (tokens.length === 0 || tokens[0].upper !== verb) return undefined; // `(SELECT ...) UNION ...`
  const parsed: Parsed = { verb, tokens, tables: [], where: undefined, joins: [] };
  let i = 1;
  if (verb === 'SELECT') {
    i = topLevelWord(tokens, 1, 'FROM');
    if (i < 0) return parsed;
    i = tableList(tokens, i + 1, parsed);
  } else if (verb === 'INSERT') {
    if (tokens[1]?.upper === 'IGNORE') i++;
    if (tokens[i]?.upper !== 'INTO' || !isIdentifier(tokens[i + 1])) return undefined;
    // Not tableRef: `INSERT INTO t (a, b)` is a column list, not a function call.
    const end = qualifiedNameEnd(tokens, i + 1);
    parsed.tables.push({ name: joinText(tokens, i + 1, end), key: identifierKey(tokens[end - 1]), alias: undefined });
    return parsed;
  } else if (verb === 'UPDATE') {
    while (tokens[i]?.upper === 'ONLY' || tokens[i]?.upper === 'LOW_PRIORITY' || tokens[i]?.upper === 'IGNORE') i++;
    i = tableList(tokens, i, parsed);
    if (tokens[i]?.upper !== 'SET') return undefined;
    const from = topLevelWord(tokens, i + 1, 'FROM');
    if (from >= 0) i = tableList(tokens, from + 1, parsed);
  } else {
    if (tokens[1]?.upper !== 'FROM') return undefined; // MySQL `DELETE t FROM ...`: not worth guessing
    i = tableList(tokens, 2, parsed);
    if (tokens[i]?.upper === 'USING') i = tableList(tokens, i + 1, parsed);
  }
  const where = topLevelWord(tokens, i, 'WHERE');
  if (where >= 0) parsed.where = [where + 1, conditionEnd(tokens, where + 1)];
  return parsed;
}

function tokenize(statement: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  const n = statement.length;
  while (TOKEN.lastIndex < n) {
    const m = TOKEN.exec(statement);
    if (m === null) break;
    if (m[1] !== undefined) tokens.push({ kind: QUOTED, text: m[1], upper: '' });
    else if (m[2] !== undefined) tokens.push({ kind: PARAM, text: m[2], upper: '' });
    else if (m[3] !== undefined) tokens.push({ kind: WORD, text: m[3], upper: m[3].toUpperCase() });
    else if (m[4] !== undefined) tokens.push({ kind: VALUE, text: m[4], upper: '' });
    else if (m[5] !== undefined) tokens.push({ kind: PUNCT, text: m[5], upper: '' });
  }
  return tokens;
}

/** Index of the first `word` at parenthesis depth 0 from `i`, or -1 (stops at a closing paren). */
function topLevelWord(tokens: Token[], i: number, word: string): number {
  let depth = 0;
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.text === '(') depth++;
    else if (t.text === ')' && --depth < 0) return -1;
    else if (depth === 0 && t.upper === word) return i;
  }
  return -1;
}

/** Parses `ref [, ref] [JOIN ref ON cond | USING (...)]...`; returns the index after it. */
function tableList(tokens: Token[], i: number, parsed: Parsed): number {
  i = tableRef(tokens, i, parsed);
  for (;;) {
    const t = tokens[i];
    if (t === undefined) return i;
    if (t.text === ',') {
      i = tableRef(tokens, i + 1, parsed);
    } else if (JOIN_START.has(t.upper)) {
      while (tokens[i] !== undefined && JOIN_START.has(tokens[i].upper)) i++;
      if (tokens[i]?.upper === 'LATERAL') i++;
      i = tableRef(tokens, i, parsed);
      if (tokens[i]?.upper === 'ON') {
        const end = conditionEnd(tokens, i + 1);
        parsed.joins.push([i + 1, end]);
        i = end;
      } else if (tokens[i]?.upper === 'USING' && tokens[i + 1]?.text === '(') {
        i = closingParen(tokens, i + 1);
      }
    } else {
      return i;
    }
  }
}

/** Parses one `[ONLY] name[.name] [[AS] alias]` or `(subquery) [AS] alias`; records it. */
function tableRef(tokens: Token[], i: number, parsed: Parsed): number {
  if (tokens[i]?.upper === 'ONLY') i++;
  const ref: TableRef = { name: undefined, key: undefined, alias: undefined };
  if (tokens[i]?.text === '(') {
    i = closingParen(tokens, i);
  } else if (isIdentifier(tokens[i])) {
    const start = i;
    i = qualifiedNameEnd(tokens, i);
    if (tokens[i]?.text === '(') {
      i = closingParen(tokens, i); // a set-returning function: unnest($1), generate_series(...)
    } else {
      ref.name = joinText(tokens, start, i);
      ref.key = identifierKey(tokens[i - 1]);
    }
  } else {
    return i;
  }
  if (tokens[i]?.upper === 'AS') i++;
  if (isIdentifier(tokens[i])) {
    ref.alias = identifierKey(tokens[i]);
    i++;
    if (tokens[i]?.text === '(') i = closingParen(tokens, i); // alias column list: AS t(a, b)
  }
  // MySQL index hints: USE INDEX (...), FORCE INDEX FOR JOIN (...)
  while (tokens[i]?.upper === 'USE' || tokens[i]?.upper === 'FORCE' || tokens[i]?.upper === 'IGNORE') {
    const open = tokens.findIndex((t, k) => k > i && t.text === '(');
    if (open < 0) break;
    i = closingParen(tokens, open);
  }
  parsed.tables.push(ref);
  return i;
}

/** Index after `name[.name]...` starting at the identifier at `i`. */
function qualifiedNameEnd(tokens: Token[], i: number): number {
  while (tokens[i + 1]?.text === '.' && isIdentifier(tokens[i + 2])) i += 2;
  return i + 1;
}

/** `a.b.c`: identifier tokens [start, end) are separated by dots and nothing else. */
function joinText(tokens: Token[], start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += tokens[i].text;
  return text;
}

/** End of a condition starting at `i`: the first top-level clause word, join, `,` or `)`. */
function conditionEnd(tokens: Token[], i: number): number {
  let depth = 0;
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.text === '(') depth++;
    else if (t.text === ')') {
      if (--depth < 0) return i;
    } else if (depth === 0 && (t.text === ',' || t.text === ';' || CLAUSE_END.has(t.upper) || JOIN_START.has(t.upper))) {
      return i;
    }
  }
  return i;
}

/** Index just after the parenthesis matching the `(` at `i` (or the end). */
function closingParen(tokens: Token[], i: number): number {
  let depth = 0;
  for (; i < tokens.length; i++) {
    if (tokens[i].text === '(') depth++;
    else if (tokens[i].text === ')' && --depth === 0) return i + 1;
  }
  return i;
}

function isSubquery(tokens: Token[], open: number): boolean {
  const next = tokens[open + 1]?.upper;
  return next === 'SELECT' || next === 'WITH' || next === 'VALUES';
}

/** Skips `::type`, `::type[]`, `::double precision` after a parameter. */
function skipCast(tokens: Token[], i: number, end: number): number {
  while (i < end && tokens[i].text === '::') {
    i++;
    while (i < end && tokens[i].kind === WORD && !RESERVED.has(tokens[i].upper)) i++;
    while (i + 1 < end && tokens[i].text === '[' && tokens[i + 1].text === ']') i += 2;
  }
  return i;
}

interface ColumnAt {
  start: number;
  column: string;
  /** Matching key of the table qualifier, if any. */
  qualifier: string | undefined;
}

/** The column reference ending just before `op` (`col`, `t.col`, `schema.t.col`), if it is one. */
function columnBefore(tokens: Token[], op: number, floor: number): ColumnAt | undefined {
  let i = op - 1;
  if (i < floor || !isIdentifier(tokens[i])) return undefined;
  const column = tokens[i];
  let qualifier: Token | undefined;
  if (i - 2 >= floor && tokens[i - 1].text === '.' && isIdentifier(tokens[i - 2])) {
    qualifier = tokens[i - 2];
    i -= 2;
    if (i - 2 >= floor && tokens[i - 1].text === '.' && isIdentifier(tokens[i - 2])) i -= 2;
  }
  const before = tokens[i - 1];
  if (i > floor && (before.text === '.' || before.text === '::')) return undefined; // x::text = $1
  return { start: i, column: column.text, qualifier: qualifier && identifierKey(qualifier) };
}

/** The column reference starting at `i` (not a function call), if it is one. */
function columnAfter(tokens: Token[], i: number, end: number): ColumnAt | undefined {
  if (i >= end || !isIdentifier(tokens[i])) return undefined;
  const parts = [tokens[i]];
  while (i + 2 < end && tokens[i + 1].text === '.' && isIdentifier(tokens[i + 2])) {
    parts.push(tokens[i + 2]);
    i += 2;
  }
  const next = tokens[i + 1];
  if (next !== undefined && (next.text === '(' || next.text === '.')) return undefined;
  if (parts.length > 3) return undefined;
  const qualifier = parts.length > 1 ? identifierKey(parts[parts.length - 2]) : undefined;
  return { start: i, column: parts[parts.length - 1].text, qualifier };
}

/** The table (as written) a column with this qualifier belongs to, if exactly one fits. */
function resolve(tables: TableRef[], qualifier: string | undefined): string | undefined {
  if (qualifier === undefined) return tables.length === 1 ? tables[0].name : undefined;
  const byAlias = tables.find((t) => t.alias === qualifier);
  if (byAlias !== undefined) return byAlias.name;
  const byName = tables.filter((t) => t.alias === undefined && t.key === qualifier);
  return byName.length === 1 ? byName[0].name : undefined;
}

function isIdentifier(t: Token | undefined): boolean {
  return t !== undefined && (t.kind === QUOTED || (t.kind === WORD && !RESERVED.has(t.upper)));
}

/** Unquoted names fold to lower case; quoted ones keep their case, without the quotes. */
function identifierKey(t: Token): string {
  if (t.kind !== QUOTED) return t.text.toLowerCase();
  const q = t.text[0];
  return t.text.slice(1, -1).split(q + q).join(q);
}
