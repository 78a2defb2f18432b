/**
 * The transaction benchmarks' shared data helpers (txn.ts, txn-sweep.ts): the key names of the filled
 * key space and a deterministic per-client chooser. Apart because both benchmarks are scripts that run
 * when imported.
 */

export const keyOf = (i: number): string => `k${String(i).padStart(8, '0')}`;

/** xorshift32: deterministic key choices per client; next(n) is in [0, n). */
export function rng(seed: number): (n: number) => number {
  let x = seed | 0 || 1;
  return (n) => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) % n;
  };
}
