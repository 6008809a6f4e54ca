import { describe, expect, it } from 'vitest';
import { Histogram, HISTOGRAM_BUCKETS, HISTOGRAM_BYTES, MAX_VALUE, MIN_VALUE, RELATIVE_ERROR } from '../../src/stats/histogram';
import { exactQuantile, logNormal, seeded } from '../support/random';

const QUANTILES = [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999];

function expectWithinError(actual: number, exact: number): void {
  expect(Math.abs(actual - exact)).toBeLessThanOrEqual(exact * RELATIVE_ERROR * (1 + 1e-9));
}

describe('Histogram', () => {
  it('answers quantiles of log-normal latencies within the bucket error', () => {
    const cases = [
      { seed: 1, mu: Math.log(20), sigma: 1.2 }, // ms: median 20, p99 ~330
      { seed: 2, mu: Math.log(0.5), sigma: 2 }, // sub-millisecond to seconds
      { seed: 3, mu: Math.log(5000), sigma: 0.3 }, // slow and narrow
    ];
    for (const { seed, mu, sigma } of cases) {
      const next = logNormal(seeded(seed), mu, sigma);
      const h = new Histogram();
      const values: number[] = [];
      for (let i = 0; i < 50_000; i++) {
        const v = next();
        values.push(v);
        h.record(v);
      }
      values.sort((a, b) => a - b);
      for (const q of QUANTILES) expectWithinError(h.quantile(q), exactQuantile(values, q));
    }
  });

  it('keeps count, sum, min and max exact', () => {
    const next = logNormal(seeded(7), Math.log(30), 1.5);
    const h = new Histogram();
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 10_000; i++) {
      const v = next();
      h.record(v);
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(h.count).toBe(10_000);
    expect(h.sum).toBe(sum);
    expect(h.min).toBe(min);
    expect(h.max).toBe(max);
    expect(h.mean).toBe(sum / 10_000);
    expect(h.quantile(0)).toBe(min);
    expect(h.quantile(1)).toBe(max);
  });

  it('records a value `count` times', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(12.5, 4);
    for (let i = 0; i < 4; i++) b.record(12.5);
    expect(a.toJSON()).toEqual(b.toJSON());
    expect(a.count).toBe(4);
    expect(a.sum).toBe(50);
  });

  it('merges into the same state as recording everything into one', () => {
    const next = logNormal(seeded(11), Math.log(15), 1.3);
    const all = new Histogram();
    const first = new Histogram();
    const second = new Histogram();
    for (let i = 0; i < 20_000; i++) {
      const v = next();
      all.record(v);
      (i % 3 === 0 ? first : second).record(v);
    }
    const merged = new Histogram().merge(first).merge(second);
    expect(merged.count).toBe(all.count);
    expect(merged.min).toBe(all.min);
    expect(merged.max).toBe(all.max);
    expect(merged.sum).toBeCloseTo(all.sum, 6);
    for (const q of QUANTILES) expect(merged.quantile(q)).toBe(all.quantile(q));
    expect(first.merge(new Histogram()).count).toBe(first.count); // merging an empty one changes nothing
  });

  it('has a fixed footprint: the bucket array never grows', () => {
    expect(HISTOGRAM_BUCKETS).toBe(578);
    expect(HISTOGRAM_BYTES).toBe(HISTOGRAM_BUCKETS * 8 + 400);
    expect(Histogram.BYTES).toBe(HISTOGRAM_BYTES);
    const h = new Histogram();
    expect(h.bucketCount).toBe(HISTOGRAM_BUCKETS);
    const random = seeded(5);
    for (let i = 0; i < 1_000_000; i++) h.record(random() * 10 ** (random() * 14 - 4)); // 1e-4 .. 1e10
    h.record(0);
    h.record(1e12);
    expect(h.bucketCount).toBe(HISTOGRAM_BUCKETS);
    expect(h.count).toBe(1_000_002);
  });

  it('reports values below MIN_VALUE and above MAX_VALUE through the exact min and max', () => {
    const h = new Histogram();
    h.record(0);
    h.record(0);
    h.record(MAX_VALUE * 100);
    expect(h.quantile(0.5)).toBe(0);
    expect(h.quantile(0.99)).toBe(MAX_VALUE * 100);
    h.record(MAX_VALUE * 0.99); // the top regular bucket still answers within the error
    expectWithinError(h.quantile(0.75), MAX_VALUE * 0.99);
    const small = new Histogram();
    small.record(MIN_VALUE / 2);
    expect(small.quantile(0.5)).toBe(MIN_VALUE / 2);
  });

  it('ignores negative, NaN and infinite values and non-positive counts', () => {
    const h = new Histogram();
    h.record(-1);
    h.record(Number.NaN);
    h.record(Infinity);
    h.record(5, 0);
    h.record(5, -2);
    h.record(5, Number.NaN);
    expect(h.count).toBe(0);
    expect(h.toJSON()).toEqual({ count: 0, sum: 0, min: 0, max: 0, p50: 0, p95: 0, p99: 0 });
    expect(h.mean).toBe(0);
  });

  it('clamps q to [0, 1]', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.quantile(-1)).toBe(1);
    expect(h.quantile(2)).toBe(100);
    expect(h.quantile(Number.NaN)).toBe(1);
  });

  it('resets to empty', () => {
    const h = new Histogram();
    h.record(3);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.quantile(0.5)).toBe(0);
    h.record(7);
    expect(h.min).toBe(7);
    expect(h.max).toBe(7);
  });

  it('summarizes as JSON with quantiles rounded to microseconds', () => {
    const h = new Histogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    const json = h.toJSON();
    expect(Object.keys(json)).toEqual(['count', 'sum', 'min', 'max', 'p50', 'p95', 'p99']);
    expect(json).toMatchObject({ count: 1000, sum: 500_500, min: 1, max: 1000 });
    expectWithinError(json.p50, 500);
    expectWithinError(json.p95, 950);
    expectWithinError(json.p99, 990);
    expect(json.p50).toBe(Math.round(json.p50 * 1000) / 1000);
    expect(JSON.parse(JSON.stringify(h))).toEqual(json);
  });
});
