/*
 * A fixed-size histogram with logarithmic buckets, for non-negative values such as milliseconds
 * or query counts. Memory is one Float64Array allocated in the constructor and never resized, so
 * recording costs a logarithm and an array increment and never allocates.
 *
 * Bucket 0 holds values below MIN_VALUE (0 included). Bucket i in 1..LOG_BUCKETS holds
 * [MIN_VALUE * GAMMA^(i-1), MIN_VALUE * GAMMA^i), the last of them reaching just past MAX_VALUE;
 * one more bucket holds everything above. A quantile is reported as the point of its bucket with
 * the smallest worst-case relative error, 2 * lower * GAMMA / (1 + GAMMA), which is within
 * RELATIVE_ERROR of every value in the bucket, then clamped to the exact [min, max]. So a quantile
 * that falls below MIN_VALUE is reported as the exact min, and one above MAX_VALUE as the exact max.
 */

/** Worst relative error of a quantile for values in [MIN_VALUE, MAX_VALUE]. */
export const RELATIVE_ERROR = 0.02;
/** Smallest value given its own bucket (1 microsecond when values are milliseconds). */
export const MIN_VALUE = 0.001;
/** Largest value given its own bucket (about 2.8 hours in milliseconds). */
export const MAX_VALUE = 1e7;

const GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR);
const INV_LN_GAMMA = 1 / Math.log(GAMMA);
const LN_MIN = Math.log(MIN_VALUE);
const LOG_BUCKETS = Math.ceil(Math.log(MAX_VALUE / MIN_VALUE) * INV_LN_GAMMA);
const OVERFLOW = LOG_BUCKETS + 1;
/** Bucket 0, the logarithmic buckets up to MAX_VALUE and the overflow bucket: 578 with the constants above. */
export const HISTOGRAM_BUCKETS = LOG_BUCKETS + 2;

/**
 * Estimated bytes of one Histogram: the bucket array (4624 bytes, off the V8 heap, counted in
 * `process.memoryUsage().arrayBuffers`) plus 400 for the objects around it: the histogram with its
 * numeric fields, the typed array and its ArrayBuffer measure about 300 bytes of V8 heap on 64-bit
 * Node 20, and malloc adds its own bookkeeping to the backing store.
 * test/stats/memory.test.ts checks it against measured heap and array buffer growth.
 */
export const HISTOGRAM_BYTES = HISTOGRAM_BUCKETS * Float64Array.BYTES_PER_ELEMENT + 400;

export interface HistogramSummary {
  count: number;
  sum: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

const roundMicro = (v: number): number => Math.round(v * 1000) / 1000;

function bucketOf(value: number): number {
  if (value < MIN_VALUE) return 0;
  const i = Math.floor((Math.log(value) - LN_MIN) * INV_LN_GAMMA) + 1;
  return i < OVERFLOW ? i : OVERFLOW;
}

/** Clamped to [min, max] by the caller: bucket 0 becomes min, the overflow bucket max. */
function representative(bucket: number): number {
  if (bucket === 0) return 0;
  if (bucket === OVERFLOW) return Infinity;
  return (2 * MIN_VALUE * Math.pow(GAMMA, bucket)) / (1 + GAMMA);
}

export class Histogram {
  static readonly BYTES = HISTOGRAM_BYTES;

  private readonly counts = new Float64Array(HISTOGRAM_BUCKETS);
  private total = 0;
  private sumValue = 0;
  private minValue = Infinity;
  private maxValue = -Infinity;

  /** Adds `count` occurrences of `value`; a negative, NaN or infinite value or count is ignored. */
  record(value: number, count = 1): void {
    if (!(value >= 0 && value < Infinity && count > 0 && count < Infinity)) return;
    this.counts[bucketOf(value)] += count;
    this.total += count;
    this.sumValue += value * count;
    if (value < this.minValue) this.minValue = value;
    if (value > this.maxValue) this.maxValue = value;
  }

  get count(): number {
    return this.total;
  }

  get sum(): number {
    return this.sumValue;
  }

  /** Exact smallest value recorded; 0 when empty. */
  get min(): number {
    return this.total > 0 ? this.minValue : 0;
  }

  /** Exact largest value recorded; 0 when empty. */
  get max(): number {
    return this.total > 0 ? this.maxValue : 0;
  }

  get mean(): number {
    return this.total > 0 ? this.sumValue / this.total : 0;
  }

  /** Length of the bucket array; fixed for the life of the histogram. */
  get bucketCount(): number {
    return this.counts.length;
  }

  /**
   * The value at rank ceil(q * count) (nearest rank), within RELATIVE_ERROR; q is clamped to
   * [0, 1]. The first rank is the exact min and the last the exact max; 0 when empty.
   */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    if (!(q > 0)) return this.minValue;
    const rank = Math.ceil(q * this.total);
    if (rank >= this.total) return this.maxValue;
    if (rank <= 1) return this.minValue;
    const counts = this.counts;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) return this.clamp(representative(i));
    }
    return this.maxValue; // rounding in fractional counts
  }

  /** Adds every value of `other` into this histogram; returns this. */
  merge(other: Histogram): this {
    if (other.total === 0) return this;
    const mine = this.counts;
    const theirs = other.counts;
    for (let i = 0; i < mine.length; i++) mine[i] += theirs[i];
    this.total += other.total;
    this.sumValue += other.sumValue;
    if (other.minValue < this.minValue) this.minValue = other.minValue;
    if (other.maxValue > this.maxValue) this.maxValue = other.maxValue;
    return this;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sumValue = 0;
    this.minValue = Infinity;
    this.maxValue = -Infinity;
  }

  /** count, sum, min, max exact; quantiles rounded to 3 decimals (microseconds for ms). */
  toJSON(): HistogramSummary {
    return {
      count: this.total,
      sum: this.sumValue,
      min: this.min,
      max: this.max,
      p50: roundMicro(this.quantile(0.5)),
      p95: roundMicro(this.quantile(0.95)),
      p99: roundMicro(this.quantile(0.99)),
    };
  }

  toString(): string {
    return `Histogram{count=${this.total}, p50=${this.quantile(0.5)}, max=${this.max}}`;
  }

  private clamp(v: number): number {
    return v < this.minValue ? this.minValue : v > this.maxValue ? this.maxValue : v;
  }
}
