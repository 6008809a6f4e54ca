export { normalizeSql } from './normalize';
export { fingerprint } from './fingerprint';
export { StatementCache } from './statement-cache';
export type { NormalizedStatement } from './statement-cache';
export { dialectOf } from './dialect';
export type { SqlDialect } from './dialect';
export { scrubErrorMessage } from './scrub-error';
