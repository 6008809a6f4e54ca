import { describe, expect, it } from 'vitest';
import { LruMap } from '../../src/util/lru';

describe('LruMap', () => {
  it('evicts the least recently used key once full', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // a is now the newest
    lru.set('c', 3);
    expect([...lru].map(([k]) => k)).toEqual(['a', 'c']);
    expect(lru.size).toBe(2);
  });

  it('peek reads without changing the order', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.peek('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.has('a')).toBe(false);
    expect(lru.peek('b')).toBe(2);
  });

  it('setting a key it holds moves it to the newest place without evicting', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('a', 10);
    expect([...lru]).toEqual([['b', 2], ['a', 10]]);
    lru.set('c', 3);
    expect([...lru]).toEqual([['a', 10], ['c', 3]]);
  });

  it('delete and clear', () => {
    const lru = new LruMap<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.delete('a')).toBe(true);
    expect(lru.delete('a')).toBe(false);
    lru.clear();
    expect(lru.size).toBe(0);
  });
});
