/*
 * SQL normalization for query spans: every literal becomes `?`, so no value (and no PII) leaves
 * the process, and statements that differ only in literals, whitespace or comments normalize to
 * the same text, so they share a fingerprint.
 *
 * The lexical rules are the statement's dialect's, exactly (see dialect.ts and lexemes.ts):
 * where a literal ends is never guessed. When the text cannot be tokenized with certainty (an
 * unterminated quote, comment or dollar quote, an unknown dialect, a text over the length
 * bound), nothing of it is copied: failClosed keeps only its verb and table names.
 *
 * This runs on every query span, so it is one left-to-right pass over char codes. Input that is
 * kept verbatim is copied as slices of the original; only literals, whitespace and comments
 * break a run.
 */
import type { SqlDialect } from './dialect';
import { failClosed } from './fail-closed';
import {
  UNTERMINATED, dollarQuoteEnd, executableCommentBody, flatCommentEnd, isMysqlDashComment,
  lineCommentEnd, nestedCommentEnd, pgContinuation,
} from './lexemes';

// Char codes as local constants: imported ones would be property loads on the hot path
// (CommonJS exports are assigned twice, so the engine cannot fold them).
const TAB = 9, LF = 10, CR = 13, SPACE = 32, PLUS = 43, BACKSLASH = 92, DQUOTE = 34, HASH = 35, DOLLAR = 36, AMP = 38, QUOTE = 39;
const LPAREN = 40, RPAREN = 41, STAR = 42, COMMA_CH = 44, MINUS = 45, DOT = 46, SLASH = 47;
const SEMI = 59, QMARK = 63, LBRACKET = 91, RBRACKET = 93, BACKTICK = 96;

/** Longer statements are not scanned at all (fail closed): the work per span stays bounded. */
const MAX_LENGTH = 512 * 1024;
export { MAX_LENGTH as MAX_NORMALIZE_LENGTH };

// Token kinds, as seen by the rules that look back at the previous token.
const NONE = 0; // start of input, or after `;`
const WORD = 1; // keyword or identifier
const IDENT = 2; // "quoted" or `backticked` identifier
const VALUE = 3; // literal (already `?`) or bind parameter ($1, ?)
const OPEN = 4;
const CLOSE = 5;
const COMMA = 6;
const OPERATOR = 7;

// Where we are in `VALUES (...), (...)`, whose repeated identical tuples collapse into one.
const V_NONE = 0;
const V_EXPECT = 1; // after VALUES or after `,` between tuples: a `(` starts a tuple
const V_TUPLE = 2; // inside a tuple
const V_AFTER = 3; // a tuple just closed

// ASCII word characters: 2 starts a word, 1 only continues one. A table lookup is cheaper
// than a chain of range tests, and word characters are most of any statement.
const WORD_ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
  WORD_ASCII[c] = letter || c === 0x5f ? 2 : isDigit(c) || c === DOLLAR ? 1 : 0;
}

/** Words after which a value is expected: a `-` before a number is its sign, `?` a placeholder. */
const VALUE_KEYWORDS = new Set([
  'all', 'and', 'any', 'between', 'by', 'case', 'default', 'distinct', 'else', 'escape', 'for',
  'from', 'having', 'ilike', 'in', 'is', 'like', 'limit', 'not', 'offset', 'on', 'or', 'return',
  'returning', 'select', 'set', 'some', 'then', 'to', 'values', 'when', 'where',
]);

/**
 * `SELECT * FROM t WHERE a = 'x' AND b IN (1, 2) -- c`
 *   -> `SELECT * FROM t WHERE a = ? AND b IN (?)`.
 * Also: `$1` parameters, identifiers (quoted or not) and casts are kept; `IN (...)` and
 * `ARRAY[...]` lists of values become one `?`; repeated identical `VALUES` tuples become one;
 * whitespace and comments become one space; a trailing `;` is dropped; keywords keep their case.
 *
 * PostgreSQL (the default): standard strings ('it''s', backslash ordinary), E'..', U&'..',
 * N'..', B'..', X'..', $tag$..$tag$, nested block comments, "identifiers". MySQL/MariaDB:
 * backslash escapes in '..' and "..", both strings; `identifiers`; # and `-- ` comments;
 * /*! executable comments *\/ read as SQL. Unknown: only failClosed's summary.
 */
export function normalizeSql(text: string, dialect: SqlDialect = 'postgresql'): string {
  if (dialect === 'unknown' || text.length > MAX_LENGTH) return failClosed(text);
  const mysql = dialect === 'mysql';
  const n = text.length;
  const out = new Output(text);
  let prev = NONE;
  let wordStart = 0; // span of the last WORD token
  let wordEnd = 0;
  let depth = 0; // parenthesis depth
  let listMark = -1; // output mark after `IN (` or `ARRAY[`, while only values follow it
  let listClose = RPAREN;
  let listItems = 0;
  let values = V_NONE;
  let tupleDepth = 0;
  let tupleMark = 0;
  let keepMark = 0; // output mark just after the first tuple
  let firstTuple: string | undefined;
  let executable = false; // inside a MySQL /*! ... */ comment, whose body is SQL

  let i = 0;
  // Every uncertainty leaves the loop for the one call of failClosed after it (calls inside the
  // loop would each be inlined into it, and crowd out the small helpers that need to be).
  scan: while (i < n) {
    const c = text.charCodeAt(i);
    let end = i + 1;
    let kind = OPERATOR;

    // Most frequent first: words, spaces, numbers, strings, punctuation; the characters whose
    // meaning depends on the dialect last, so that each dialect test is made only for them.
    if (isWordStart(c)) {
      end = wordCharsEnd(text, end);
      const quote = prefixedQuote(text, i, end, mysql);
      if (quote > 0) {
        end = mysql
          ? backslashStringEnd(text, quote + 1, QUOTE)
          : pgStringEnd(text, quote + 1, (c | 0x20) === 0x65);
        if (end === UNTERMINATED) break scan;
        out.literal(i, end);
        kind = VALUE;
      } else {
        kind = WORD;
      }
    } else if (isSpace(c)) {
      while (end < n && isSpace(text.charCodeAt(end))) end++;
      // A lone space that is already in the right place stays in the verbatim run: most
      // statements are written with single spaces, and every break in a run costs a slice.
      // No space follows `(` or `[` (see Output), which the previous token tells cheaply.
      if (c !== SPACE || end !== i + 1 || prev === OPEN || !out.canKeepSpace(i)) out.separator(i, end);
      i = end;
      continue;
    } else if (isDigit(c) || (c === DOT && isDigit(charAt(text, i + 1)))) {
      end = numberEnd(text, i);
      out.literal(i, end);
      kind = VALUE;
    } else if (c === QUOTE) {
      end = mysql ? backslashStringEnd(text, i + 1, c) : pgStringEnd(text, i + 1, false);
      if (end === UNTERMINATED) break scan;
      out.literal(i, end);
      kind = VALUE;
    } else if (c === COMMA_CH) {
      kind = COMMA;
    } else if (c === LPAREN || c === LBRACKET) {
      kind = OPEN;
    } else if (c === RPAREN || c === RBRACKET) {
      kind = CLOSE;
    } else if (c === MINUS || c === SLASH || (mysql && (c === HASH || (c === STAR && executable)))) {
      const comment = commentEnd(text, i, c, mysql, executable);
      if (comment !== NO_COMMENT) {
        if (comment === UNTERMINATED) break scan;
        // Executable comments open and close here (commentEnd has checked which it is).
        if (mysql && c !== MINUS && c !== HASH) executable = c === SLASH ? executableCommentBody(text, i) >= 0 : false;
        out.separator(i, comment);
        i = comment;
        continue;
      }
      const c1 = charAt(text, i + 1);
      if (
        c === MINUS &&
        (isDigit(c1) || (c1 === DOT && isDigit(charAt(text, i + 2)))) &&
        expectsValue(prev, text, wordStart, wordEnd)
      ) {
        end = numberEnd(text, i + 1);
        out.literal(i, end);
        kind = VALUE;
      }
    } else if (c === DQUOTE) {
      if (mysql) {
        end = backslashStringEnd(text, i + 1, c); // a string in MySQL
        if (end === UNTERMINATED) break scan;
        out.literal(i, end);
        kind = VALUE;
      } else {
        end = quotedIdentifierEnd(text, i + 1, c);
        if (end === UNTERMINATED) break scan;
        kind = IDENT;
      }
    } else if (c === DOLLAR) {
      if (mysql) {
        end = wordCharsEnd(text, end); // `$` is an identifier character in MySQL
        kind = WORD;
      } else if (isDigit(charAt(text, i + 1))) {
        end = digitsEnd(text, i + 1); // $1: a bind parameter, kept as is
        kind = VALUE;
      } else {
        end = dollarQuoteEnd(text, i);
        if (end === UNTERMINATED) break scan;
        out.literal(i, end);
        kind = VALUE;
      }
    } else if (c === SEMI) {
      kind = NONE;
    } else if (c === QMARK && expectsValue(prev, text, wordStart, wordEnd)) {
      kind = VALUE; // a `?` placeholder (MySQL); elsewhere `?` is a jsonb operator
    } else if (c === BACKTICK && mysql) {
      end = quotedIdentifierEnd(text, i + 1, c);
      if (end === UNTERMINATED) break scan;
      kind = IDENT;
    }

    if (kind === OPEN) {
      if (c === LPAREN) {
        if (values === V_EXPECT) {
          tupleMark = out.mark(i);
          tupleDepth = depth;
          values = V_TUPLE;
        } else if (values === V_AFTER) {
          values = V_NONE;
        }
        depth++;
      } else if (values !== V_TUPLE) {
        values = V_NONE;
      }
      const opensList =
        prev === WORD && wordIs(text, wordStart, wordEnd, c === LPAREN ? 'in' : 'array');
      listMark = opensList ? out.mark(end) : -1;
      listClose = c === LPAREN ? RPAREN : RBRACKET;
      listItems = 0;
    } else if (kind === CLOSE) {
      if (listMark >= 0 && listItems > 0 && c === listClose) out.rewind(listMark, i, '?');
      listMark = -1;
      if (c === RPAREN && depth > 0) depth--;
      if (values === V_TUPLE && c === RPAREN && depth === tupleDepth) {
        if (firstTuple === undefined) {
          firstTuple = out.since(tupleMark, end);
          keepMark = out.mark(end);
          values = V_AFTER;
        } else if (out.matches(tupleMark, end, firstTuple)) {
          out.rewind(keepMark, end);
          values = V_AFTER;
        } else {
          values = V_NONE; // tuples differ: keep the rest as written
        }
      } else if (values !== V_TUPLE) {
        values = V_NONE;
      }
    } else if (kind === COMMA) {
      if (values === V_AFTER) values = V_EXPECT;
      else if (values === V_EXPECT) values = V_NONE;
    } else {
      if (kind === VALUE) {
        if (listMark >= 0) listItems++;
      } else {
        listMark = -1;
      }
      if (values !== V_TUPLE) values = V_NONE;
      if (kind === WORD && wordIs(text, i, end, 'values')) {
        values = V_EXPECT;
        firstTuple = undefined;
      }
    }

    prev = kind;
    if (kind === WORD) {
      wordStart = i;
      wordEnd = end;
    }
    i = end;
  }
  // Stopped early (uncertain), or an executable comment never closed (its body's end unknown).
  if (i < n || executable) return failClosed(text);
  return out.finish();
}

const NO_COMMENT = -2;

/**
 * End of the comment that starts at `i` with `c` (`-`, `/`, `#` or `*`), UNTERMINATED, or
 * NO_COMMENT. PostgreSQL: `--`, nested `/* *\/`. MySQL: `-- `, `#`, flat `/* *\/`; for an
 * executable comment (`/*!`, `/*M!`) only its opening marker, and its closing `*\/`, are the
 * comment (its body is SQL). Kept out of the main loop, which is hot and already long.
 */
function commentEnd(text: string, i: number, c: number, mysql: boolean, executable: boolean): number {
  const c1 = charAt(text, i + 1);
  if (c === MINUS) {
    if (c1 !== MINUS || (mysql && !isMysqlDashComment(text, i))) return NO_COMMENT;
    return lineCommentEnd(text, i + 2);
  }
  if (c === SLASH) {
    if (c1 !== STAR) return NO_COMMENT;
    if (!mysql) return nestedCommentEnd(text, i + 2);
    // MySQL does not nest comments: another one inside an executable one is ambiguous.
    if (executable) return UNTERMINATED;
    const body = executableCommentBody(text, i);
    return body >= 0 ? body : flatCommentEnd(text, i + 2);
  }
  if (c === HASH) return mysql ? lineCommentEnd(text, i + 1) : NO_COMMENT;
  return executable && c1 === SLASH ? i + 2 : NO_COMMENT; // `*/` closing an executable comment
}

/**
 * End of a PostgreSQL string constant whose body starts at `i` (escape string when `escape`),
 * including the parts it continues with after a newline: they keep its rules (which matters for
 * E'' strings) and are one constant, so one `?`.
 */
function pgStringEnd(text: string, i: number, escape: boolean): number {
  const end = escape ? backslashStringEnd(text, i, QUOTE) : standardStringEnd(text, i);
  // Most strings are followed by `,`, `)`, `:` or one space and a word: no continuation.
  const after = end < 0 ? -1 : charAt(text, end);
  if (after !== SPACE && after !== LF && after !== TAB && after !== CR) return end;
  return continuedStringEnd(text, end, escape);
}

/** pgStringEnd past whitespace: follows the continuations, if any. */
function continuedStringEnd(text: string, end: number, escape: boolean): number {
  for (;;) {
    let k = end;
    while (charAt(text, k) === SPACE || charAt(text, k) === TAB) k++;
    const after = charAt(text, k);
    if (after !== LF && after !== CR) return end;
    const next = pgContinuation(text, end);
    if (next < 0) return end;
    end = escape ? backslashStringEnd(text, next + 1, QUOTE) : standardStringEnd(text, next + 1);
    if (end === UNTERMINATED) return end;
  }
}

/** The normalized text, built from slices of the input plus `?` and single spaces. */
class Output {
  private readonly parts: string[] = [];
  private from = 0; // start of the input run not yet copied
  private spaced = false; // the output so far ends with a space

  constructor(private readonly text: string) {}

  /** Copies input up to `end` and returns a mark that `rewind` can cut back to. */
  mark(end: number): number {
    this.copy(end);
    return this.parts.length;
  }

  literal(start: number, end: number): void {
    this.copy(start);
    this.parts.push('?');
    this.spaced = false;
    this.from = end;
  }

  /**
   * Whether a single space at `i` can be copied as it is: something precedes it, not a space.
   * (Nor `(` or `[`, which the caller has checked: no space follows them, so `( 'x')` and
   * `('x')` are one shape; pg's escapeLiteral puts a space before its E'' strings, values that
   * hold a backslash, and not before its '' strings.)
   */
  canKeepSpace(i: number): boolean {
    return this.from < i || (this.parts.length > 0 && !this.spaced);
  }

  separator(start: number, end: number): void {
    this.copy(start);
    if (this.parts.length > 0 && !this.spaced && !this.endsOpen()) {
      this.parts.push(' ');
      this.spaced = true;
    }
    this.from = end;
  }

  /** Drops the output after `mark` and the input before `resume`, then appends `replacement`. */
  rewind(mark: number, resume: number, replacement?: string): void {
    this.parts.length = mark;
    if (replacement !== undefined) this.parts.push(replacement);
    this.spaced = false;
    this.from = resume;
  }

  /** The output written since `mark`, with input copied up to `end`. */
  since(mark: number, end: number): string {
    this.copy(end);
    return this.parts.slice(mark).join('');
  }

  /** Whether the output since `mark`, with input copied up to `end`, equals `expected`. */
  matches(mark: number, end: number, expected: string): boolean {
    this.copy(end);
    let offset = 0;
    for (let k = mark; k < this.parts.length; k++) {
      const part = this.parts[k];
      if (offset + part.length > expected.length) return false;
      for (let j = 0; j < part.length; j++, offset++) {
        if (part.charCodeAt(j) !== expected.charCodeAt(offset)) return false;
      }
    }
    return offset === expected.length;
  }

  finish(): string {
    this.copy(this.text.length);
    const s = this.parts.join('');
    let e = s.length;
    for (let c = s.charCodeAt(e - 1); c === SEMI || c === SPACE; c = s.charCodeAt(e - 1)) e--;
    return e === s.length ? s : s.slice(0, e);
  }

  /** Whether the output so far ends with `(` or `[` (no space after them). */
  private endsOpen(): boolean {
    const last = this.parts[this.parts.length - 1];
    return last !== undefined && opensGroup(last.charCodeAt(last.length - 1));
  }

  private copy(end: number): void {
    if (end > this.from) {
      this.parts.push(this.text.slice(this.from, end));
      // The run may end with a space that canKeepSpace let through.
      this.spaced = this.text.charCodeAt(end - 1) === SPACE;
    }
    this.from = end;
  }
}

function opensGroup(c: number): boolean {
  return c === LPAREN || c === LBRACKET;
}

function expectsValue(prev: number, text: string, wordStart: number, wordEnd: number): boolean {
  if (prev === WORD) return VALUE_KEYWORDS.has(text.slice(wordStart, wordEnd).toLowerCase());
  return prev === NONE || prev === OPERATOR || prev === OPEN || prev === COMMA;
}

/** Case-insensitive comparison of text[start, end) with a lowercase ASCII word. */
function wordIs(text: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) {
    if ((text.charCodeAt(start + k) | 0x20) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * If the one-letter word text[start, end) prefixes a string, the index of its quote.
 * PostgreSQL: E'', B'', X'', N'', U&''. MySQL: B'', X'', N'' (charset introducers such as
 * _utf8mb4 are ordinary words before an ordinary string).
 */
function prefixedQuote(text: string, start: number, end: number, mysql: boolean): number {
  if (end - start !== 1) return -1;
  const p = text.charCodeAt(start) | 0x20;
  const next = charAt(text, end);
  if (next === QUOTE && (p === 0x62 || p === 0x78 || p === 0x6e || (p === 0x65 && !mysql))) return end;
  if (!mysql && p === 0x75 && next === AMP && charAt(text, end + 1) === QUOTE) return end + 1;
  return -1;
}

function wordCharsEnd(text: string, i: number): number {
  const n = text.length;
  while (i < n && isWordChar(text.charCodeAt(i))) i++;
  return i;
}

/** Letters, `_` and anything non-ASCII start identifiers, as in PostgreSQL. */
function isWordStart(c: number): boolean {
  return c >= 0x80 || (c >= 0 && WORD_ASCII[c] === 2);
}

/** Identifiers continue with those, digits and `$`. */
function isWordChar(c: number): boolean {
  return c >= 0x80 || (c >= 0 && WORD_ASCII[c] !== 0);
}

// The scanners of the common tokens live here, not in lexemes.ts: a call to an imported function
// goes through the module's exports object, which costs on the hottest path.

/**
 * PostgreSQL `'…'` with standard_conforming_strings on (the default since 9.1): a doubled quote
 * is a quote, a backslash is an ordinary character. Also `N'…'`, `B'…'`, `X'…'` and `U&'…'`,
 * whose bodies end the same way.
 */
function standardStringEnd(text: string, i: number): number {
  for (;;) {
    const q = text.indexOf("'", i);
    if (q < 0) return UNTERMINATED;
    if (charAt(text, q + 1) !== QUOTE) return q + 1;
    i = q + 2;
  }
}

/**
 * A string in which a backslash escapes the next character, whatever it is, and a doubled quote
 * is a quote: PostgreSQL's `E'…'`, and every MySQL/MariaDB string (`'…'` and `"…"`, with the
 * server's default sql_mode, that is without NO_BACKSLASH_ESCAPES).
 */
function backslashStringEnd(text: string, i: number, quote: number): number {
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      i++;
    } else if (c === quote) {
      if (charAt(text, i + 1) !== quote) return i + 1;
      i++;
    }
  }
  return UNTERMINATED;
}

/** A `"…"` or `` `…` `` identifier: a doubled delimiter stands for itself. */
function quotedIdentifierEnd(text: string, i: number, quote: number): number {
  const ch = quote === DQUOTE ? '"' : '`';
  for (;;) {
    const q = text.indexOf(ch, i);
    if (q < 0) return UNTERMINATED;
    if (charAt(text, q + 1) !== quote) return q + 1;
    i = q + 2;
  }
}

/** End of a number starting at `i` (a digit or `.`): 42, 1_000, .5, 1.5e-3, 0x1F, 0b101, 0o17. */
function numberEnd(text: string, i: number): number {
  const radix = charAt(text, i + 1) | 0x20;
  if (
    text.charCodeAt(i) === 0x30 &&
    (radix === 0x78 || radix === 0x62 || radix === 0x6f) &&
    isAlnum(charAt(text, i + 2))
  ) {
    let j = i + 3;
    while (isAlnum(charAt(text, j)) || charAt(text, j) === 0x5f) j++;
    return j;
  }
  let j = digitsEnd(text, i);
  if (charAt(text, j) === DOT && charAt(text, j + 1) !== DOT) j = digitsEnd(text, j + 1);
  if ((charAt(text, j) | 0x20) === 0x65) {
    let k = j + 1;
    const sign = charAt(text, k);
    if (sign === PLUS || sign === MINUS) k++;
    if (isDigit(charAt(text, k))) j = digitsEnd(text, k);
  }
  return j;
}

function digitsEnd(text: string, i: number): number {
  const n = text.length;
  while (i < n && (isDigit(text.charCodeAt(i)) || text.charCodeAt(i) === 0x5f)) i++;
  return i;
}

function isAlnum(c: number): boolean {
  return isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
}


/** Space, tab, LF, vertical tab, form feed, CR. */
function isSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The char code at `i`, or -1 past the end (so callers need no bounds check). */
function charAt(text: string, i: number): number {
  return i < text.length ? text.charCodeAt(i) : -1;
}
