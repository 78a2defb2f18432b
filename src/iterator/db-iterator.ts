/**
 * DBIterator: the user-facing cursor logic over one internal iterator (the merge of memtables and
 * tables), LevelDB's db/db_iter.cc reduced to one direction per iterator (as abstract-level has).
 *
 * Visibility at snapshot S: for each user key only the newest version with seq <= S counts;
 * versions with seq > S are invisible; if the counting version is a Delete the key is hidden.
 * Forward, the newest version comes first (internal order), so the first visible version of a
 * user key decides and the rest are skipped. Backward, older versions come first: like
 * DBIter::FindPrevUserEntry we keep a copy of the newest visible version seen so far and yield it
 * once the cursor reaches the previous user key.
 *
 * Bounds are in user-key space (bytewise, the order of compareInternalKeys). gt/gte give the lower
 * bound, lt/lte the upper; when both of a pair are given the stricter wins (the larger lower bound,
 * the smaller upper bound; on a tie the exclusive one). The start bound is applied by the initial
 * seek (gt seeks to the bound's immediate successor, bound + 0x00), the far bound is checked per
 * entry and ends the walk. `limit` counts yielded entries, seeks included (abstract-level's
 * `count`): a non-negative integer caps them (0 yields nothing); anything else (-1, Infinity,
 * undefined) means no limit. seek(target) moves lazily: the next next() yields the first visible
 * entry >= target (<= target in reverse) that is also within the bounds.
 *
 * Kinds: Put and Delete are the only kinds a point iterator may carry. Any other kind on a visible
 * version (RangeDelete 0x0f lives in a table's range-del block, never in the data), or a key too
 * short for a trailer, is a bug upstream: it throws InternalError (ERR_INTERNAL) rather than being
 * returned as data or silently skipped.
 *
 * Contract: the iterator owns `inner` (close() closes it). One call at a time: next() must have
 * settled before next(), seek() or close() is called (the facade serialises). key()/value()
 * REQUIRE that the last next() returned true; they are views valid until the next next()/seek()
 * (the caller copies). After next() throws, it keeps throwing the same error; close() still works.
 * next() answers synchronously (a boolean) when every inner movement did; no allocation per step
 * (the saved key and the reverse-mode value live in reused buffers).
 * Not here: snapshots and version pinning (the DB), merging (merging-iterator.ts).
 */
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import { compareBytes, compareByteRanges, copyBytes, printableKey } from '../base/bytes.js';
import {
  KIND_FOR_SEEK, MAX_SEQUENCE, TRAILER_SIZE, ValueKind, makeInternalKey, seqOf,
} from '../base/internal-key.js';
import { invariant } from '../base/invariant.js';
import { InternalError } from '../errors.js';

export interface DBIteratorOptions {
  /** Versions with seq <= snapshotSeq are visible. */
  snapshotSeq: number;
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  reverse?: boolean;
  /** 0 = nothing; -1 / Infinity / undefined = no limit. */
  limit?: number;
}

const enum Phase { Position, Scan, Done, Failed }

/** Past this capacity a reused buffer is given back when a much smaller entry comes along. */
const KEEP_CAPACITY = 1 << 20;

const EMPTY = new Uint8Array(0);

export class DBIterator {
  private readonly inner: InternalIterator;
  private readonly seq: number;
  private readonly isReverse: boolean;
  private readonly limit: number;
  private readonly lower: Uint8Array | undefined;
  private readonly isLowerExclusive: boolean;
  private readonly upper: Uint8Array | undefined;
  private readonly isUpperExclusive: boolean;
  private count = 0;
  private phase = Phase.Position;
  private seekTarget: Uint8Array | undefined;
  private error: unknown;
  private isClosed = false;
  /**
   * Forward: the user key whose remaining versions are skipped (the last yielded or deleted key).
   * Reverse: the user key of the saved entry. Either way key() returns it after a yield.
   */
  private keyBuf = new Uint8Array(64);
  private keyLen = 0;
  private hasKey = false;
  /** Forward: the inner iterator still sits on the yielded entry; move it before scanning. */
  private hasPendingAdvance = false;
  /**
   * Reverse only, so made at the first saved value: the saved value (a copy: the inner view dies
   * when the cursor moves back).
   */
  private valueBuf = EMPTY;
  private valueLen = 0;

  constructor(inner: InternalIterator, options: DBIteratorOptions) {
    invariant(
      Number.isInteger(options.snapshotSeq) && options.snapshotSeq >= 0 && options.snapshotSeq <= MAX_SEQUENCE,
      `DBIterator: bad snapshotSeq ${options.snapshotSeq}`,
    );
    this.inner = inner;
    this.seq = options.snapshotSeq;
    this.isReverse = options.reverse === true;
    const limit = options.limit;
    this.limit = limit !== undefined && Number.isInteger(limit) && limit >= 0 ? limit : Infinity;
    // Copies: the bounds may be the caller's buffers, reused after the iterator was created.
    const gt = options.gt === undefined ? undefined : copyBytes(options.gt);
    const gte = options.gte === undefined ? undefined : copyBytes(options.gte);
    const lt = options.lt === undefined ? undefined : copyBytes(options.lt);
    const lte = options.lte === undefined ? undefined : copyBytes(options.lte);
    if (gt !== undefined && (gte === undefined || compareBytes(gt, gte) >= 0)) {
      this.lower = gt;
      this.isLowerExclusive = true;
    } else {
      this.lower = gte;
      this.isLowerExclusive = false;
    }
    if (lt !== undefined && (lte === undefined || compareBytes(lt, lte) <= 0)) {
      this.upper = lt;
      this.isUpperExclusive = true;
    } else {
      this.upper = lte;
      this.isUpperExclusive = false;
    }
  }

  /**
   * Advances to the next visible entry in the iterator's direction; false when there is none
   * (or the limit is reached). A Promise only when the inner iterator had to wait.
   */
  next(): MaybePromise<boolean> {
    if (this.count >= this.limit && this.phase !== Phase.Failed) return false;
    let r: boolean | Promise<void>;
    try {
      r = this.step();
    } catch (e) {
      throw this.fail(e);
    }
    if (r === true) {
      this.count++;
      return true;
    }
    if (r === false) return false;
    return this.continueAsync(r);
  }

  /** The current user key. REQUIRES: the last next() returned true. */
  key(): Uint8Array {
    return this.keyBuf.subarray(0, this.keyLen);
  }

  /** The current value. REQUIRES: the last next() returned true. */
  value(): Uint8Array {
    return this.isReverse ? this.valueBuf.subarray(0, this.valueLen) : this.inner.value();
  }

  /**
   * Repositions lazily: the next next() yields the first visible entry >= target (<= target in
   * reverse) within the bounds. The limit keeps counting. No effect after a failure.
   */
  seek(target: Uint8Array): void {
    if (this.phase === Phase.Failed || this.isClosed) return;
    this.seekTarget = copyBytes(target); // the caller may reuse its buffer before next()
    this.phase = Phase.Position;
  }

  /** Closes the inner iterator; idempotent. next() answers false afterwards. */
  close(): MaybePromise<void> {
    if (this.isClosed) return undefined;
    this.isClosed = true;
    if (this.phase !== Phase.Failed) this.phase = Phase.Done;
    return this.inner.close();
  }

  private async continueAsync(pending: Promise<void>): Promise<boolean> {
    try {
      for (;;) {
        await pending;
        const r = this.step();
        if (r === true) {
          this.count++;
          return true;
        }
        if (r === false) return false;
        pending = r;
      }
    } catch (e) {
      throw this.fail(e);
    }
  }

  private fail(e: unknown): unknown {
    if (this.phase !== Phase.Failed) {
      this.phase = Phase.Failed;
      this.error = e;
    }
    return this.error;
  }

  /**
   * One resumable step: true/false when next() has its answer, or the Promise of an inner
   * movement, after which step() is called again and continues from the state in the fields.
   */
  private step(): boolean | Promise<void> {
    for (;;) {
      switch (this.phase) {
        case Phase.Position: {
          this.phase = Phase.Scan;
          const p = this.position();
          if (p) return p;
          break;
        }
        case Phase.Scan:
          return this.isReverse ? this.scanBackward() : this.scanForward();
        case Phase.Done:
          return false;
        case Phase.Failed:
          throw this.error;
      }
    }
  }

  /** Seeks the inner iterator to the start of the walk: the start bound or the seek target. */
  private position(): MaybePromise<void> {
    this.hasPendingAdvance = false;
    this.hasKey = false;
    const target = this.seekTarget;
    this.seekTarget = undefined;
    if (!this.isReverse) {
      const lower = this.lower;
      if (target !== undefined && (lower === undefined || isPast(target, lower, this.isLowerExclusive, 1))) {
        return this.inner.seek(makeInternalKey(target, this.seq, KIND_FOR_SEEK));
      }
      if (lower === undefined) return this.inner.seekToFirst();
      if (!this.isLowerExclusive) return this.inner.seek(makeInternalKey(lower, this.seq, KIND_FOR_SEEK));
      // The immediate successor of `lower` in bytewise order is lower + 0x00.
      const successor = new Uint8Array(lower.length + 1);
      successor.set(lower);
      return this.inner.seek(makeInternalKey(successor, this.seq, KIND_FOR_SEEK));
    }
    const upper = this.upper;
    if (target !== undefined && (upper === undefined || isPast(target, upper, this.isUpperExclusive, -1))) {
      // Trailer 0 is the largest internal key of a user key: the oldest version of target.
      return this.inner.seekForPrev(makeInternalKey(target, 0, 0));
    }
    if (upper === undefined) return this.inner.seekToLast();
    if (!this.isUpperExclusive) return this.inner.seekForPrev(makeInternalKey(upper, 0, 0));
    // The largest trailer is the smallest internal key of `upper`: land before every version of it.
    return this.inner.seekForPrev(makeInternalKey(upper, MAX_SEQUENCE, KIND_FOR_SEEK));
  }

  private scanForward(): boolean | Promise<void> {
    const inner = this.inner;
    if (this.hasPendingAdvance) {
      this.hasPendingAdvance = false;
      const p = inner.next();
      if (p) return p;
    }
    const upper = this.upper;
    for (;;) {
      if (!inner.valid()) {
        this.phase = Phase.Done;
        return false;
      }
      const k = inner.key();
      const n = k.length - TRAILER_SIZE;
      if (n < 0) throw badKey(k);
      if (upper !== undefined) {
        const c = compareByteRanges(k, 0, n, upper, 0, upper.length);
        if (c > 0 || (c === 0 && this.isUpperExclusive)) {
          this.phase = Phase.Done;
          return false;
        }
      }
      if (seqOf(k) <= this.seq) {
        const kind = k[n]!;
        if (kind !== ValueKind.Put && kind !== ValueKind.Delete) throw badKind(k, n);
        // The first visible version of a user key decides; older ones of the same key are skipped.
        if (!this.hasKey || compareByteRanges(k, 0, n, this.keyBuf, 0, this.keyLen) !== 0) {
          this.saveKey(k, n);
          if (kind === ValueKind.Put) {
            this.hasPendingAdvance = true;
            return true;
          }
        }
      }
      const p = inner.next();
      if (p) return p;
    }
  }

  private scanBackward(): boolean | Promise<void> {
    const inner = this.inner;
    const lower = this.lower;
    for (;;) {
      if (!inner.valid()) break;
      const k = inner.key();
      const n = k.length - TRAILER_SIZE;
      if (n < 0) throw badKey(k);
      if (lower !== undefined) {
        const c = compareByteRanges(k, 0, n, lower, 0, lower.length);
        if (c < 0 || (c === 0 && this.isLowerExclusive)) break;
      }
      if (seqOf(k) <= this.seq) {
        const kind = k[n]!;
        if (kind !== ValueKind.Put && kind !== ValueKind.Delete) throw badKind(k, n);
        if (this.hasKey && compareByteRanges(k, 0, n, this.keyBuf, 0, this.keyLen) < 0) {
          // Reached an older user key: the saved entry is the newest visible version of its key.
          // The cursor stays here; the next call starts by examining this entry.
          this.hasKey = false;
          return true;
        }
        if (kind === ValueKind.Put) {
          this.saveKey(k, n);
          this.saveValue(inner.value());
          this.hasKey = true;
        } else {
          this.hasKey = false; // a newer Delete hides the older versions saved so far
        }
      }
      const p = inner.prev();
      if (p) return p;
    }
    this.phase = Phase.Done;
    if (this.hasKey) {
      this.hasKey = false;
      return true;
    }
    return false;
  }

  private saveKey(k: Uint8Array, n: number): void {
    if (this.keyBuf.length < n || (this.keyBuf.length > KEEP_CAPACITY && n < this.keyBuf.length >>> 2)) {
      this.keyBuf = new Uint8Array(Math.max(n, 64));
    }
    const buf = this.keyBuf;
    if (n <= 32) {
      for (let i = 0; i < n; i++) buf[i] = k[i]!;
    } else {
      buf.set(k.subarray(0, n));
    }
    this.keyLen = n;
    this.hasKey = true;
  }

  private saveValue(v: Uint8Array): void {
    const n = v.length;
    if (this.valueBuf.length < n) {
      // Double small buffers to amortise growth; size big values exactly (a 100 MiB value must
      // not become a 200 MiB buffer).
      this.valueBuf = new Uint8Array(n <= KEEP_CAPACITY ? Math.max(n, this.valueBuf.length * 2, 64) : n);
    } else if (this.valueBuf.length > KEEP_CAPACITY && n < this.valueBuf.length >>> 2) {
      this.valueBuf = new Uint8Array(Math.max(n, 64));
    }
    this.valueBuf.set(v);
    this.valueLen = n;
  }
}

/**
 * True when `target` lies strictly inside the start bound, so seeking to it beats seeking to the
 * bound. dir = 1 for a lower bound, -1 for an upper one.
 */
function isPast(target: Uint8Array, bound: Uint8Array, isExclusive: boolean, dir: 1 | -1): boolean {
  const c = compareBytes(target, bound) * dir;
  return c > 0 || (c === 0 && !isExclusive);
}

function badKey(k: Uint8Array): InternalError {
  return new InternalError(`DBIterator: internal key of ${k.length} bytes is shorter than its trailer`);
}

function badKind(k: Uint8Array, n: number): InternalError {
  return new InternalError(
    `DBIterator: unexpected value kind 0x${k[n]!.toString(16)} at key ${printableKey(k.subarray(0, n))} ` +
      `seq ${seqOf(k)}: only Put and Delete belong in a point iterator`,
  );
}
