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
  AMP, BACKTICK, COMMA_CH, DOLLAR, DOT, DQUOTE, HASH, LBRACKET, LPAREN, MINUS, QMARK, QUOTE,
  RBRACKET, RPAREN, SEMI, SLASH, SPACE, STAR, UNTERMINATED, backslashStringEnd, charAt, digitsEnd,
  dollarQuoteEnd, executableCommentBody, flatCommentEnd, isDigit, isMysqlDashComment, isSpace,
  lineCommentEnd, nestedCommentEnd, numberEnd, pgContinuation, quotedIdentifierEnd,
  standardStringEnd,
} from './lexemes';

/** Longer statements are not scanned at all (fail closed): the work per span stays bounded. */
export const MAX_NORMALIZE_LENGTH = 512 * 1024;

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
  if (dialect === 'unknown' || text.length > MAX_NORMALIZE_LENGTH) return failClosed(text);
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
  while (i < n) {
    const c = text.charCodeAt(i);
    let end = i + 1;
    let kind = OPERATOR;

    // Most frequent first: words, then spaces.
    if (isWordStart(c) || (mysql && c === DOLLAR)) {
      end = wordCharsEnd(text, end);
      const quote = prefixedQuote(text, i, end, mysql);
      if (quote > 0) {
        end = mysql
          ? backslashStringEnd(text, quote + 1, QUOTE)
          : pgStringEnd(text, quote + 1, (c | 0x20) === 0x65);
        if (end === UNTERMINATED) return failClosed(text);
        out.literal(i, end);
        kind = VALUE;
      } else {
        kind = WORD;
      }
    } else if (isSpace(c)) {
      while (end < n && isSpace(text.charCodeAt(end))) end++;
      // No space before `)`, `]` or `,` (nor after `(` or `[`, see Output): `( 'x' )` and
      // `('x')` are one shape, and pg's escapeLiteral puts a space before an E'' string only
      // when the value holds a backslash. A lone space that is already in the right place stays
      // in the verbatim run: most statements are written with single spaces, and every break
      // in a run costs a slice.
      if (closesGroup(charAt(text, end))) out.skip(i, end);
      else if (c !== SPACE || end !== i + 1 || !out.canKeepSpace(i)) out.separator(i, end);
      i = end;
      continue;
    } else if (isDigit(c) || (c === DOT && isDigit(charAt(text, i + 1)))) {
      end = numberEnd(text, i);
      out.literal(i, end);
      kind = VALUE;
    } else if (c === QUOTE || (mysql && c === DQUOTE)) {
      end = mysql ? backslashStringEnd(text, i + 1, c) : pgStringEnd(text, i + 1, false);
      if (end === UNTERMINATED) return failClosed(text);
      out.literal(i, end);
      kind = VALUE;
    } else if (c === MINUS || c === SLASH || c === HASH || c === STAR) {
      const c1 = charAt(text, i + 1);
      let comment = -2; // end of a comment starting here, or -2 for none
      if (c === MINUS && c1 === MINUS) {
        if (!mysql || isMysqlDashComment(text, i)) comment = lineCommentEnd(text, i + 2);
      } else if (c === SLASH && c1 === STAR) {
        if (!mysql) {
          comment = nestedCommentEnd(text, i + 2);
        } else {
          const body = executableCommentBody(text, i);
          // MySQL does not nest comments: another one inside an executable one is ambiguous.
          if (executable) return failClosed(text);
          if (body >= 0) {
            executable = true;
            comment = body;
          } else {
            comment = flatCommentEnd(text, i + 2);
          }
        }
      } else if (c === HASH && mysql) {
        comment = lineCommentEnd(text, i + 1);
      } else if (c === STAR && c1 === SLASH && executable) {
        executable = false;
        comment = i + 2;
      }
      if (comment !== -2) {
        if (comment === UNTERMINATED) return failClosed(text);
        if (closesGroup(charAt(text, comment))) out.skip(i, comment);
        else out.separator(i, comment);
        i = comment;
        continue;
      }
      if (
        c === MINUS &&
        (isDigit(c1) || (c1 === DOT && isDigit(charAt(text, i + 2)))) &&
        expectsValue(prev, text, wordStart, wordEnd)
      ) {
        end = numberEnd(text, i + 1);
        out.literal(i, end);
        kind = VALUE;
      }
    } else if (c === DQUOTE || (mysql && c === BACKTICK)) {
      end = quotedIdentifierEnd(text, i + 1, c);
      if (end === UNTERMINATED) return failClosed(text);
      kind = IDENT;
    } else if (c === DOLLAR) {
      if (isDigit(charAt(text, i + 1))) {
        end = digitsEnd(text, i + 1); // $1: a bind parameter, kept as is
        kind = VALUE;
      } else {
        end = dollarQuoteEnd(text, i);
        if (end === UNTERMINATED) return failClosed(text);
        out.literal(i, end);
        kind = VALUE;
      }
    } else if (c === LPAREN || c === LBRACKET) {
      kind = OPEN;
    } else if (c === RPAREN || c === RBRACKET) {
      kind = CLOSE;
    } else if (c === COMMA_CH) {
      kind = COMMA;
    } else if (c === SEMI) {
      kind = NONE;
    } else if (c === QMARK && expectsValue(prev, text, wordStart, wordEnd)) {
      kind = VALUE; // a `?` placeholder (MySQL); elsewhere `?` is a jsonb operator
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
      out.trimSpace(i);
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
      out.trimSpace(i);
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
  // An executable comment that never closed: its end, and so its body, is not certain.
  if (executable) return failClosed(text);
  return out.finish();
}

/**
 * End of a PostgreSQL string constant whose body starts at `i` (escape string when `escape`),
 * including the parts it continues with after a newline: they keep its rules (which matters for
 * E'' strings) and are one constant, so one `?`.
 */
function pgStringEnd(text: string, i: number, escape: boolean): number {
  for (;;) {
    const end = escape ? backslashStringEnd(text, i, QUOTE) : standardStringEnd(text, i);
    if (end === UNTERMINATED) return end;
    const next = pgContinuation(text, end);
    if (next < 0) return end;
    i = next + 1;
  }
}

/** The normalized text, built from slices of the input plus `?` and single spaces. */
class Output {
  private readonly parts: string[] = [];
  private from = 0; // start of the input run not yet copied
  private spaced = false; // the output so far ends with a space
  private opened = false; // the output so far ends with `(` or `[`: no space after it

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
    this.opened = false;
    this.from = end;
  }

  /**
   * Whether a single space at `i` can be copied as it is: something precedes it that is neither
   * a space nor an opening bracket.
   */
  canKeepSpace(i: number): boolean {
    if (this.from < i) return !opensGroup(this.text.charCodeAt(i - 1));
    return this.parts.length > 0 && !this.spaced && !this.opened;
  }

  separator(start: number, end: number): void {
    this.copy(start);
    if (this.parts.length > 0 && !this.spaced && !this.opened) {
      this.parts.push(' ');
      this.spaced = true;
    }
    this.from = end;
  }

  /** Before `)`, `]` or `,` at `i`: drops the space a comment left just before it. */
  trimSpace(i: number): void {
    if (this.from === i && this.spaced && this.parts[this.parts.length - 1] === ' ') {
      this.parts.pop();
      this.spaced = false;
    }
  }

  /** Drops input[start, end) (whitespace or a comment) without a separator. */
  skip(start: number, end: number): void {
    this.copy(start);
    this.from = end;
  }

  /** Drops the output after `mark` and the input before `resume`, then appends `replacement`. */
  rewind(mark: number, resume: number, replacement?: string): void {
    this.parts.length = mark;
    if (replacement !== undefined) this.parts.push(replacement);
    this.spaced = false;
    this.opened = false; // the output now ends with the `?` of a list or the `)` of a tuple
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

  private copy(end: number): void {
    if (end > this.from) {
      this.parts.push(this.text.slice(this.from, end));
      // The run may end with a space that canKeepSpace let through.
      const last = this.text.charCodeAt(end - 1);
      this.spaced = last === SPACE;
      this.opened = opensGroup(last);
    }
    this.from = end;
  }
}

function opensGroup(c: number): boolean {
  return c === LPAREN || c === LBRACKET;
}

function closesGroup(c: number): boolean {
  return c === RPAREN || c === RBRACKET || c === COMMA_CH;
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
