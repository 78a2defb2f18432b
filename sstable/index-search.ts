/**
 * A cache-friendly lower-bound search over a table's index block for point lookups. A plain binary
 * search over a 1M-entry table's index (26K entries, ~650 KB) takes ~15 steps whose last half each
 * miss the CPU caches twice (restart slot, then key bytes). Here every index key is summarised by the
 * 8 bytes that follow the prefix all keys of the table share, as a (hi, lo) pair of big-endian
 * uint32s in two typed arrays (8 bytes per entry), and the search compares those first; only equal
 * summaries fall back to a full key comparison.
 * Why it is exact: summaries pad short keys with zero bytes, and padded order never contradicts
 * bytewise order (a < b whenever summary(a) < summary(b)); ties are decided by the comparator.
 * For internal keys the summary covers the user-key part only, which orders first.
 * Contract: built from an index block whose every entry is a restart point (the writer's interval
 * 1); otherwise `build` returns undefined and callers use the block iterator. Works for the bytewise
 * and internal-key comparators only (undefined for others). Immutable; safe to share.
 * Table iterators use the same search for their index seek (the table reader hands its search to
 * each iterator it makes): an iterator is made per range read, and building a search walks the whole index.
 */
import { compareBytes, copyBytes } from '../src/base/bytes.js';
import type { Comparator } from '../src/base/comparator.js';
import { compareInternalKeys, TRAILER_SIZE } from '../src/base/internal-key.js';
import { BlockIterator, type Block } from './block-reader.js';
import type { RangeCompare } from './range-compare.js';

export class IndexSearch {
  readonly count: number;

  private constructor(
    private readonly block: Block,
    private readonly cmp: RangeCompare,
    /** Bytes shared by every key's user part, skipped by the summaries. */
    private readonly prefixLength: number,
    private readonly prefix: Uint8Array,
    private readonly hi: Uint32Array,
    private readonly lo: Uint32Array,
    private readonly internal: boolean,
    private readonly iter: BlockIterator,
  ) {
    this.count = hi.length;
  }

  /** Walks the index once (open time) and builds the summaries; undefined when not applicable. */
  static build(block: Block, comparator: Comparator, cmp: RangeCompare): IndexSearch | undefined {
    const internal = comparator.compare === compareInternalKeys;
    if (!internal && comparator.compare !== compareBytes) return undefined;
    const n = block.numRestarts;
    if (block.restartsOffset === 0 || n === 0) return undefined;
    const it = new BlockIterator(cmp, block);
    const userEnd = (): number => (internal ? it.keySize - TRAILER_SIZE : it.keySize);
    it.seekToFirst();
    const first = copyBytes(it.keyBuffer.subarray(0, Math.max(0, userEnd())));
    it.seekToLast();
    const last = it.keyBuffer.subarray(0, Math.max(0, userEnd()));
    let p = 0;
    while (p < first.length && p < last.length && first[p] === last[p]) p++;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    let i = 0;
    for (it.seekToFirst(); it.valid(); it.next(), i++) {
      // Not one entry per restart point: leave it to the block iterator.
      if (i >= n || it.entryOffset !== block.restart(i)) return undefined;
      const end = userEnd();
      if (end < 0) return undefined;
      hi[i] = word(it.keyBuffer, p, end);
      lo[i] = word(it.keyBuffer, p + 4, end);
    }
    if (i !== n) return undefined;
    return new IndexSearch(block, cmp, p, copyBytes(first.subarray(0, p)), hi, lo, internal, new BlockIterator(cmp, block));
  }

  /**
   * Positions `it` (an iterator over this search's block) on the first entry with key >= target,
   * or past the end: BlockIterator.seek's answer, by the summaries.
   */
  seekIterator(it: BlockIterator, target: Uint8Array): void {
    const i = this.lowerBound(target);
    if (i === this.count) it.seekPastEnd();
    else it.seekToRestart(i);
  }

  /**
   * Index of the first entry with key >= target (count when none). Positions the shared iterator
   * returned by `at()` on it when found.
   */
  lowerBound(target: Uint8Array): number {
    const userEnd = this.internal ? Math.max(0, target.length - TRAILER_SIZE) : target.length;
    const p = this.prefixLength;
    // Outside the shared prefix, the target is before all keys or after all of them.
    for (let i = 0; i < p; i++) {
      const t = i < userEnd ? target[i]! : -1;
      const d = t - this.prefix[i]!;
      if (d < 0) return 0;
      if (d > 0) return this.count;
    }
    const th = word(target, p, userEnd);
    const tl = word(target, p + 4, userEnd);
    let left = 0;
    let right = this.count;
    const hi = this.hi;
    const lo = this.lo;
    while (left < right) {
      const mid = (left + right) >>> 1;
      const h = hi[mid]!;
      let less: boolean;
      if (h !== th) less = h < th;
      else if (lo[mid] !== tl) less = lo[mid]! < tl;
      else less = this.compareAt(mid, target) < 0;
      if (less) left = mid + 1;
      else right = mid;
    }
    return left;
  }

  private compareAt(i: number, target: Uint8Array): number {
    const it = this.iter;
    it.seekToRestart(i);
    return this.cmp(it.keyBuffer, 0, it.keySize, target, 0, target.length);
  }

  /** The index iterator positioned on entry i (REQUIRES i < count); valid until the next call. */
  at(i: number): BlockIterator {
    this.iter.seekToRestart(i);
    return this.iter;
  }

  /** Bytes held beyond the index block itself. */
  get byteSize(): number {
    return this.hi.byteLength + this.lo.byteLength + this.prefix.byteLength + 128;
  }

  get indexBlock(): Block { return this.block; }
}

/** Big-endian uint32 of key[start, start + 4), zero bytes past `end`. */
function word(key: Uint8Array, start: number, end: number): number {
  let w = 0;
  for (let i = start; i < start + 4; i++) w = w * 256 + (i < end ? key[i]! : 0);
  return w;
}
