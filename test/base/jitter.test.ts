/**
 * The seeded jitter source (src/base/jitter.ts): replayable per seed, in [0, 1), spread evenly.
 */
import { describe, expect, it } from 'vitest';
import { makeJitter } from '../../src/base/jitter.js';

const draw = (seed: number, n: number): number[] => {
  const j = makeJitter(seed);
  return Array.from({ length: n }, () => j.next());
};

describe('makeJitter', () => {
  it('replays the same sequence for the same seed, and another for another seed', () => {
    expect(draw(42, 50)).toEqual(draw(42, 50));
    expect(draw(42, 50)).not.toEqual(draw(43, 50));
  });

  it('starts from a fixed point: the first values of seed 1 are those of xorshift32', () => {
    // 1 -> 270369 -> 67634689 -> 2647435461 (Marsaglia's xorshift32 with shifts 13, 17, 5).
    expect(draw(1, 3).map((x) => Math.round(x * 0x1_0000_0000))).toEqual([270369, 67634689, 2647435461]);
  });

  it('accepts seed 0 and seeds beyond 32 bits without getting stuck', () => {
    for (const seed of [0, 2 ** 32, -1, 1.5e15]) {
      const values = draw(seed, 100);
      expect(new Set(values).size, `seed ${seed}`).toBe(100);
    }
  });

  it('stays in [0, 1) and fills ten buckets evenly', () => {
    const seed = 0x5eed;
    const buckets = new Array<number>(10).fill(0);
    for (const x of draw(seed, 100_000)) {
      expect(x >= 0 && x < 1, `seed ${seed}: ${x}`).toBe(true);
      buckets[Math.floor(x * 10)]!++;
    }
    for (const [i, n] of buckets.entries()) expect(Math.abs(n - 10_000), `seed ${seed}, bucket ${i}`).toBeLessThan(500);
  });
});
