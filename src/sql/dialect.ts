import type { Attributes } from '@opentelemetry/api';
import { dbSystemOf } from '../semconv';

/**
 * Which lexical rules a statement is read with. Quoting differs between databases in ways that
 * decide where a literal ends (a backslash escapes a quote in MySQL and is an ordinary character
 * in PostgreSQL; `"…"` is a string in MySQL and an identifier in PostgreSQL; `#` starts a comment
 * only in MySQL), so reading one dialect's statement with the other's rules can put a literal's
 * contents outside the literal. `unknown` statements are never normalized, only summarized
 * (see failClosed).
 */
export type SqlDialect = 'postgresql' | 'mysql' | 'unknown';

export const DIALECTS: readonly SqlDialect[] = ['postgresql', 'mysql', 'unknown'];

/**
 * The dialect of a database span, from `db.system.name` (stable semantic conventions), else the
 * older `db.system`. MariaDB speaks MySQL's dialect (and mysql2 reports it as `mysql`).
 */
export function dialectOf(attributes: Attributes): SqlDialect {
  const system = dbSystemOf(attributes);
  if (system === 'postgresql') return 'postgresql';
  if (system === 'mysql' || system === 'mariadb') return 'mysql';
  return 'unknown';
}
