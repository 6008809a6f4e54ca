/*
 * Byte estimates of V8 values on 64-bit Node, for the structures that must know their own
 * footprint. They are estimates for bounds, checked against measured heap growth in
 * test/stats/memory.test.ts, not exact accounting.
 */

/** A flat string: 16 bytes of header, then 1 byte per character (2 if any is above U+00FF), padded to 8. */
export function stringBytes(s: string): number {
  const perChar = TWO_BYTE.test(s) ? 2 : 1;
  return 16 + align8(s.length * perChar);
}

const TWO_BYTE = /[^\u0000-\u00ff]/;

const align8 = (n: number): number => (n + 7) & ~7;
