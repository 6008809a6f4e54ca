/*
 * The stable id of a normalized statement (`perf.query.fingerprint`): 64-bit FNV-1a over its
 * UTF-8 bytes, as 16 lowercase hex digits. Dashboards and alert rules keep these ids, so the
 * function must give the same value in every process and every version: it is the standard
 * FNV-1a (64-bit vectors: "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c), not a runtime hash.
 *
 * It runs on every query span: 32-bit halves multiplied with Math.imul, no BigInt, no
 * Buffer/TextEncoder, and the only allocation is the result string.
 */

// Offset basis 0xcbf29ce484222325; prime 0x100000001b3 = 2^40 + 0x1b3.
const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
const PRIME_LO = 0x1b3;
const TWO_32 = 0x100000000;

/** Lead byte of a UTF-8 sequence, by its number of continuation bytes. */
const LEAD = [0, 0xc0, 0xe0, 0xf0];

export function fingerprint(normalized: string): string {
  let hi = OFFSET_HI | 0;
  let lo = OFFSET_LO | 0;
  const n = normalized.length;
  for (let i = 0; i < n; i++) {
    let cp = normalized.charCodeAt(i);
    let more = 0; // UTF-8 continuation bytes still to hash after `byte`
    let byte = cp;
    if (cp >= 0x80) {
      if (cp < 0x800) {
        more = 1;
      } else if (cp >= 0xd800 && cp <= 0xdbff && isLowSurrogate(normalized.charCodeAt(i + 1))) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (normalized.charCodeAt(++i) - 0xdc00);
        more = 3;
      } else {
        // A lone surrogate has no UTF-8 form; hash U+FFFD, as Buffer.from(text) encodes it.
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
        more = 2;
      }
      byte = LEAD[more] | (cp >>> (6 * more));
    }
    for (;;) {
      lo ^= byte;
      // (hi:lo) * (2^40 + 0x1b3) mod 2^64. lo * 0x1b3 < 2^41 is exact in a double and its
      // upper part carries into hi; lo * 2^40 adds lo << 8 to hi.
      const t = (lo >>> 0) * PRIME_LO;
      hi = (Math.imul(hi, PRIME_LO) + (lo << 8) + ((t / TWO_32) >>> 0)) | 0;
      lo = t | 0;
      if (more === 0) break;
      more--;
      byte = 0x80 | ((cp >>> (6 * more)) & 0x3f);
    }
  }
  return String.fromCharCode(
    hexDigit(hi, 28), hexDigit(hi, 24), hexDigit(hi, 20), hexDigit(hi, 16),
    hexDigit(hi, 12), hexDigit(hi, 8), hexDigit(hi, 4), hexDigit(hi, 0),
    hexDigit(lo, 28), hexDigit(lo, 24), hexDigit(lo, 20), hexDigit(lo, 16),
    hexDigit(lo, 12), hexDigit(lo, 8), hexDigit(lo, 4), hexDigit(lo, 0),
  );
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Char code of the lowercase hex digit of `v` at bit `shift`. */
function hexDigit(v: number, shift: number): number {
  const d = (v >>> shift) & 15;
  return d < 10 ? 48 + d : 87 + d;
}
