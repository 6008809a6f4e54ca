import { describe, expect, it } from 'vitest';
import { compileGlobs } from '../../src/sampling/glob';

function matches(globs: string[], s: string): boolean {
  return compileGlobs(globs)(s);
}

describe('compileGlobs', () => {
  it('matches nothing with no globs', () => {
    const match = compileGlobs([]);
    expect(match('')).toBe(false);
    expect(match('anything')).toBe(false);
  });

  it('treats a glob without wildcards as an exact, case-sensitive, anchored string', () => {
    expect(matches(['checkout'], 'checkout')).toBe(true);
    expect(matches(['checkout'], 'Checkout')).toBe(false);
    expect(matches(['checkout'], 'checkout2')).toBe(false);
    expect(matches(['checkout'], 'my-checkout')).toBe(false);
  });

  it('lets * match any run of characters, including none', () => {
    expect(matches(['/payments*'], '/payments')).toBe(true);
    expect(matches(['/payments*'], '/payments/42/refund')).toBe(true);
    expect(matches(['/payments*'], '/payment')).toBe(false);
    expect(matches(['*/refund'], '/payments/42/refund')).toBe(true);
    expect(matches(['*/refund'], '/payments/42/refunds')).toBe(false);
    expect(matches(['*'], '')).toBe(true);
    expect(matches(['**'], 'x')).toBe(true);
    expect(matches(['/a/*/c/*/e'], '/a/b/c/d/e')).toBe(true);
    expect(matches(['/a/*/c/*/e'], '/a/b/c/d/f')).toBe(false);
  });

  it('lets ? match exactly one character', () => {
    expect(matches(['/v?/users'], '/v1/users')).toBe(true);
    expect(matches(['/v?/users'], '/v/users')).toBe(false);
    expect(matches(['/v?/users'], '/v12/users')).toBe(false);
    expect(matches(['???'], 'abc')).toBe(true);
    expect(matches(['???'], 'ab')).toBe(false);
    expect(matches(['*/v?/*'], '/api/v2/users')).toBe(true);
    expect(matches(['*a?c*'], 'xxabxabcxx')).toBe(true);
    expect(matches(['*a?c*'], 'xxabxabdxx')).toBe(false);
  });

  it('keeps regular expression characters literal', () => {
    expect(matches(['/a.b'], '/a.b')).toBe(true);
    expect(matches(['/a.b'], '/axb')).toBe(false);
    expect(matches(['(x)+[y]'], '(x)+[y]')).toBe(true);
    expect(matches(['^$\\'], '^$\\')).toBe(true);
  });

  it('does not let the head and the tail overlap', () => {
    expect(matches(['ab*ba'], 'aba')).toBe(false);
    expect(matches(['ab*ba'], 'abba')).toBe(true);
    expect(matches(['a*b*c'], 'ac')).toBe(false);
  });

  it('finds middles in order, leftmost first', () => {
    expect(matches(['*x*y*'], 'y x y')).toBe(true);
    expect(matches(['*x*y*'], 'y x')).toBe(false);
    expect(matches(['a*b*b'], 'abb')).toBe(true);
    expect(matches(['a*bc*bc'], 'abcbc')).toBe(true);
    expect(matches(['a*bc*bc'], 'abc')).toBe(false);
  });

  it('matches when any glob of the list does', () => {
    const match = compileGlobs(['POST /payments*', 'checkout', '/v?/health']);
    expect(match('POST /payments/1')).toBe(true);
    expect(match('checkout')).toBe(true);
    expect(match('/v1/health')).toBe(true);
    expect(match('GET /payments/1')).toBe(false);
  });

  it('agrees with a reference regular expression on many strings', () => {
    const globs = ['a*b', '*ab*', 'a?b*', '*?a', 'b*a*b*a', '??', 'ab', '*a*a*a*b'];
    const alphabet = ['a', 'b', 'c'];
    const strings = [''];
    for (let len = 1; len <= 6; len++) {
      const prev = strings.filter((s) => s.length === len - 1);
      for (const p of prev) for (const ch of alphabet) strings.push(p + ch);
    }
    const disagreements: string[] = [];
    for (const glob of globs) {
      const reference = new RegExp('^' + glob.replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
      const match = compileGlobs([glob]);
      for (const s of strings) if (match(s) !== reference.test(s)) disagreements.push(`${glob} vs "${s}"`);
    }
    expect(strings.length).toBe(1093);
    expect(disagreements).toEqual([]);
  });

  it('stays fast on a long hostile input', () => {
    const match = compileGlobs(['*a*a*a*a*a*b']);
    const s = 'a'.repeat(16_000);
    expect(match(s)).toBe(false);
    expect(match(s + 'b')).toBe(true);
  });
});
