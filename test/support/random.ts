/** Seeded random 32-bit integers (mulberry32), so tests and their failures reproduce. */
export function seededUint32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Seeded random numbers in [0, 1). */
export function seeded(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 4294967296;
}

/** Log-normal samples (Box-Muller): latencies with median e^mu and a long right tail. */
export function logNormal(random: () => number, mu: number, sigma: number): () => number {
  return () => {
    const u = 1 - random(); // (0, 1]
    const v = random();
    return Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  };
}

/** The nearest-rank quantile of sorted values: the one at rank ceil(q * n). */
export function exactQuantile(sorted: readonly number[], q: number): number {
  if (q <= 0) return sorted[0];
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1];
}
