import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { mysqlConnectionDb, mysqlQueryText, mysqlSpanName, takeMysqlFormat } from '../../src/instrumentation/mysql-shadow-path';

// The contrib's own helpers (instrumentation-mysql2 0.69, build/src/utils.js): the shadow must give what they give.
const load = createRequire(__filename);
const contrib = load('@opentelemetry/instrumentation-mysql2/build/src/utils.js') as {
  getSpanName(query: unknown): string;
  getQueryText(query: unknown, format: unknown, values: unknown): string;
  getConnectionAttributes(config: unknown): Record<string, unknown>;
};
const mysql2 = load('mysql2') as { format: (sql: string, values: unknown) => string };
takeMysqlFormat(mysql2);

describe('mysqlSpanName', () => {
  it.each(['SELECT 1', 'select * from t', 'SELECT\n  id FROM t', '  SELECT 1', 'COMMIT', ''])('is getSpanName for %j', (sql) => {
    expect(mysqlSpanName(sql)).toBe(contrib.getSpanName(sql));
  });
});

describe('mysqlQueryText', () => {
  const cases: Array<[string, unknown]> = [
    ['SELECT ? AS n', [1]],
    ['SELECT ? AS s', ["it's \\ \"x\""]],
    ['SELECT * FROM t WHERE id IN (?)', [[1, 2, 3]]],
    ['SELECT ?? FROM t', ['col']],
    ['SELECT ?', [null]],
    ['SELECT ?', [undefined]],
    ['SELECT ?', [new Date(0)]],
    ['SELECT ?', [Buffer.from('ab')]],
    ['SELECT ?', []],
    ['SELECT ? + ?', [1]],
    ['SELECT 1', undefined],
  ];
  it.each(cases)('is getQueryText for %j with %j', (sql, values) => {
    expect(mysqlQueryText(sql, values)).toBe(contrib.getQueryText(sql, mysql2.format, values));
  });
});

describe('mysqlConnectionDb', () => {
  it.each([
    { host: '127.0.0.1', port: 3306, database: 'app' },
    { host: 'db', port: '3307' },
    { host: 'db', port: 'x', database: 'app' },
    { connectionConfig: { host: 'pooled', port: 3306, database: 'app' } },
    {},
  ])('gives the attributes getConnectionAttributes gives for %j', (config) => {
    const db = mysqlConnectionDb(config)!;
    const ours = { 'db.namespace': db.namespace, 'server.address': db.address, 'server.port': db.port };
    const theirs = contrib.getConnectionAttributes(config);
    for (const key of Object.keys(ours)) if (ours[key as keyof typeof ours] === undefined) delete ours[key as keyof typeof ours];
    for (const key of Object.keys(theirs)) if (theirs[key] === undefined) delete theirs[key];
    expect(ours).toEqual(theirs);
  });

  it('refuses values the span attributes could not hold as they are (full path)', () => {
    expect(mysqlConnectionDb({ host: { socket: true } as unknown as string })).toBeUndefined();
  });
});
