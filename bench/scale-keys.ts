/**
 * The scale run's keys: key number i (0 <= i < 2^32) as keySize bytes whose first four are a hash of
 * i and next four are i itself (workload-data.ts spreadKey's first 16 bytes, zero-padded past 16).
 * Writing the numbers in order therefore writes keys in random key order (db_bench's fillbatch and
 * fillrandom), yet every key is distinct: the live data after a step is exactly its keys x (key +
 * value) bytes, with no bitmap of written keys to hold in memory (50 GiB is 460 million keys).
 */
import { spreadKey } from './workload-data.js';

export function scaleKey(i: number, keySize: number): Buffer {
  const spread = spreadKey(i, Buffer.allocUnsafe(16));
  if (keySize === 16) return spread;
  const k = Buffer.alloc(keySize);
  spread.copy(k, 0, 0, Math.min(16, keySize));
  return k;
}
