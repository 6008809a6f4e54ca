/*
 * SQL normalization for query spans: every literal becomes `?`, so no value (and no PII) leaves
 * the process, and statements that differ only in literals, whitespace or comments normalize to
 * the same text, so they share a fingerprint.
 *
 * This runs on every query span, so it is one left-to-right pass over char codes. Input that is
 * kept verbatim is copied as slices of the original; only literals, whitespace and comments
 * break a run. Lexical rules are PostgreSQL's; MySQL differences are handled where they do not
 * conflict. It never throws: an unterminated literal or comment simply runs to the end.
 */

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

const TAB = 9, LF = 10, CR = 13, SPACE = 32;
const DOLLAR = 36, AMP = 38, QUOTE = 39, DQUOTE = 34, BACKTICK = 96, BACKSLASH = 92;
const LPAREN = 40, RPAREN = 41, STAR = 42, PLUS = 43, COMMA_CH = 44, MINUS = 45, DOT = 46;
const SLASH = 47, COLON = 58, SEMI = 59, QMARK = 63, LBRACKET = 91, RBRACKET = 93, PIPE = 124;

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
 */
export function normalizeSql(text: string): string {
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

  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    let end = i + 1;
    let kind = OPERATOR;

    // Most frequent first: words, then spaces.
    if (isWordStart(c)) {
      end = wordCharsEnd(text, end);
      const quote = prefixedQuote(text, i, end);
      if (quote > 0) {
        // E'...' takes backslash escapes; B'', X'', N'', U&'' are plain strings with a prefix.
        end = (c | 0x20) === 0x65 ? escapeStringEnd(text, quote + 1) : stringEnd(text, quote + 1);
        out.literal(i, end);
        kind = VALUE;
      } else {
        kind = WORD;
      }
    } else if (isSpace(c)) {
      while (end < n && isSpace(text.charCodeAt(end))) end++;
      // A lone space that is already in the right place stays in the verbatim run: most
      // statements are written with single spaces, and every break in a run costs a slice.
      if (c !== SPACE || end !== i + 1 || !out.canKeepSpace(i)) out.separator(i, end);
      i = end;
      continue;
    } else if (isDigit(c) || (c === DOT && isDigit(charAt(text, i + 1)))) {
      end = numberEnd(text, i);
      out.literal(i, end);
      kind = VALUE;
    } else if (c === QUOTE) {
      end = stringEnd(text, i + 1);
      out.literal(i, end);
      kind = VALUE;
    } else if (c === MINUS || c === SLASH) {
      const c1 = charAt(text, i + 1);
      if ((c === MINUS && c1 === MINUS) || (c === SLASH && c1 === STAR)) {
        end = c === MINUS ? lineCommentEnd(text, i + 2) : blockCommentEnd(text, i + 2);
        out.separator(i, end);
        i = end;
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
    } else if (c === DQUOTE || c === BACKTICK) {
      end = quotedEnd(text, i + 1, c);
      kind = IDENT;
    } else if (c === DOLLAR) {
      if (isDigit(charAt(text, i + 1))) {
        end = digitsEnd(text, i + 1); // $1: a bind parameter, kept as is
        kind = VALUE;
      } else {
        const q = dollarQuoteEnd(text, i);
        if (q > 0) {
          end = q;
          out.literal(i, end);
          kind = VALUE;
        }
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
  return out.finish();
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

  /** Whether a single space at `i` can be copied as it is: something precedes it, not a space. */
  canKeepSpace(i: number): boolean {
    return this.from < i || (this.parts.length > 0 && !this.spaced);
  }

  separator(start: number, end: number): void {
    this.copy(start);
    if (this.parts.length > 0 && !this.spaced) {
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

  private copy(end: number): void {
    if (end > this.from) {
      this.parts.push(this.text.slice(this.from, end));
      // The run may end with a space that canKeepSpace let through.
      this.spaced = this.text.charCodeAt(end - 1) === SPACE;
    }
    this.from = end;
  }
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

/** If the one-letter word text[start, end) prefixes a string (E, B, X, N, U&), its quote. */
function prefixedQuote(text: string, start: number, end: number): number {
  if (end - start !== 1) return -1;
  const p = text.charCodeAt(start) | 0x20;
  const next = charAt(text, end);
  if (next === QUOTE && (p === 0x65 || p === 0x62 || p === 0x78 || p === 0x6e)) return end;
  if (p === 0x75 && next === AMP && charAt(text, end + 1) === QUOTE) return end + 1;
  return -1;
}

/**
 * End of a '...' string whose content starts at `i`. A backslash before a quote escapes it in
 * MySQL (and in PostgreSQL with standard_conforming_strings off) but not in standard
 * PostgreSQL. We take it as an escape unless the quote is followed by something that ends a
 * value, which keeps PostgreSQL's 'C:\' and MySQL's 'it\'s' both right.
 */
function stringEnd(text: string, i: number): number {
  const n = text.length;
  const start = i;
  for (;;) {
    const q = text.indexOf("'", i);
    if (q < 0) return n;
    const next = charAt(text, q + 1);
    if (oddBackslashesBefore(text, q, start) && !endsValue(next)) {
      i = q + 1;
    } else if (next === QUOTE) {
      i = q + 2;
    } else {
      return q + 1;
    }
  }
}

function oddBackslashesBefore(text: string, q: number, start: number): boolean {
  let k = q;
  while (k > start && text.charCodeAt(k - 1) === BACKSLASH) k--;
  return ((q - k) & 1) === 1;
}

function endsValue(c: number): boolean {
  return (
    c === -1 || isSpace(c) || c === RPAREN || c === COMMA_CH || c === SEMI || c === COLON ||
    c === RBRACKET || c === PIPE
  );
}

/** End of an E'...' string whose content starts at `i`. */
function escapeStringEnd(text: string, i: number): number {
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      i++;
    } else if (c === QUOTE) {
      if (charAt(text, i + 1) !== QUOTE) return i + 1;
      i++;
    }
  }
  return n;
}

/** End of a "..." or `...` identifier whose content starts at `i`; a doubled quote escapes. */
function quotedEnd(text: string, i: number, quote: number): number {
  const ch = quote === DQUOTE ? '"' : '`';
  for (;;) {
    const q = text.indexOf(ch, i);
    if (q < 0) return text.length;
    if (charAt(text, q + 1) !== quote) return q + 1;
    i = q + 2;
  }
}

/** End of `$tag$...$tag$` starting at the `$` at `i`, or -1 if no dollar quote opens there. */
function dollarQuoteEnd(text: string, i: number): number {
  const n = text.length;
  let j = i + 1;
  if (j < n && isWordStart(text.charCodeAt(j))) {
    j++;
    while (j < n && isWordChar(text.charCodeAt(j)) && text.charCodeAt(j) !== DOLLAR) j++;
  }
  if (j >= n || text.charCodeAt(j) !== DOLLAR) return -1;
  const tag = text.slice(i, j + 1);
  const close = text.indexOf(tag, j + 1);
  return close < 0 ? n : close + tag.length;
}

function lineCommentEnd(text: string, i: number): number {
  const n = text.length;
  while (i < n && text.charCodeAt(i) !== LF && text.charCodeAt(i) !== CR) i++;
  return i;
}

/** End of a block comment whose body starts at `i`; PostgreSQL nests them. */
function blockCommentEnd(text: string, i: number): number {
  let depth = 1;
  for (;;) {
    const k = text.indexOf('*', i);
    if (k < 0) return text.length;
    if (k > i && text.charCodeAt(k - 1) === SLASH) {
      depth++;
      i = k + 1;
    } else if (charAt(text, k + 1) === SLASH) {
      if (--depth === 0) return k + 2;
      i = k + 2;
    } else {
      i = k + 1;
    }
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

function wordCharsEnd(text: string, i: number): number {
  const n = text.length;
  while (i < n && isWordChar(text.charCodeAt(i))) i++;
  return i;
}

/** Space, tab, LF, vertical tab, form feed, CR. */
function isSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

/** The char code at `i`, or -1 past the end (so callers need no bounds check). */
function charAt(text: string, i: number): number {
  return i < text.length ? text.charCodeAt(i) : -1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlnum(c: number): boolean {
  return isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
}

/** Letters, `_` and anything non-ASCII start identifiers, as in PostgreSQL. */
function isWordStart(c: number): boolean {
  return c >= 0x80 || (c >= 0 && WORD_ASCII[c] === 2);
}

/** Identifiers continue with those, digits and `$`. */
function isWordChar(c: number): boolean {
  return c >= 0x80 || (c >= 0 && WORD_ASCII[c] !== 0);
}

