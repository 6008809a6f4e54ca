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

/** Longest operation name kept (route templates are far shorter; a raw name can be anything). */
export const MAX_OPERATION_CHARS = 256;
/** Longest normalized statement kept in the pattern library and in reports. */
export const MAX_PATTERN_CHARS = 4096;
/** Longest finding message, recommendation or error message kept in reports. */
export const MAX_MESSAGE_CHARS = 2048;

/**
 * `s` cut to at most `max` characters, the last three `...` when cut (ASCII: a non-Latin-1 mark
 * would make V8 store the whole string at two bytes a character). A cut string is copied:
 * V8 keeps a slice as a view on its parent, so a plain `slice` of a 1 MB name would hold the
 * whole megabyte. The copy costs only on the rare over-long input.
 */
export function boundString(s: string, max: number): string {
  if (s.length <= max) return s;
  return Buffer.from(`${s.slice(0, max - 3)}...`, 'utf8').toString('utf8');
}
