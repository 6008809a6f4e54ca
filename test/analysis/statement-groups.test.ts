import { describe, expect, it } from 'vitest';
import { groupByStatement } from '../../src/analysis/statement-groups';
import type { SpanView } from '../../src/analysis/types';

const span = (name: string, durationMs: number, statement?: string, fingerprint?: string): SpanView =>
  ({ name, durationMs, statement, fingerprint }) as unknown as SpanView;

describe('groupByStatement', () => {
  it('groups by fingerprint, else statement, else name, in order of first appearance', () => {
    const groups = groupByStatement([
      span('pg.query', 2, 'SELECT * FROM a WHERE id = $1', 'aaaa'),
      span('pg.query', 3, 'SELECT 1'),
      span('pg.query', 5, 'SELECT * FROM a WHERE id = ?', 'aaaa'),
      span('BEGIN', 1),
      span('pg.query', 4, 'SELECT 1'),
    ]);
    expect(groups).toEqual([
      { fingerprint: 'aaaa', pattern: 'SELECT * FROM a WHERE id = $1', count: 2, totalMs: 7 },
      { fingerprint: undefined, pattern: 'SELECT 1', count: 2, totalMs: 7 },
      { fingerprint: undefined, pattern: 'BEGIN', count: 1, totalMs: 1 },
    ]);
  });
});
