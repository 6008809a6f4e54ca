import { describe, expect, it } from 'vitest';
import { statsBudget } from '../../src/stats/budget';
import { MAX_OPERATIONS_PER_PATTERN, PatternLibrary } from '../../src/stats/pattern-library';

const T0 = 1_700_000_000_000;
const fp = (i: number): string => i.toString(16).padStart(16, '0');

describe('PatternLibrary', () => {
  it('keeps count, total, max, first and last seen per fingerprint', () => {
    const lib = new PatternLibrary(10);
    lib.record(fp(1), 'SELECT * FROM payments WHERE id = ?', 2, 'GET /payments/:id', T0);
    lib.record(fp(1), 'SELECT * FROM payments WHERE id = ?', 5.5, 'GET /payments/:id', T0 + 10);
    lib.record(fp(1), 'SELECT * FROM payments WHERE id = ?', 1, 'GET /payments/:id', T0 + 20);
    expect(lib.get(fp(1))).toEqual({
      fingerprint: fp(1),
      pattern: 'SELECT * FROM payments WHERE id = ?',
      count: 3,
      totalMs: 8.5,
      maxMs: 5.5,
      firstSeen: T0,
      lastSeen: T0 + 20,
      operations: ['GET /payments/:id'],
    });
    expect(lib.size).toBe(1);
    expect(lib.get(fp(2))).toBeUndefined();
  });

  it('stores the pattern once: the first one seen for a fingerprint', () => {
    const lib = new PatternLibrary(10);
    lib.record(fp(1), 'SELECT 1', 1, 'op', T0);
    lib.record(fp(1), 'SELECT 1 /* other text */', 1, 'op', T0);
    expect(lib.get(fp(1))?.pattern).toBe('SELECT 1');
  });

  it('keeps up to 5 distinct operations, first seen first', () => {
    const lib = new PatternLibrary(10);
    for (let i = 0; i < 8; i++) {
      lib.record(fp(1), 'SELECT 1', 1, `GET /op/${i}`, T0);
      lib.record(fp(1), 'SELECT 1', 1, 'GET /op/0', T0);
    }
    expect(MAX_OPERATIONS_PER_PATTERN).toBe(5);
    expect(lib.get(fp(1))?.operations).toEqual(['GET /op/0', 'GET /op/1', 'GET /op/2', 'GET /op/3', 'GET /op/4']);
    expect(lib.get(fp(1))?.count).toBe(16);
  });

  it('evicts the least recently seen pattern when full, and counts it', () => {
    const lib = new PatternLibrary(3);
    lib.record(fp(1), 'a', 1, 'op', T0);
    lib.record(fp(2), 'b', 1, 'op', T0 + 1);
    lib.record(fp(3), 'c', 1, 'op', T0 + 2);
    lib.record(fp(1), 'a', 1, 'op', T0 + 3); // 1 is now the most recent; 2 the least
    lib.record(fp(4), 'd', 1, 'op', T0 + 4);
    expect(lib.size).toBe(3);
    expect(lib.get(fp(2))).toBeUndefined();
    expect(lib.evictions).toBe(1);
    lib.record(fp(5), 'e', 1, 'op', T0 + 5); // evicts 3
    expect(lib.get(fp(3))).toBeUndefined();
    expect([fp(1), fp(4), fp(5)].every((f) => lib.get(f) !== undefined)).toBe(true);
    expect(lib.evictions).toBe(2);
  });

  it('does not count get() as seeing a pattern', () => {
    const lib = new PatternLibrary(2);
    lib.record(fp(1), 'a', 1, 'op', T0);
    lib.record(fp(2), 'b', 1, 'op', T0);
    lib.get(fp(1));
    lib.record(fp(3), 'c', 1, 'op', T0);
    expect(lib.get(fp(1))).toBeUndefined();
  });

  it('returns copies that do not change the library', () => {
    const lib = new PatternLibrary(2);
    lib.record(fp(1), 'a', 1, 'op', T0);
    const entry = lib.get(fp(1))!;
    entry.count = 99;
    entry.operations.push('x');
    expect(lib.get(fp(1))).toMatchObject({ count: 1, operations: ['op'] });
  });

  it('ranks the top patterns by count, total or max time', () => {
    const lib = new PatternLibrary(10);
    for (let i = 0; i < 5; i++) lib.record(fp(1), 'frequent', 1, 'op', T0); // count 5, total 5, max 1
    lib.record(fp(2), 'slow once', 50, 'op', T0); // count 1, total 50, max 50
    for (let i = 0; i < 3; i++) lib.record(fp(3), 'middle', 20, 'op', T0); // count 3, total 60, max 20
    expect(lib.top(2, 'count').map((e) => e.pattern)).toEqual(['frequent', 'middle']);
    expect(lib.top(3, 'totalMs').map((e) => e.pattern)).toEqual(['middle', 'slow once', 'frequent']);
    expect(lib.top(1, 'maxMs').map((e) => e.pattern)).toEqual(['slow once']);
    expect(lib.top(100).length).toBe(3);
    expect(lib.top(0)).toEqual([]);
  });

  it('prunes patterns last seen before a time', () => {
    const lib = new PatternLibrary(10);
    lib.record(fp(1), 'old', 1, 'op', T0);
    lib.record(fp(2), 'recent', 1, 'op', T0 + 1000);
    lib.record(fp(3), 'old but seen again', 1, 'op', T0);
    lib.record(fp(3), 'old but seen again', 1, 'op', T0 + 2000);
    const before = lib.estimateBytes();
    expect(lib.prune(T0 + 500)).toBe(1);
    expect(lib.size).toBe(2);
    expect(lib.get(fp(1))).toBeUndefined();
    expect(lib.estimateBytes()).toBeLessThan(before);
    expect(lib.evictions).toBe(0);
    lib.record(fp(1), 'old', 1, 'op', T0 + 3000); // recorded afresh
    expect(lib.get(fp(1))?.count).toBe(1);
  });

  it('treats a negative or NaN duration as 0', () => {
    const lib = new PatternLibrary(10);
    lib.record(fp(1), 'a', -5, 'op', T0);
    lib.record(fp(1), 'a', Number.NaN, 'op', T0);
    expect(lib.get(fp(1))).toMatchObject({ count: 2, totalMs: 0, maxMs: 0 });
  });

  it('estimates its bytes from string lengths plus a fixed overhead, and frees them on eviction', () => {
    const lib = new PatternLibrary(2);
    expect(lib.estimateBytes()).toBe(0);
    lib.record(fp(1), 'x'.repeat(100), 1, 'op', T0);
    const one = lib.estimateBytes();
    lib.record(fp(2), 'x'.repeat(1000), 1, 'op', T0);
    expect(lib.estimateBytes() - one).toBeGreaterThan(900);
    lib.record(fp(3), 'x'.repeat(100), 1, 'op', T0);
    lib.record(fp(4), 'x'.repeat(100), 1, 'op', T0);
    expect(lib.estimateBytes()).toBe(2 * one);
    lib.clear();
    expect(lib.estimateBytes()).toBe(0);
  });

  it('evicts to stay within maxBytes when patterns are long', () => {
    const lib = new PatternLibrary(1000, { maxBytes: 20_000 });
    for (let i = 0; i < 100; i++) lib.record(fp(i), `SELECT ${i} `.padEnd(2000, 'x'), 1, 'op', T0 + i);
    expect(lib.estimateBytes()).toBeLessThanOrEqual(20_000);
    expect(lib.size).toBeLessThan(10);
    expect(lib.get(fp(99))).toBeDefined();
  });

  it('never holds more than its bound while 100,000 distinct statements stream through', () => {
    const { patternEntries, patternBytes } = statsBudget(100);
    const lib = new PatternLibrary(patternEntries, { maxBytes: patternBytes });
    let largest = 0;
    for (let i = 0; i < 100_000; i++) {
      const pattern = `SELECT id, amount, status FROM payments WHERE member_id = ? AND batch = ${i} ORDER BY id`.padEnd(100, ' ');
      lib.record(fp(i), pattern, i % 40, `GET /route/${i % 20}`, T0 + i);
      if (lib.size > largest) largest = lib.size;
    }
    expect(largest).toBe(patternEntries);
    expect(lib.evictions).toBe(100_000 - patternEntries);
    expect(lib.estimateBytes()).toBeLessThanOrEqual(patternBytes);
    expect(lib.get(fp(99_999))).toBeDefined();
    expect(lib.get(fp(100_000 - patternEntries - 1))).toBeUndefined();
  });

  it('serializes as JSON, largest total time first', () => {
    const lib = new PatternLibrary(5);
    lib.record(fp(1), 'a', 1, 'op', T0);
    lib.record(fp(2), 'b', 9, 'op', T0);
    const json = JSON.parse(JSON.stringify(lib));
    expect(json).toMatchObject({ size: 2, maxEntries: 5, evictions: 0 });
    expect(json.estimatedBytes).toBe(lib.estimateBytes());
    expect(json.patterns.map((p: { pattern: string }) => p.pattern)).toEqual(['b', 'a']);
    expect(Object.keys(json.patterns[0]).sort()).toEqual(['count', 'fingerprint', 'firstSeen', 'lastSeen', 'maxMs', 'operations', 'pattern', 'totalMs']);
  });
});

describe('PatternLibrary string bounds', () => {
  it('keeps at most 4096 characters of a statement and 256 of an operation name, and counts what it keeps', () => {
    const lib = new PatternLibrary(10);
    lib.record('00000000000000aa', 'SELECT '.padEnd(1_000_000, 'x'), 1, 'GET /'.padEnd(100_000, 'p'));
    const entry = lib.get('00000000000000aa')!;
    expect(entry.pattern.length).toBe(4096);
    expect(entry.pattern.endsWith('...')).toBe(true);
    expect(entry.operations[0].length).toBe(256);
    expect(lib.estimateBytes()).toBeLessThan(350 + 32 + 4112 + 272 + 64);
  });
});
