/**
 * Decides, for a merged stream of internal keys (user key ascending, newest version first), which
 * entries a compaction writes out. For each user key it keeps the newest version, plus the newest
 * version visible to each live snapshot; everything else is shadowed and dropped.
 *
 * Snapshot stripes (snapshot-stripes.ts): keeping the first version of every stripe is exactly enough.
 *
 * Tombstones (LevelDB's rule): a deletion can be dropped when it is in the oldest stripe (no snapshot
 * can see anything older through it: all older versions are in the same stripe and dropped too) and
 * no deeper level holds the key (plan.deeperRanges), since otherwise dropping it would resurrect an
 * older value below.
 *
 * Range tombstones (range-dels.ts): a version covered by a newer tombstone of its own stripe is
 * dropped (counted as droppedCovered); the tombstones themselves are carried by the runner.
 *
 * Compaction filter (entry-filter.ts; RocksDB's CompactionFilter rules): asked only about a Put that
 * is the newest version of its key here and lies in the current stripe (seq above every live
 * snapshot), so no snapshot can see the change. Its new value replaces the value; 'remove' turns the
 * entry into a Delete at the same seq (older versions below or kept for snapshots must not resurface),
 * which then follows the tombstone rule above: dropped where nothing older can exist, so the bottommost
 * level gets no tombstone. Deletes and range tombstones never reach it.
 *
 * Bounds (a subcompaction's piece): only user keys in [lo, hi) are yielded.
 *
 * Contract: next() yields the kept entries in order; key()/value() are views valid until the next
 * move. Safe in a worker (no engine state). Counts dropped entries for stats.
 */
import type { InternalIterator } from '../src/base/internal-iterator.js';
import { compareByteRanges } from '../src/base/bytes.js';
import { KIND_FOR_SEEK, MAX_SEQUENCE, TRAILER_SIZE, ValueKind, kindOf, makeInternalKey, seqOf } from '../src/base/internal-key.js';
import type { CoverageCursor } from './range-dels.js';
import { stripeOf } from './snapshot-stripes.js';
import type { EntryDecision } from './entry-filter.js';

export interface KeyRange { smallest: Uint8Array; largest: Uint8Array }

/** Optional parts of a compaction: a filter (asked per entry with its seq) and piece bounds (user keys). */
export interface CompactionIteratorExtras {
  filter?: ((userKey: Uint8Array, value: Uint8Array, seq: number) => EntryDecision) | undefined;
  /** Inclusive lower bound. */
  lo?: Uint8Array | undefined;
  /** Exclusive upper bound. */
  hi?: Uint8Array | undefined;
}

const EMPTY = new Uint8Array(0);

export class CompactionIterator {
  private readonly snapshots: readonly number[];
  private lastUserKey = new Uint8Array(64);
  private lastUserKeyLen = -1;
  /** Stripe (index into snapshots, snapshots.length = current) of the last kept version of the key. */
  private lastStripe = -1;
  private rangeCursor = 0;
  droppedShadowed = 0;
  droppedTombstones = 0;
  droppedCovered = 0;
  kept = 0;
  /** Entries the filter removed (dropped, or kept as a tombstone), and entries whose value it changed. */
  filteredRemoved = 0;
  filteredChanged = 0;
  /** The current entry as the filter left it (undefined: as read). */
  private keyOverride: Uint8Array | undefined;
  private valueOverride: Uint8Array | undefined;

  constructor(
    private readonly input: InternalIterator,
    /** Live snapshot sequences, ascending. */
    snapshots: readonly number[],
    /** User-key ranges of deeper levels, sorted by smallest (plan.deeperRanges). */
    private readonly deeper: readonly KeyRange[],
    /** The inputs' range tombstones (absent: none). */
    private readonly coverage?: CoverageCursor,
    private readonly extras: CompactionIteratorExtras = {},
  ) {
    this.snapshots = snapshots;
  }

  /** Positions on the first kept entry; false when there is none. */
  async first(): Promise<boolean> {
    const lo = this.extras.lo;
    const p = lo ? this.input.seek(makeInternalKey(lo, MAX_SEQUENCE, KIND_FOR_SEEK)) : this.input.seekToFirst();
    if (p) await p;
    return this.skipDropped();
  }

  /** Moves to the next kept entry; false at the end. */
  async next(): Promise<boolean> {
    const p = this.input.next();
    if (p) await p;
    return this.skipDropped();
  }

  key(): Uint8Array { return this.keyOverride ?? this.input.key(); }
  value(): Uint8Array { return this.valueOverride ?? this.input.value(); }

  /** True when the current entry's user key differs from the last kept entry's (a safe output cut point). */
  isNewUserKey = true;
  /** Whether a version of the current user key was already kept. */
  private keptThisKey = false;

  /** Whether a deeper level may hold userKey (keys arrive ascending: the cursor only moves forward). */
  private inDeeperLevel(k: Uint8Array, end: number): boolean {
    const r = this.deeper;
    while (this.rangeCursor < r.length) {
      const x = r[this.rangeCursor]!;
      if (compareByteRanges(x.largest, 0, x.largest.length, k, 0, end) < 0) { this.rangeCursor++; continue; }
      break;
    }
    // ranges are sorted by smallest but may overlap across levels: scan the ones that start <= k
    for (let i = this.rangeCursor; i < r.length; i++) {
      const x = r[i]!;
      if (compareByteRanges(x.smallest, 0, x.smallest.length, k, 0, end) > 0) break;
      if (compareByteRanges(x.largest, 0, x.largest.length, k, 0, end) >= 0) return true;
    }
    return false;
  }

  private async skipDropped(): Promise<boolean> {
    const it = this.input;
    const { filter, hi } = this.extras;
    this.keyOverride = undefined;
    this.valueOverride = undefined;
    for (;;) {
      if (!it.valid()) return false;
      const k = it.key();
      const ulen = k.length - TRAILER_SIZE;
      if (hi !== undefined && compareByteRanges(k, 0, ulen, hi, 0, hi.length) >= 0) return false;
      const seq = seqOf(k);
      const stripe = stripeOf(this.snapshots, seq);
      const same = this.lastUserKeyLen === ulen &&
        compareByteRanges(k, 0, ulen, this.lastUserKey, 0, ulen) === 0;
      let drop = false;
      if (same) {
        // Older version of the same key: kept only if it opens a new (older) stripe.
        if (stripe === this.lastStripe) drop = true;
      } else {
        if (this.lastUserKey.length < ulen) this.lastUserKey = new Uint8Array(Math.max(ulen, this.lastUserKey.length * 2));
        this.lastUserKey.set(k.subarray(0, ulen));
        this.lastUserKeyLen = ulen;
        this.keptThisKey = false;
      }
      if (!drop && this.coverage !== undefined && this.coverage.covers(k.subarray(0, ulen), seq)) {
        // Older versions of this key in the stripe are covered too; an older stripe opens anew.
        this.lastStripe = stripe;
        this.droppedCovered++;
        drop = true;
      } else if (!drop) {
        this.lastStripe = stripe;
        let kind = kindOf(k);
        if (filter !== undefined && kind === ValueKind.Put && !same && stripe === this.snapshots.length) {
          const d = filter(k.subarray(0, ulen), it.value(), seq);
          if (d === 'remove') {
            kind = ValueKind.Delete;
            this.keyOverride = makeInternalKey(k.subarray(0, ulen), seq, ValueKind.Delete);
            this.valueOverride = EMPTY;
            this.filteredRemoved++;
          } else if (d !== 'keep') {
            this.valueOverride = d;
            this.filteredChanged++;
          }
        }
        if (kind === ValueKind.Delete && stripe === 0 && !this.inDeeperLevel(k, ulen)) {
          // Oldest stripe, nothing below: the tombstone and everything older (same stripe) can go.
          this.droppedTombstones++;
          drop = true;
          this.keyOverride = undefined;
          this.valueOverride = undefined;
        }
      } else {
        this.droppedShadowed++;
      }
      if (!drop) {
        this.isNewUserKey = !this.keptThisKey;
        this.keptThisKey = true;
        this.kept++;
        return true;
      }
      const p = it.next();
      if (p) await p;
    }
  }
}
