/**
 * ReenteredKeys: lets an iterator jump over a memtable's own deleted stretches although the memtable
 * holds both the tombstones and the data (a range cleared moments ago, still in the memtable).
 * A key is re-entered when a version of it is added to the memtable while one of the memtable's own
 * tombstones already covers it (a put or delete inside a range deleted before, in the same memtable).
 * The rule, and why it is exact: let x be a key that is not re-entered, covered by a tombstone T of
 * this memtable visible to a read. Every version of x here was added before every tombstone of this
 * memtable covering x (a later one would have made x re-entered), and adds come in seq order (a
 * tombstone arriving out of order turns the rule off: `exact`), so each is older than T and deleted.
 * Hence a stretch [k, end) covered by this memtable's visible tombstones can be skipped up to
 * min(end, first re-entered key >= k), and backwards down to just past the last re-entered key <= k.
 * A key marked re-entered without need only shortens a jump. Versions added after an iterator was
 * positioned are newer than its read, so a key turning re-entered meanwhile changes nothing it sees.
 * Costs: a tombstone merges its range into a sorted union of disjoint ranges; an add checks that union
 * only when the memtable has tombstones (O(log ranges)), and a re-entered key is inserted into a sorted
 * array (rare in practice: queues delete a consumed prefix and append beyond it).
 * Contract: single-threaded like the memtable; keys are copied when kept.
 * Not here: the tombstones themselves (memtable.ts keeps them, src/rangedel fragments them).
 */
import { compareBytes } from '../base/bytes.js';
import type { FragmentSet } from '../rangedel/fragment-set.js';
import { immediateSuccessor } from '../rangedel/range-tombstone.js';
import type { Stretches } from '../rangedel/stretches.js';

/** Per kept key beyond its bytes: the array, its object and the slot (an estimate). */
const KEY_OVERHEAD = 80;

/** The re-entered keys as plain data, for a memtable view in a worker. */
export interface SharedReenteredKeys {
  exact: boolean;
  keys: Uint8Array[];
}

export class ReenteredKeys {
  /** The union of the tombstones' ranges: disjoint, sorted, [starts[i], ends[i]). */
  private readonly starts: Uint8Array[] = [];
  private readonly ends: Uint8Array[] = [];
  /** Sorted, unique. */
  private keys: Uint8Array[] = [];
  private exact = true;
  private keyBytes = 0;

  /** Bytes held by the re-entered keys (the ranges are counted with the tombstones). */
  get bytesHeld(): number {
    return this.keyBytes;
  }

  get isExact(): boolean {
    return this.exact;
  }

  /** Re-entered keys so far (for tests and stats). */
  get count(): number {
    return this.keys.length;
  }

  /**
   * A tombstone [start, end) of the memtable; `inOrder` is false when a version newer than it is
   * already in the memtable (then which keys that version re-entered is unknown: the rule goes off).
   */
  addTombstone(start: Uint8Array, end: Uint8Array, inOrder: boolean): void {
    if (!inOrder) this.exact = false;
    // Ranges i .. j-1 overlap or touch [start, end): merged into one.
    const i = this.firstEndAtOrAfter(start);
    let j = i;
    while (j < this.starts.length && compareBytes(this.starts[j]!, end) <= 0) j++;
    if (i === j) {
      this.starts.splice(i, 0, start);
      this.ends.splice(i, 0, end);
      return;
    }
    const s = compareBytes(this.starts[i]!, start) < 0 ? this.starts[i]! : start;
    const e = compareBytes(this.ends[j - 1]!, end) > 0 ? this.ends[j - 1]! : end;
    this.starts.splice(i, j - i, s);
    this.ends.splice(i, j - i, e);
  }

  /** Notes a version of userKey just added to the memtable (the caller has checked it has tombstones). */
  noteAdd(userKey: Uint8Array): void {
    const i = this.firstEndAfter(userKey);
    if (i >= this.starts.length || compareBytes(this.starts[i]!, userKey) > 0) return;
    const at = this.firstKeyAtOrAfter(userKey);
    if (at < this.keys.length && compareBytes(this.keys[at]!, userKey) === 0) return;
    this.keys.splice(at, 0, Uint8Array.from(userKey));
    this.keyBytes += userKey.length + KEY_OVERHEAD;
  }

  /** For a view of a frozen memtable (tombstones are added again through addTombstone first). */
  share(): SharedReenteredKeys {
    return { exact: this.exact, keys: this.keys.slice() };
  }

  adopt(shared: SharedReenteredKeys): void {
    this.exact = shared.exact;
    this.keys = shared.keys.slice();
    this.keyBytes = 0;
    for (const k of this.keys) this.keyBytes += k.length + KEY_OVERHEAD;
  }

  /**
   * The stretches of `set` (the memtable's own tombstones) visible at readSeq in which no key is
   * re-entered. `exact` is checked on every call, so the rule turns off at once.
   */
  stretches(set: FragmentSet, readSeq: number): Stretches {
    return {
      endFrom: (key) => {
        if (!this.exact) return undefined;
        const e = set.seekEnd(key, readSeq, 0);
        if (!e) return undefined;
        const r = this.keys[this.firstKeyAtOrAfter(key)];
        if (!r) return e;
        const c = compareBytes(r, key);
        if (c === 0) return undefined;
        return compareBytes(r, e) < 0 ? r : e;
      },
      startOf: (key) => {
        if (!this.exact) return undefined;
        const s = set.seekStart(key, readSeq, 0);
        if (!s) return undefined;
        const i = this.firstKeyAfter(key) - 1;
        const r = i >= 0 ? this.keys[i]! : undefined;
        if (!r || compareBytes(r, s) < 0) return s;
        return compareBytes(r, key) === 0 ? undefined : immediateSuccessor(r);
      },
      startBefore: (key) => {
        if (!this.exact) return undefined;
        const s = set.seekStartBefore(key, readSeq, 0);
        if (!s) return undefined;
        const i = this.firstKeyAtOrAfter(key) - 1;
        const r = i >= 0 ? this.keys[i]! : undefined;
        if (!r || compareBytes(r, s) < 0) return s;
        const after = immediateSuccessor(r);
        return compareBytes(after, key) < 0 ? after : undefined;
      },
    };
  }

  /** Index of the first range with end >= key (ranges touching key merge with one starting there). */
  private firstEndAtOrAfter(key: Uint8Array): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.ends[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first range with end > key: the only one that may hold key. */
  private firstEndAfter(key: Uint8Array): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.ends[mid]!, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private firstKeyAtOrAfter(key: Uint8Array): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.keys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private firstKeyAfter(key: Uint8Array): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.keys[mid]!, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
