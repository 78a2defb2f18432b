/**
 * A latency histogram in the HDR style: log-bucketed with 128 linear sub-buckets per power of two,
 * so every recorded value is kept to better than 1% (two significant digits), from 1 ns to hours,
 * in one fixed Float64Array. record() allocates nothing and costs a clz32 and an add, so it can sit
 * inside the measured loop of every workload without disturbing it.
 * Contract: values are non-negative nanoseconds (fractions are truncated, negatives count as 0);
 * percentile() answers the upper edge of the bucket holding that rank (never below the true value,
 * at most ~0.8% above it), except that the top rank answers the exact max.
 * Not here: timing itself (workload-runner.ts) and printing (report.ts).
 */

/** Linear sub-buckets per power of two: 2^7 = 128 keeps the relative error under 1/128. */
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;
/** Values up to 2^MAX_BITS ns (~78 hours) are bucketed; larger ones land in the last bucket. */
const MAX_BITS = 48;
const BUCKETS = (MAX_BITS - SUB_BITS + 1) * SUB_COUNT + SUB_COUNT;

export interface LatencySummary {
  count: number;
  /** Microseconds. */
  mean: number; p50: number; p99: number; p999: number; max: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private n = 0;
  private sum = 0;
  private maxValue = 0;
  private minValue = Number.POSITIVE_INFINITY;

  /** Adds one value in nanoseconds. */
  record(ns: number): void {
    const v = ns > 0 ? Math.floor(ns) : 0;
    this.counts[bucketOf(v)]! += 1;
    this.n++;
    this.sum += v;
    if (v > this.maxValue) this.maxValue = v;
    if (v < this.minValue) this.minValue = v;
  }

  get count(): number { return this.n; }
  get max(): number { return this.maxValue; }
  get min(): number { return this.n === 0 ? 0 : this.minValue; }
  get mean(): number { return this.n === 0 ? 0 : this.sum / this.n; }

  /** The value (ns) at quantile q in [0, 1]: the upper edge of the bucket holding rank ceil(q*n). */
  percentile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * this.n));
    if (rank >= this.n) return this.maxValue;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperEdgeOf(i), this.maxValue);
    }
    return this.maxValue;
  }

  /** Folds another histogram into this one (per-worker histograms into a workload's). */
  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.sum += other.sum;
    if (other.maxValue > this.maxValue) this.maxValue = other.maxValue;
    if (other.n > 0 && other.minValue < this.minValue) this.minValue = other.minValue;
  }

  /** The usual percentiles, in microseconds. */
  summary(): LatencySummary {
    const us = (ns: number): number => ns / 1000;
    return {
      count: this.n,
      mean: us(this.mean),
      p50: us(this.percentile(0.5)),
      p99: us(this.percentile(0.99)),
      p999: us(this.percentile(0.999)),
      max: us(this.maxValue),
    };
  }
}

/** Bucket index of v >= 0: exact below 2*SUB_COUNT, then SUB_COUNT linear steps per power of two. */
export function bucketOf(v: number): number {
  if (v < 2 * SUB_COUNT) return v;
  const bits = v < 0x1_0000_0000 ? 32 - Math.clz32(v) : Math.floor(Math.log2(v)) + 1;
  if (bits > MAX_BITS) return BUCKETS - 1;
  const shift = bits - SUB_BITS - 1;
  // v / 2^shift lies in [SUB_COUNT, 2*SUB_COUNT); floor division keeps it exact past 2^32.
  const sub = Math.floor(v / 2 ** shift);
  return shift * SUB_COUNT + sub;
}

/** The largest value that falls in bucket i. */
export function upperEdgeOf(i: number): number {
  if (i < 2 * SUB_COUNT) return i;
  const shift = Math.floor(i / SUB_COUNT) - 1;
  const sub = i - shift * SUB_COUNT;
  return (sub + 1) * 2 ** shift - 1;
}
