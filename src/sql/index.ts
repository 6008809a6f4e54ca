export { normalizeSql } from './normalize';
export { fingerprint } from './fingerprint';
export { StatementCache } from './statement-cache';
export type { NormalizedStatement } from './statement-cache';
