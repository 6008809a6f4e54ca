/*
 * Where the less frequent lexemes end, per dialect: comments, dollar quotes, string
 * continuations (the scanners of ordinary strings, numbers and quoted identifiers are in
 * normalize.ts, on its hot path). Each function returns the index just after the lexeme, or
 * UNTERMINATED when the input ends first: the caller must then fail closed, because the rest of
 * the statement may be the inside of a literal.
 *
 * All of them are plain forward scans over char codes (indexOf for the common case of a long run
 * without delimiters): no regular expression, no backtracking, linear in the input.
 */

export const UNTERMINATED = -1;

const TAB = 9, LF = 10, CR = 13, SPACE = 32, BANG = 33, DQUOTE = 34, DOLLAR = 36, QUOTE = 39;
const MINUS = 45, SLASH = 47;

/**
 * PostgreSQL joins two string constants separated only by whitespace that holds a newline (and
 * `--` comments after that newline) into one, and the second part is read with the first part's
 * rules: `E'a'<newline>'b\'c'` is one escape string. Returns the index of the continuing quote,
 * or -1 when the string does not continue.
 */
export function pgContinuation(text: string, i: number): number {
  const n = text.length;
  while (i < n && isHorizontalSpace(text.charCodeAt(i))) i++;
  if (i >= n || (text.charCodeAt(i) !== LF && text.charCodeAt(i) !== CR)) return -1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === MINUS && charAt(text, i + 1) === MINUS) {
      i = lineCommentEnd(text, i + 2);
    } else {
      break;
    }
  }
  return charAt(text, i) === QUOTE ? i : -1;
}

/**
 * `$tag$…$tag$` or `$$…$$` starting at the `$` at `i` (PostgreSQL). The tag is a letter or `_`
 * then letters, digits or `_` (no `$`). Returns UNTERMINATED for a dollar quote that never
 * closes and for a `$` that opens neither a quote nor a `$n` parameter (a syntax error to the
 * server, but still text that could be part of a literal).
 */
export function dollarQuoteEnd(text: string, i: number): number {
  const n = text.length;
  let j = i + 1;
  if (j < n && isTagStart(text.charCodeAt(j))) {
    j++;
    while (j < n && isTagChar(text.charCodeAt(j))) j++;
  }
  if (j >= n || text.charCodeAt(j) !== DOLLAR) return UNTERMINATED;
  const close = text.indexOf(text.slice(i, j + 1), j + 1);
  return close < 0 ? UNTERMINATED : close + (j + 1 - i);
}

export function lineCommentEnd(text: string, i: number): number {
  const n = text.length;
  while (i < n && text.charCodeAt(i) !== LF && text.charCodeAt(i) !== CR) i++;
  return i;
}

/** PostgreSQL block comments nest: `/* a /* b *\/ still comment *\/`. Body starts at `i`. */
export function nestedCommentEnd(text: string, i: number): number {
  let depth = 1;
  for (;;) {
    const k = text.indexOf('*', i);
    if (k < 0) return UNTERMINATED;
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

/** MySQL block comments do not nest: the first `*\/` ends them. Body starts at `i`. */
export function flatCommentEnd(text: string, i: number): number {
  const k = text.indexOf('*/', i);
  return k < 0 ? UNTERMINATED : k + 2;
}

/**
 * MySQL's `-- ` comment needs whitespace or a control character after the dashes (or the end of
 * the input); `1--1` is one minus minus one.
 */
export function isMysqlDashComment(text: string, i: number): boolean {
  if (charAt(text, i + 1) !== MINUS) return false;
  const c = charAt(text, i + 2);
  return c === -1 || c <= SPACE;
}

/**
 * MySQL executable comments: `/*!` or MariaDB's `/*M!`, then an optional version number. Their
 * body is SQL the server runs, so it is read as SQL (its literals replaced), not dropped as a
 * comment. Returns the index where the body starts, or -1.
 */
export function executableCommentBody(text: string, i: number): number {
  let j = i + 2;
  if (charAt(text, j) === 0x4d) j++; // M
  if (charAt(text, j) !== BANG) return -1;
  j++;
  while (isDigit(charAt(text, j))) j++;
  return j;
}

/** The char code at `i`, or -1 past the end (so callers need no bounds check). */
function charAt(text: string, i: number): number {
  return i < text.length ? text.charCodeAt(i) : -1;
}

/** Space, tab, LF, vertical tab, form feed, CR. */
function isSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

function isHorizontalSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === 12;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isTagStart(c: number): boolean {
  return c >= 0x80 || c === 0x5f || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
}

function isTagChar(c: number): boolean {
  return isTagStart(c) || isDigit(c);
}
