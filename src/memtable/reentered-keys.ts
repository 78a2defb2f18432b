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
 * only when the memtable has tombstones (O(log ranges)). A re-entered key is copied into a small
 * unsorted tail, sorted when a query needs it; every TAIL_MAX keys the tail becomes a sorted run, and
 * runs are merged geometrically (each at least twice the next), so a range cleared and written again
 * key by key costs O(log keys) amortised per add and a query O(runs x log keys), runs <= log2(keys)
 * (re-entry is rare in practice anyway: queues delete a consumed prefix and append beyond it).
 * Contract: single-threaded like the memtable; keys are copied when kept.
 * Not here: the tombstones themselves (memtable.ts keeps them, src/rangedel fragments them).
 */
import { compareBytes } from '../base/bytes.js';
import type { FragmentSet } from '../rangedel/fragment-set.js';
import { immediateSuccessor } from '../rangedel/range-tombstone.js';
import type { Stretches } from '../rangedel/stretches.js';

/** Per kept key beyond its bytes: the array, its object and the slot (an estimate). */
const KEY_OVERHEAD = 80;
/** Re-entered keys kept unsorted before a merge: a query sorts at most this many. */
const TAIL_MAX = 1024;

/** Index of the first key >= key (orEqual) or > key (!orEqual) in sorted `keys`. */
function lowerBound(keys: readonly Uint8Array[], key: Uint8Array, orEqual: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareBytes(keys[mid]!, key);
    if (c < 0 || (!orEqual && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const smaller = (a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined =>
  !a ? b : !b ? a : compareBytes(a, b) <= 0 ? a : b;
const larger = (a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined =>
  !a ? b : !b ? a : compareBytes(a, b) >= 0 ? a : b;

/** The re-entered keys as plain data, for a memtable view in a worker. */
export interface SharedReenteredKeys {
  exact: boolean;
  keys: Uint8Array[];
}

export class ReenteredKeys {
  /** The union of the tombstones' ranges: disjoint, sorted, [starts[i], ends[i]). */
  private readonly starts: Uint8Array[] = [];
  private readonly ends: Uint8Array[] = [];
  /** Sorted runs, each unique within itself, oldest and largest first; runs may share keys. */
  private runs: Uint8Array[][] = [];
  /** Re-entered keys not in a run yet: sorted only when `tailSorted`; may repeat keys of the runs. */
  private tail: Uint8Array[] = [];
  private tailSorted = true;
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
    this.mergeTail();
    while (this.runs.length > 1) this.mergeLastRuns();
    return this.runs[0]?.length ?? 0;
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
    const last = this.tail[this.tail.length - 1];
    if (last && compareBytes(last, userKey) === 0) return; // the same key again: a hot key
    this.tail.push(new Uint8Array(userKey)); // a copy, also of a Buffer
    this.tailSorted = false;
    this.keyBytes += userKey.length + KEY_OVERHEAD;
    if (this.tail.length >= TAIL_MAX) this.mergeTail();
  }

  /** For a view of a frozen memtable (tombstones are added again through addTombstone first). */
  share(): SharedReenteredKeys {
    this.mergeTail();
    return { exact: this.exact, keys: this.runs.flat() };
  }

  adopt(shared: SharedReenteredKeys): void {
    this.exact = shared.exact;
    this.runs = [];
    this.tail = shared.keys.slice();
    this.tailSorted = false;
    this.keyBytes = 0;
    for (const k of this.tail) this.keyBytes += k.length + KEY_OVERHEAD;
    this.mergeTail();
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
        const r = this.firstAtOrAfter(key);
        if (!r) return e;
        const c = compareBytes(r, key);
        if (c === 0) return undefined;
        return compareBytes(r, e) < 0 ? r : e;
      },
      startOf: (key) => {
        if (!this.exact) return undefined;
        const s = set.seekStart(key, readSeq, 0);
        if (!s) return undefined;
        const r = this.lastBelow(key, true);
        if (!r || compareBytes(r, s) < 0) return s;
        return compareBytes(r, key) === 0 ? undefined : immediateSuccessor(r);
      },
      startBefore: (key) => {
        if (!this.exact) return undefined;
        const s = set.seekStartBefore(key, readSeq, 0);
        if (!s) return undefined;
        const r = this.lastBelow(key, false);
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

  /** The first re-entered key >= key. */
  private firstAtOrAfter(key: Uint8Array): Uint8Array | undefined {
    const tail = this.sortedTail();
    let best = tail[lowerBound(tail, key, true)];
    for (const run of this.runs) best = smaller(best, run[lowerBound(run, key, true)]);
    return best;
  }

  /** The last re-entered key <= key (orEqual) or < key. */
  private lastBelow(key: Uint8Array, orEqual: boolean): Uint8Array | undefined {
    const tail = this.sortedTail();
    let best = tail[lowerBound(tail, key, !orEqual) - 1];
    for (const run of this.runs) best = larger(best, run[lowerBound(run, key, !orEqual) - 1]);
    return best;
  }

  private sortedTail(): readonly Uint8Array[] {
    if (!this.tailSorted) {
      this.tail.sort(compareBytes);
      this.tailSorted = true;
    }
    return this.tail;
  }

  /** Makes the tail a run, then merges runs until each is more than twice the next. */
  private mergeTail(): void {
    if (this.tail.length === 0) return;
    this.runs.push(this.mergeRuns([], this.sortedTail()));
    this.tail = [];
    this.tailSorted = true;
    const runs = this.runs;
    while (runs.length > 1 && runs[runs.length - 2]!.length <= 2 * runs[runs.length - 1]!.length) this.mergeLastRuns();
  }

  private mergeLastRuns(): void {
    const b = this.runs.pop()!;
    const a = this.runs.pop()!;
    this.runs.push(this.mergeRuns(a, b));
  }

  /** a and b merged, repeats dropped (and uncounted). */
  private mergeRuns(a: readonly Uint8Array[], b: readonly Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      const next = j >= b.length || (i < a.length && compareBytes(a[i]!, b[j]!) <= 0) ? a[i++]! : b[j++]!;
      const prev = out.length > 0 ? out[out.length - 1]! : undefined;
      if (prev && compareBytes(prev, next) === 0) this.keyBytes -= next.length + KEY_OVERHEAD;
      else out.push(next);
    }
    return out;
  }
}
