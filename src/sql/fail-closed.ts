/*
 * What is exported for a statement that cannot be tokenized with certainty (an unterminated
 * quote, comment or dollar quote, a dialect we do not know, an oversized text): its verb and the
 * tables it names, and never any other fragment of it.
 *
 * Only the part of the text before the first character that could open a literal or a comment
 * is read: nothing there can be inside a literal. From that part only bare words are taken (a
 * number may be a value): the first word as the verb, and the word after FROM, JOIN, INTO,
 * UPDATE or TABLE as a table. `SELECT a FROM users u JOIN orders o ON o.x = 'never closed`
 * -> `SELECT FROM users JOIN orders ?`. Without a verb the result is `?`.
 */

const MAX_SCAN = 4096; // the tables of any real statement are named well before this
const MAX_TABLES = 8;
const MAX_WORD = 128;

const TABLE_KEYWORDS = new Set(['from', 'join', 'into', 'update', 'table']);

export function failClosed(text: string): string {
  const limit = Math.min(text.length, MAX_SCAN);
  const words: string[] = [];
  let tables = 0;
  let expectTable = false;
  let i = 0;
  while (i < limit) {
    const c = text.charCodeAt(i);
    if (opensLiteralOrComment(text, i, c)) break;
    if (c >= 0x30 && c <= 0x39) {
      // A number, and any letters glued to it (0xFF, 1e5): values, never exported.
      while (i < limit && isWordChar(text.charCodeAt(i))) i++;
      expectTable = false;
      continue;
    }
    if (!isWordStart(c)) {
      // Only a dot keeps a qualified name (schema.table) going; anything else ends the wait.
      if (c !== 0x2e && !isSpace(c)) expectTable = false;
      i++;
      continue;
    }
    let end = i + 1;
    while (end < limit && isWordChar(text.charCodeAt(end))) end++;
    // A word running into a quote (E'..', N'..', _utf8'..') is a prefix of a literal.
    if (end < text.length && opensLiteralOrComment(text, end, text.charCodeAt(end))) break;
    if (end === limit && limit < text.length) break;
    const word = text.slice(i, end);
    if (words.length === 0) {
      if (end - i > MAX_WORD) break;
      words.push(word);
      expectTable = TABLE_KEYWORDS.has(word.toLowerCase());
    } else if (expectTable) {
      if (end - i <= MAX_WORD && tables < MAX_TABLES) {
        if (text.charCodeAt(i - 1) === 0x2e && words.length > 1) words[words.length - 1] += `.${word}`;
        else words.push(word);
        if (text.charCodeAt(i - 1) !== 0x2e) tables++;
      }
      // A qualified name continues after a dot; otherwise the table is complete.
      expectTable = text.charCodeAt(end) === 0x2e;
    } else if (TABLE_KEYWORDS.has(word.toLowerCase())) {
      words.push(word);
      expectTable = true;
    } else {
      expectTable = false;
    }
    i = end;
  }
  if (words.length === 0) return '?';
  // Drop a keyword left without its table (FROM just before the quote).
  const last = words[words.length - 1];
  if (words.length > 1 && TABLE_KEYWORDS.has(last.toLowerCase())) words.pop();
  words.push('?');
  return words.join(' ');
}

/** Quotes of any dialect, `$`, backslash, and the comment starts `--`, `#`, `/*`. */
function opensLiteralOrComment(text: string, i: number, c: number): boolean {
  if (c === 0x27 || c === 0x22 || c === 0x60 || c === 0x24 || c === 0x5c || c === 0x23) return true;
  if (c === 0x2d) return text.charCodeAt(i + 1) === 0x2d;
  if (c === 0x2f) return text.charCodeAt(i + 1) === 0x2a;
  return false;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Letters, `_` and non-ASCII letters start a word; digits start a number, never exported. */
function isWordStart(c: number): boolean {
  return c === 0x5f || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c >= 0x80;
}

function isWordChar(c: number): boolean {
  return isWordStart(c) || (c >= 0x30 && c <= 0x39);
}
