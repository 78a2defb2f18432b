/**
 * The transaction benchmarks' shared data helpers (txn.ts, txn-sweep.ts): the key names of the filled
 * key space, the fill itself and a deterministic per-client chooser. Apart because both benchmarks are scripts that run
 * when imported.
 */
import { Buffer } from 'node:buffer';
import { WriteBatch, type DB } from '../src/index.js';

export const keyOf = (i: number): string => `k${String(i).padStart(8, '0')}`;

/** xorshift32: deterministic key choices per client; next(n) is in [0, n). */
export function rng(seed: number): (n: number) => number {
  let x = seed | 0 || 1;
  return (n) => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/**
 * Writes keys 0..keys-1 with `valueSize`-byte values in batches of 1000, then compacts everything so
 * the fill's compactions do not run (in worker threads, counted as CPU) under the first cells.
 * Returns the seconds it took.
 */
export async function fillKeys(db: DB, keys: number, valueSize: number): Promise<number> {
  const t0 = performance.now();
  const value = Buffer.alloc(valueSize, 7);
  for (let i = 0; i < keys; i += 1000) {
    const b = new WriteBatch();
    for (let j = i; j < Math.min(keys, i + 1000); j++) b.put(keyOf(j), value);
    await db.write(b);
  }
  await db.compactRange();
  return (performance.now() - t0) / 1000;
}
