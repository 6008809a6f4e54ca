import { describe, it, expect } from 'vitest';
import { StatementCache, fingerprint, normalizeSql } from '../../src/sql';

const sql = (i: number) => `SELECT * FROM t${i} WHERE id = ${i}`;

describe('StatementCache', () => {
  it('returns the normalized statement and its fingerprint', () => {
    const cache = new StatementCache(10);
    const raw = "SELECT * FROM users WHERE email = 'a@b.c'";
    expect(cache.get(raw)).toEqual({
      statement: normalizeSql(raw),
      fingerprint: fingerprint(normalizeSql(raw)),
    });
  });

  it('returns the cached result on a hit', () => {
    const cache = new StatementCache(10);
    const first = cache.get(sql(1));
    expect(cache.get(sql(1))).toBe(first);
    expect(cache.size).toBe(1);
  });

  it('never holds more than maxEntries, evicting the oldest', () => {
    const cache = new StatementCache(3);
    const first = cache.get(sql(1));
    for (let i = 2; i <= 10; i++) {
      cache.get(sql(i));
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    expect(cache.size).toBe(3);
    expect(cache.get(sql(1))).not.toBe(first); // evicted, computed again
    expect(cache.get(sql(1))).toEqual(first);
  });

  it('evicts the least recently used, not the least recently added', () => {
    const cache = new StatementCache(2);
    const a = cache.get(sql(1));
    const b = cache.get(sql(2));
    cache.get(sql(1)); // 1 is now the most recently used
    cache.get(sql(3)); // evicts 2
    expect(cache.get(sql(1))).toBe(a);
    expect(cache.get(sql(2))).not.toBe(b);
  });

  it('computes but does not cache statements longer than maxKeyLength', () => {
    const cache = new StatementCache(10, 50);
    const ids = Array.from({ length: 30 }, (_, i) => i).join(', ');
    const long = `SELECT * FROM t WHERE id IN (${ids})`;
    expect(long.length).toBeGreaterThan(50);
    const r = cache.get(long);
    expect(r.statement).toBe('SELECT * FROM t WHERE id IN (?)');
    expect(cache.size).toBe(0);
    expect(cache.get(long)).not.toBe(r);
    expect(cache.get(long)).toEqual(r);
  });

  it('uses a default maxKeyLength of 4096', () => {
    const cache = new StatementCache(10);
    cache.get(`SELECT '${'x'.repeat(4096 - 9)}'`);
    expect(cache.size).toBe(1);
    cache.get(`SELECT '${'x'.repeat(4096 - 8)}'`);
    expect(cache.size).toBe(1);
  });

  it('clear() empties it', () => {
    const cache = new StatementCache(10);
    cache.get(sql(1));
    cache.get(sql(2));
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('caches nothing for a zero or invalid bound, and still answers', () => {
    for (const bound of [0, -1, Number.NaN]) {
      const cache = new StatementCache(bound);
      expect(cache.get(sql(1)).statement).toBe('SELECT * FROM t1 WHERE id = ?');
      expect(cache.size).toBe(0);
    }
  });

  it('shares results that callers cannot modify', () => {
    const cache = new StatementCache(10);
    const r = cache.get(sql(1));
    expect(Object.isFrozen(r)).toBe(true);
  });
});

describe('StatementCache and dialects', () => {
  it('keys its results by dialect as well as by text', () => {
    const cache = new StatementCache(10);
    const raw = 'SELECT "alice@example.com" FROM t # note';
    const pg = cache.get(raw, 'postgresql');
    const my = cache.get(raw, 'mysql');
    expect(pg.statement).toBe('SELECT "alice@example.com" FROM t # note');
    expect(my.statement).toBe('SELECT ? FROM t');
    expect(cache.get(raw, 'mysql')).toBe(my);
    expect(cache.get(raw, 'postgresql')).toBe(pg);
    expect(cache.get(raw, 'unknown').statement).toBe('SELECT ?');
    expect(cache.size).toBe(1); // one entry per text, a result per dialect
  });

  it('defaults to PostgreSQL', () => {
    const cache = new StatementCache(10);
    expect(cache.get("SELECT 'a\\', 'b'")).toBe(cache.get("SELECT 'a\\', 'b'", 'postgresql'));
  });
});
