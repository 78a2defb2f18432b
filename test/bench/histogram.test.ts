/**
 * The benchmark's latency histogram against exact percentiles of the same values (sorted arrays),
 * over seeded random data spanning ns to seconds: every answer within the promised 1%, never below
 * the true value, the max exact, buckets contiguous, and merge() equal to recording everything once.
 */
import { describe, expect, it } from 'vitest';
import { Histogram, bucketOf, upperEdgeOf } from '../../bench/histogram.js';
import { withSeed } from '../support/rng.js';

function exact(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('Histogram', () => {
  it('answers percentiles within 1% above the exact value, and the exact max', () =>
    withSeed('histogram percentiles', (rng) => {
      for (let round = 0; round < 20; round++) {
        const n = 1 + rng.int(20_000);
        const h = new Histogram();
        const values: number[] = [];
        for (let i = 0; i < n; i++) {
          // Log-uniform from 1 ns to ~10 s, so every magnitude gets exercised.
          const v = Math.floor(Math.exp(rng.next() * Math.log(1e10)));
          values.push(v);
          h.record(v);
        }
        values.sort((a, b) => a - b);
        expect(h.count).toBe(n);
        expect(h.max).toBe(values[n - 1]);
        expect(h.min).toBe(values[0]);
        for (const q of [0, 0.1, 0.5, 0.9, 0.99, 0.999, 1]) {
          const want = exact(values, q);
          const got = h.percentile(q);
          expect(got).toBeGreaterThanOrEqual(want);
          expect(got).toBeLessThanOrEqual(want * 1.01 + 1);
        }
      }
    }));

  it('has contiguous buckets whose upper edges bound their values', () => {
    let prev = -1;
    const bad: number[] = [];
    for (let v = 0; v < 70_000; v++) {
      const b = bucketOf(v);
      const edge = upperEdgeOf(b);
      if (!(b === prev || b === prev + 1) || edge < v || edge > v * 1.01 + 1) bad.push(v);
      prev = b;
    }
    expect(bad).toEqual([]);
    expect(prev).toBeGreaterThan(1000);
    // Past 2^32 (clz32 no longer applies) the mapping still holds.
    for (const v of [2 ** 32 - 1, 2 ** 32, 2 ** 33 + 12345, 2 ** 40 + 7]) {
      expect(upperEdgeOf(bucketOf(v))).toBeGreaterThanOrEqual(v);
      expect(upperEdgeOf(bucketOf(v))).toBeLessThanOrEqual(v * 1.01);
    }
  });

  it('merges per-worker histograms into the same answers as one', () =>
    withSeed('histogram merge', (rng) => {
      const whole = new Histogram();
      const parts = [new Histogram(), new Histogram(), new Histogram()];
      for (let i = 0; i < 5000; i++) {
        const v = rng.int(5_000_000);
        whole.record(v);
        parts[i % 3]!.record(v);
      }
      const merged = new Histogram();
      for (const p of parts) merged.merge(p);
      expect(merged.summary()).toEqual(whole.summary());
      expect(new Histogram().summary()).toEqual({ count: 0, mean: 0, p50: 0, p99: 0, p999: 0, max: 0 });
    }));
});
