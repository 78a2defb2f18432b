/**
 * FragmentSet: an immutable, sorted list of non-overlapping range-tombstone fragments (fragmenter.ts)
 * and the queries reads need: is this key version deleted at this read sequence, and how far can an
 * iterator jump to leave a deleted stretch (RocksDB's FragmentedRangeTombstoneList, Pebble's
 * keyspan.Iter over fragments).
 * Visibility: a fragment's seq s is visible to a read at readSeq when s <= readSeq; a key version with
 * seq k is deleted at readSeq when some visible s covering it has s > k (maxCoveringSeq > k).
 * Contract: built from fragments in start order that do not overlap (checked: InvalidArgumentError);
 * lookups are O(log fragments) by binary search, bytewise on user keys. Safe in a worker.
 * Not here: where the fragments come from (memtable, tables: table-codec.ts).
 */
import { compareBytes, printableKey } from '../base/bytes.js';
import { InvalidArgumentError } from '../errors.js';
import { fragmentTombstones, type Fragment } from './fragmenter.js';
import { immediateSuccessor, type RangeTombstone } from './range-tombstone.js';

/** The newest fragment seq visible at readSeq, or 0 (seqs are >= 1, so 0 deletes nothing). */
function visibleSeq(f: Fragment, readSeq: number): number {
  for (const s of f.seqs) if (s <= readSeq) return s;
  return 0;
}

export class FragmentSet {
  static readonly EMPTY = new FragmentSet([]);

  private constructor(private readonly list: readonly Fragment[]) {}

  /** From fragments already in order and disjoint (checked). */
  static fromFragments(fragments: readonly Fragment[]): FragmentSet {
    for (let i = 0; i < fragments.length; i++) {
      const f = fragments[i]!;
      if (compareBytes(f.start, f.end) >= 0) {
        throw new InvalidArgumentError(`fragment ${i}: start ${printableKey(f.start)} is not before end ${printableKey(f.end)}`);
      }
      if (f.seqs.length === 0) throw new InvalidArgumentError(`fragment ${i} has no seqs`);
      for (let j = 1; j < f.seqs.length; j++) {
        if (!(f.seqs[j]! < f.seqs[j - 1]!)) throw new InvalidArgumentError(`fragment ${i}: seqs must be strictly descending`);
      }
      if (i > 0 && compareBytes(fragments[i - 1]!.end, f.start) > 0) {
        throw new InvalidArgumentError(`fragment ${i} overlaps fragment ${i - 1}`);
      }
    }
    return fragments.length === 0 ? FragmentSet.EMPTY : new FragmentSet(fragments.slice());
  }

  /** Fragments tombstones given in any order. */
  static fromTombstones(tombstones: readonly RangeTombstone[]): FragmentSet {
    return tombstones.length === 0 ? FragmentSet.EMPTY : new FragmentSet(fragmentTombstones(tombstones));
  }

  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  /** Number of fragments. */
  get length(): number {
    return this.list.length;
  }

  /** Number of (fragment, seq) pairs: the entries a table's range-deletion block holds for this set. */
  get entryCount(): number {
    let n = 0;
    for (const f of this.list) n += f.seqs.length;
    return n;
  }

  /** The fragments in order (read-only). */
  fragments(): readonly Fragment[] {
    return this.list;
  }

  /** Smallest start and largest end (exclusive), or undefined when empty. */
  bounds(): { start: Uint8Array; end: Uint8Array } | undefined {
    if (this.list.length === 0) return undefined;
    return { start: this.list[0]!.start, end: this.list[this.list.length - 1]!.end };
  }

  /** Index of the fragment whose range holds userKey, or -1. */
  indexOf(userKey: Uint8Array): number {
    // The last fragment with start <= userKey.
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.list[mid]!.start, userKey) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    return i >= 0 && compareBytes(userKey, this.list[i]!.end) < 0 ? i : -1;
  }

  /** The newest tombstone seq <= readSeq covering userKey; 0 when none does. */
  maxCoveringSeq(userKey: Uint8Array, readSeq: number): number {
    const i = this.indexOf(userKey);
    return i < 0 ? 0 : visibleSeq(this.list[i]!, readSeq);
  }

  /** True when the version (userKey, seq) is deleted for a read at readSeq. */
  deletes(userKey: Uint8Array, seq: number, readSeq: number): boolean {
    return this.maxCoveringSeq(userKey, readSeq) > seq;
  }

  /**
   * For a forward iterator at userKey: the exclusive end of the stretch, starting at the fragment that
   * holds userKey, in which every key is covered by a tombstone visible at readSeq with seq > aboveSeq
   * (contiguous fragments are followed). Every version with seq <= aboveSeq in [userKey, end) is
   * deleted, so the iterator may seek to `end`. Undefined when userKey itself is not so covered.
   */
  seekEnd(userKey: Uint8Array, readSeq: number, aboveSeq = 0): Uint8Array | undefined {
    let i = this.indexOf(userKey);
    if (i < 0 || visibleSeq(this.list[i]!, readSeq) <= aboveSeq) return undefined;
    while (i + 1 < this.list.length) {
      const next = this.list[i + 1]!;
      if (compareBytes(next.start, this.list[i]!.end) !== 0 || visibleSeq(next, readSeq) <= aboveSeq) break;
      i++;
    }
    return this.list[i]!.end;
  }

  /**
   * seekEnd for a reverse iterator: the first key of the covered stretch that holds userKey (walking
   * back over contiguous fragments); the iterator may seek to the last key before it.
   */
  seekStart(userKey: Uint8Array, readSeq: number, aboveSeq = 0): Uint8Array | undefined {
    let i = this.indexOf(userKey);
    if (i < 0 || visibleSeq(this.list[i]!, readSeq) <= aboveSeq) return undefined;
    while (i > 0) {
      const prev = this.list[i - 1]!;
      if (compareBytes(prev.end, this.list[i]!.start) !== 0 || visibleSeq(prev, readSeq) <= aboveSeq) break;
      i--;
    }
    return this.list[i]!.start;
  }

  /**
   * seekStart continued past a stretch's first key: the first key of the covered stretch holding the
   * keys just below `key` (a fragment with start < key <= end), walking back over contiguous fragments;
   * undefined when the keys just below `key` are not so covered. Lets a caller chain stretches of
   * several sets backwards, as seekEnd at a stretch's end chains them forwards.
   */
  seekStartBefore(key: Uint8Array, readSeq: number, aboveSeq = 0): Uint8Array | undefined {
    // The last fragment with start < key.
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.list[mid]!.start, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < 0 || compareBytes(this.list[i]!.end, key) < 0) return undefined;
    return this.seekStart(this.list[i]!.start, readSeq, aboveSeq);
  }

  /**
   * The fragments clipped to the user-key bounds [smallest, largest] (both inclusive, as a table's
   * bounds): for a compaction output holding those keys. A fragment ending past `largest` ends at
   * largest's immediate successor; fragments left empty are dropped.
   */
  truncate(smallest: Uint8Array, largest: Uint8Array): FragmentSet {
    const limit = immediateSuccessor(largest);
    const out: Fragment[] = [];
    for (const f of this.list) {
      const start = compareBytes(f.start, smallest) < 0 ? smallest : f.start;
      const end = compareBytes(f.end, limit) > 0 ? limit : f.end;
      if (compareBytes(start, end) < 0) out.push(start === f.start && end === f.end ? f : { start, end, seqs: f.seqs });
    }
    return out.length === 0 ? FragmentSet.EMPTY : new FragmentSet(out);
  }

  /** One tombstone per (fragment, seq): what a table stores and what re-fragmenting starts from. */
  tombstones(): RangeTombstone[] {
    const out: RangeTombstone[] = [];
    for (const f of this.list) for (const seq of f.seqs) out.push({ start: f.start, end: f.end, seq });
    return out;
  }
}
