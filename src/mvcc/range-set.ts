/**
 * RangeSet: the key ranges one commit deletes (its range deletes, half-open [start, end)), sorted and
 * coalesced, for the conflict tracker. A range delete is a write of every key in its range, so a
 * commit's write set is its KeySet (point keys, key-set.ts) plus this set.
 * Why a plain list of ranges and not something packed like KeySet: range deletes are rare and a
 * commit holds few of them; what matters is that checks against it are O(log ranges).
 * Also here: KeyRange, a range with bounds that may be open or inclusive (what an iterator reads).
 * Contract: immutable once built; the key arrays are the set's own copies or arrays nobody changes.
 * Main thread or worker.
 */
import { compareBytes } from '../base/bytes.js';
import type { KeySet } from './key-set.js';

/** A key range as an iterator reads it: each bound open (undefined), inclusive or exclusive. */
export interface KeyRange {
  /** undefined = unbounded */
  lo: Uint8Array | undefined;
  loInclusive: boolean;
  hi: Uint8Array | undefined;
  hiInclusive: boolean;
}

export class RangeSet {
  private constructor(
    /** Disjoint, non-adjacent, in key order: end[i] < start[i + 1]. */
    private readonly starts: readonly Uint8Array[],
    private readonly ends: readonly Uint8Array[],
    /** Key bytes held plus a small per-range overhead (memory accounting, not exact). */
    readonly bytes: number,
  ) {}

  /**
   * The union of `ranges` (each start < end; any order, may overlap or touch). REQUIRES: the
   * arrays are never changed afterwards (the set keeps them).
   */
  static of(ranges: readonly (readonly [Uint8Array, Uint8Array])[]): RangeSet {
    const sorted = [...ranges].sort((a, b) => compareBytes(a[0], b[0]));
    const starts: Uint8Array[] = [];
    const ends: Uint8Array[] = [];
    let bytes = 0;
    for (const [s, e] of sorted) {
      const last = ends.length - 1;
      if (last >= 0 && compareBytes(s, ends[last]!) <= 0) {
        if (compareBytes(e, ends[last]!) > 0) ends[last] = e;
        continue;
      }
      starts.push(s);
      ends.push(e);
    }
    for (let i = 0; i < starts.length; i++) bytes += starts[i]!.length + ends[i]!.length + 32;
    return new RangeSet(starts, ends, bytes);
  }

  get count(): number { return this.starts.length; }
  start(i: number): Uint8Array { return this.starts[i]!; }
  end(i: number): Uint8Array { return this.ends[i]!; }

  /** Index of the last range whose start <= key, or -1. */
  private floor(key: Uint8Array): number {
    let lo = 0, hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.starts[mid]!, key) <= 0) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  }

  /** True when some range holds `key` (start inclusive, end exclusive). */
  covers(key: Uint8Array): boolean {
    const i = this.floor(key);
    return i >= 0 && compareBytes(key, this.ends[i]!) < 0;
  }

  /** The first key of `keys` that some range holds, or undefined. O(ranges x log keys). */
  firstCovered(keys: KeySet): Uint8Array | undefined {
    for (let i = 0; i < this.starts.length; i++) {
      const j = keys.lowerBound(this.starts[i]!);
      if (j < keys.count && keys.compareAt(j, this.ends[i]!) < 0) return keys.key(j);
    }
    return undefined;
  }

  /** The first key of `r` that some range holds (the lowest key of the overlap), or undefined. */
  firstOverlap(r: KeyRange): Uint8Array | undefined {
    // Ranges are disjoint and sorted: start at the one that may hold r.lo, walk until past r.hi.
    for (let i = r.lo ? Math.max(0, this.floor(r.lo)) : 0; i < this.starts.length; i++) {
      const s = this.starts[i]!, e = this.ends[i]!;
      let from = s;
      if (r.lo) {
        const c = compareBytes(e, r.lo);
        // [s, e) ends at or before r.lo: none of it is in r (e itself is not deleted)
        if (c <= 0) continue;
        if (compareBytes(r.lo, s) >= 0) {
          from = r.lo;
          if (!r.loInclusive) {
            // (r.lo, ...): the first key after r.lo is r.lo + 0x00, inside [s, e) unless e is exactly that
            const next = new Uint8Array(r.lo.length + 1);
            next.set(r.lo);
            if (compareBytes(next, e) >= 0) continue;
            from = next;
          }
        }
      }
      if (r.hi) {
        const c = compareBytes(from, r.hi);
        if (c > 0 || (c === 0 && !r.hiInclusive)) return undefined;
      }
      return from;
    }
    return undefined;
  }
}
