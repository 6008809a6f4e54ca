/*
 * Database error messages quote the values that caused them:
 *   invalid input syntax for type integer: "alice@example.com"
 *   Duplicate entry 'alice@example.com' for key 'users.email'
 *   Key (email)=(alice@example.com) already exists.
 * and the servers do not escape quotes inside the quoted value (MySQL prints O'Brien as 'O'Brien'),
 * so pairing quotes cannot tell where a value ends. The scrub therefore fails closed: everything
 * from the first quote (of either kind) to the last one, and from the `(` of a `(key)=(value)`
 * to the last `)`, becomes one `?`. Only what lies outside every quoted part survives:
 *   invalid input syntax for type integer: ?
 *   Duplicate entry ?
 * One pass of indexOf/lastIndexOf, no regular expression; the result is bounded.
 */

export const MAX_MESSAGE_LENGTH = 1024;

export function scrubErrorMessage(message: string): string {
  let start = message.length;
  let end = -1;
  const single = message.indexOf("'");
  const double = message.indexOf('"');
  if (single >= 0) start = single;
  if (double >= 0 && double < start) start = double;
  if (start < message.length) {
    end = Math.max(message.lastIndexOf("'"), message.lastIndexOf('"'));
    // A lone quote: what follows it may be a value that runs to the end.
    if (end === start) end = message.length - 1;
  }
  const keyValue = message.indexOf(')=(');
  if (keyValue >= 0) {
    const open = message.lastIndexOf('(', keyValue);
    const close = message.lastIndexOf(')');
    if (open >= 0 && open < start) start = open;
    const last = close > keyValue + 2 ? close : message.length - 1;
    if (last > end) end = last;
  }
  const scrubbed = end < 0 ? message : `${message.slice(0, start)}?${message.slice(end + 1)}`;
  return scrubbed.length > MAX_MESSAGE_LENGTH ? `${scrubbed.slice(0, MAX_MESSAGE_LENGTH)}…` : scrubbed;
}

/**
 * A stack trace repeats the message in its first lines (`Error: <message>`, possibly over
 * several lines) before the `    at ...` frames: that head is scrubbed, the frames are kept.
 */
export function scrubStackTrace(stack: string): string {
  let head = stack.length;
  let k = stack.indexOf('\n');
  while (k >= 0) {
    let j = k + 1;
    while (stack.charCodeAt(j) === 32 || stack.charCodeAt(j) === 9) j++;
    if (stack.startsWith('at ', j)) {
      head = k;
      break;
    }
    k = stack.indexOf('\n', k + 1);
  }
  return scrubErrorMessage(stack.slice(0, head)) + stack.slice(head);
}

/**
 * The error code a database span's messages carry, when they carry one: instrumentation-pg
 * records its exception as `PostgreSQL error of type '...' occurred (code: 23505)` (the
 * SQLSTATE). mysql2's instrumentation passes only the server's message, so for MySQL/MariaDB the
 * errno is recognized from the server's fixed message texts of the common data errors; other
 * errors get no code.
 */
export function errorCodeOf(messages: readonly string[]): string | undefined {
  for (const message of messages) {
    const at = message.indexOf('(code: ');
    if (at >= 0) {
      const close = message.indexOf(')', at);
      const code = message.slice(at + 7, close < 0 ? undefined : close).trim();
      if (code.length > 0 && code.length <= 16 && code !== 'UNKNOWN') return code;
    }
  }
  for (const message of messages) {
    for (const [prefix, errno] of MYSQL_MESSAGES) if (message.startsWith(prefix)) return errno;
  }
  return undefined;
}

/** Openings of MySQL/MariaDB server messages (share/errmsg) and their error numbers. */
const MYSQL_MESSAGES: ReadonlyArray<readonly [string, string]> = [
  ['Duplicate entry ', '1062'], // ER_DUP_ENTRY
  ['Cannot add or update a child row', '1452'], // ER_NO_REFERENCED_ROW_2
  ['Cannot delete or update a parent row', '1451'], // ER_ROW_IS_REFERENCED_2
  ['Incorrect integer value', '1366'], // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  ['Incorrect decimal value', '1366'],
  ['Incorrect string value', '1366'],
  ['Truncated incorrect', '1292'], // ER_TRUNCATED_WRONG_VALUE
  ['Incorrect datetime value', '1292'],
  ['Incorrect date value', '1292'],
  ['Data too long for column', '1406'], // ER_DATA_TOO_LONG
  ['Out of range value for column', '1264'], // ER_WARN_DATA_OUT_OF_RANGE
  ['You have an error in your SQL syntax', '1064'], // ER_PARSE_ERROR
  ['Unknown column', '1054'], // ER_BAD_FIELD_ERROR
  ['Deadlock found', '1213'], // ER_LOCK_DEADLOCK
  ['Lock wait timeout exceeded', '1205'], // ER_LOCK_WAIT_TIMEOUT
];
