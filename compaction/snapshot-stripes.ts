/**
 * Snapshot stripes, RocksDB's rule for which versions of a key anyone can still read: with live
 * snapshot sequences S1 < S2 < … < Sk, a version with seq s belongs to the stripe of the smallest
 * Si >= s (or to the "current" stripe above Sk). A reader at Si sees the newest version with seq <= Si,
 * the first version of its stripe or, if that stripe is empty, of an older one; so keeping the first
 * (newest) version of every stripe is exactly enough, and a version with a newer one in its own stripe
 * is shadowed for every reader. One rule for compactions (compaction-iterator.ts), their range
 * tombstones (range-dels.ts) and flushes (flush-version-filter.ts). Pure.
 */

/** Index of the stripe of `seq` in ascending snapshots (snapshots.length = above every snapshot). */
export function stripeOf(snapshots: readonly number[], seq: number): number {
  let lo = 0, hi = snapshots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (snapshots[mid]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
