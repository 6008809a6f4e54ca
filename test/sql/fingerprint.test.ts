import { describe, it, expect } from 'vitest';
import { fingerprint } from '../../src/sql';

/** Plain 64-bit FNV-1a over UTF-8 bytes with BigInt: slow, obviously right. */
function reference(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

describe('fingerprint', () => {
  it('is 16 lowercase hex digits', () => {
    for (const s of ['', 'a', 'SELECT ?', 'x'.repeat(10_000), 'ünïcödé 😀']) {
      expect(fingerprint(s)).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('is deterministic', () => {
    const s = 'SELECT * FROM users WHERE id = ?';
    expect(fingerprint(s)).toBe(fingerprint(s));
    expect(fingerprint(s)).toBe(fingerprint(['SELECT * FROM', 'users WHERE id = ?'].join(' ')));
  });

  // Pinned: dashboards and alert rules keep fingerprints, so a change here breaks users.
  it.each([
    ['', 'cbf29ce484222325'], // FNV-1a 64 offset basis
    ['a', 'af63dc4c8601ec8c'], // published FNV-1a 64 test vectors
    ['foobar', '85944171f73967e8'],
    ['SELECT * FROM users WHERE id = ?', '8aecd125cab18145'],
    ['INSERT INTO t (a, b) VALUES (?, ?)', '4d70fdbfdf9971db'],
    ['SELECT "naïve", ? FROM tábla -- 😀', '83324dcb6b6fa0b8'],
  ])('fingerprint(%j) = %s', (text, expected) => {
    expect(fingerprint(text)).toBe(expected);
  });

  it('matches FNV-1a over UTF-8, surrogate pairs and lone surrogates included', () => {
    const pieces = [
      'a', 'Z', ' ', '?', 'é', '\u07ff', '\u0800', '€', '\uffff', '😀', '\ud800', '\udc00',
    ];
    let seed = 99;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    for (let k = 0; k < 2000; k++) {
      let s = '';
      for (let j = Math.floor(rand() * 24); j > 0; j--) {
        s += pieces[Math.floor(rand() * pieces.length)];
      }
      expect(fingerprint(s), JSON.stringify(s)).toBe(reference(s));
    }
  });

  it('has no collisions over 10k distinct statements', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      seen.add(fingerprint(`SELECT c${i % 97} FROM t${Math.floor(i / 97)} WHERE id = ?`));
    }
    expect(seen.size).toBe(10_000);
  });

  it('separates statements that differ in one character', () => {
    expect(fingerprint('SELECT a FROM t')).not.toBe(fingerprint('SELECT b FROM t'));
    expect(fingerprint('SELECT a FROM t')).not.toBe(fingerprint('SELECT a FROM t '));
  });
});
