/**
 * Seeded randomness for tests: every randomized test takes its seed from SEED (to replay a failure)
 * or from the clock, and prints it when it fails (withSeed). xorshift128+-style, 32-bit outputs.
 */

export interface Rng {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  /** integer in [0, n) */
  int(n: number): number;
  bytes(n: number): Uint8Array;
  pick<T>(arr: readonly T[]): T;
}

export function makeRng(seed: number): Rng {
  let a = seed >>> 0 || 0x9e3779b9;
  let b = (Math.imul(seed ^ 0x85ebca6b, 0xc2b2ae35) >>> 0) || 0x7f4a7c15;
  const next32 = (): number => {
    // xorshift64 on two 32-bit halves (mulberry-style mixing for quality)
    let t = (a + b) >>> 0;
    b ^= a;
    a = (((a << 26) | (a >>> 6)) ^ b ^ (b << 9)) >>> 0;
    b = ((b << 13) | (b >>> 19)) >>> 0;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    seed,
    next: () => next32() / 0x1_0000_0000,
    int: (n: number) => Math.floor((next32() / 0x1_0000_0000) * n),
    bytes: (n: number) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = next32() & 0xff;
      return out;
    },
    pick: <T>(arr: readonly T[]): T => arr[Math.floor((next32() / 0x1_0000_0000) * arr.length)]!,
  };
}

/** The seed for this run: SEED from the environment, else a fresh one. */
export function testSeed(): number {
  const s = process.env['SEED'];
  return s ? Number(s) : (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** Runs fn with a seeded rng; on failure, rethrows with the seed in the message. */
export async function withSeed<T>(name: string, fn: (rng: Rng) => T | Promise<T>, seed = testSeed()): Promise<T> {
  try {
    return await fn(makeRng(seed));
  } catch (e) {
    const err = e as Error;
    err.message = `[${name}] failed with SEED=${seed} (replay with SEED=${seed}): ${err.message}`;
    throw err;
  }
}
