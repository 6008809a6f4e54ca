import { describe, expect, it } from 'vitest';
import { errorCodeOf, MAX_MESSAGE_LENGTH, scrubErrorMessage, scrubStackTrace } from '../../src/sql/scrub-error';

// [what, message, scrubbed]
const MESSAGES: Array<[string, string, string]> = [
  ['pg cast', 'invalid input syntax for type integer: "alice@example.com"', 'invalid input syntax for type integer: ?'],
  ['pg unique constraint', 'duplicate key value violates unique constraint "users_email_key"', 'duplicate key value violates unique constraint ?'],
  ['pg key detail', 'Key (email)=(alice@example.com) already exists.', 'Key ? already exists.'],
  ['pg key detail with parentheses and quotes inside', "Key (a, b)=(x), 'y(z)) is not present in table \"t\".", 'Key ?.'],
  ['MySQL duplicate entry', "Duplicate entry 'alice@example.com' for key 'users.email'", 'Duplicate entry ?'],
  ['MySQL value with an unescaped quote', "Duplicate entry 'O'Brien' for key 'email'", 'Duplicate entry ?'],
  ['MySQL cast', "Incorrect integer value: 'alice' for column `db`.`t`.`n` at row 1", 'Incorrect integer value: ? for column `db`.`t`.`n` at row 1'],
  ['a lone quote hides the rest', "near 'alice@example.com", 'near ?'],
  ['no quotes: kept', 'connection terminated unexpectedly', 'connection terminated unexpectedly'],
  ['pg instrumentation summary', "PostgreSQL error of type 'error' occurred (code: 22P02)", 'PostgreSQL error of type ? occurred (code: 22P02)'],
];

describe('scrubErrorMessage', () => {
  it.each(MESSAGES)('%s', (_what, message, expected) => {
    expect(scrubErrorMessage(message)).toBe(expected);
  });

  it('bounds the result', () => {
    expect(scrubErrorMessage('x'.repeat(10_000)).length).toBe(MAX_MESSAGE_LENGTH + 1);
  });
});

describe('scrubStackTrace', () => {
  it('scrubs the message lines and keeps the frames', () => {
    const stack = 'error: invalid input syntax for type integer: "alice\nexample"\n    at Parser.parseErrorMessage (/app/node_modules/pg-protocol/dist/parser.js:1:1)\n    at f (/app/x.js:2:3)';
    expect(scrubStackTrace(stack)).toBe(
      'error: invalid input syntax for type integer: ?\n    at Parser.parseErrorMessage (/app/node_modules/pg-protocol/dist/parser.js:1:1)\n    at f (/app/x.js:2:3)',
    );
  });
});

describe('errorCodeOf', () => {
  it('reads the SQLSTATE of instrumentation-pg exception messages', () => {
    expect(errorCodeOf(['invalid input syntax', "PostgreSQL error of type 'error' occurred (code: 23505)"])).toBe('23505');
    expect(errorCodeOf(["PostgreSQL error of type 'Error' occurred (code: UNKNOWN)"])).toBeUndefined();
  });

  it('knows the MySQL errno of the common data errors by their message', () => {
    expect(errorCodeOf(["Duplicate entry 'x' for key 'k'"])).toBe('1062');
    expect(errorCodeOf(['You have an error in your SQL syntax; check the manual'])).toBe('1064');
    expect(errorCodeOf(['something else'])).toBeUndefined();
  });
});
