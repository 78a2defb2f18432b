/**
 * A child of a merge (a memtable, a table, a level, a transaction's write buffer) wrapped so that it
 * never shows a version a range tombstone deletes at the read's sequence, and jumps over deleted
 * stretches instead of stepping through them (RocksDB's RangeDelAggregator and Pebble's mergingIter
 * play this part).
 * Why per child with the child's largest seq: a tombstone's stretch [key, end) may hold versions
 * newer than the tombstone in the same source, so a whole stretch can be skipped only in a child
 * whose every version is older than the tombstones covering it (seekEnd/seekStart with aboveSeq =
 * the child's largest seq). That is the usual case (a range deleted over flushed data: every deeper
 * table jumps to the tombstone's end, one seek).
 * A child that holds tombstones of its own (a memtable) may know more: an OwnTombstones names the
 * stretches in which each of its versions is older than one of its own covering tombstones
 * (src/memtable/reentered-keys.ts says why that is exact); the child jumps across the union of both
 * kinds of stretch. Elsewhere covered versions are stepped over one by one.
 * The tombstones come from a TombstoneView, a few FragmentSets each cached by its owner (so building
 * an iterator costs nothing per tombstone), which may load lazily (the first positioning waits).
 * Not here: where the tombstones come from (src/engine/range-del-iterator.ts, src/mvcc/transaction.ts),
 * chaining stretches across sets (stretches.ts).
 * Main thread or worker.
 */
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import { KIND_FOR_SEEK, MAX_SEQUENCE, TRAILER_SIZE, makeInternalKey, seqOf } from '../base/internal-key.js';
import type { FragmentSet } from './fragment-set.js';
import { setStretches, stretchEnd, stretchStart, type Stretches } from './stretches.js';

/**
 * The tombstones a read at `readSeq` honours, as a few sets (their union counts; empty sets may be
 * left out); `fragments` is set once load() has completed.
 */
export interface TombstoneView {
  readonly fragments: readonly FragmentSet[] | undefined;
  readonly readSeq: number;
  /** Loads the fragments; undefined when they are there already. */
  load(): MaybePromise<void>;
}

/** A child's own tombstones and the stretches they clear of every version the child holds. */
export interface OwnTombstones {
  /** Undefined when the child cannot tell (then only the view's stretches above maxSeq are jumped). */
  ownStretches(readSeq: number): Stretches | undefined;
}

/** A child of the merge that hides the versions the view's tombstones delete. */
export class RangeDelSkippingIterator implements InternalIterator {
  /** The stretches this child may jump, made on the first skip after the view has loaded. */
  private sources: Stretches[] | undefined;

  constructor(
    private readonly inner: InternalIterator, private readonly view: TombstoneView,
    /** No version in `inner` has a larger seq. */
    private readonly maxSeq: number,
    private readonly own?: OwnTombstones,
  ) {}

  valid(): boolean { return this.inner.valid(); }
  key(): Uint8Array { return this.inner.key(); }
  value(): Uint8Array { return this.inner.value(); }
  close(): MaybePromise<void> { return this.inner.close(); }

  seekToFirst(): MaybePromise<void> { return this.move(() => this.inner.seekToFirst(), true); }
  seekToLast(): MaybePromise<void> { return this.move(() => this.inner.seekToLast(), false); }
  seek(target: Uint8Array): MaybePromise<void> { return this.move(() => this.inner.seek(target), true); }
  seekForPrev(target: Uint8Array): MaybePromise<void> { return this.move(() => this.inner.seekForPrev(target), false); }
  next(): MaybePromise<void> { return this.move(() => this.inner.next(), true); }
  prev(): MaybePromise<void> { return this.move(() => this.inner.prev(), false); }

  private move(op: () => MaybePromise<void>, forward: boolean): MaybePromise<void> {
    const l = this.view.load();
    if (l) return l.then(() => this.move(op, forward));
    const p = op();
    if (p) return p.then(() => this.skip(forward));
    return this.skip(forward);
  }

  /** Moves off covered versions, jumping whole stretches where this child is older than them. */
  private skip(forward: boolean): MaybePromise<void> {
    const sets = this.view.fragments!;
    if (sets.length === 0) return undefined;
    const readSeq = this.view.readSeq;
    const sources = this.sources ??= this.makeSources(sets, readSeq);
    while (this.inner.valid()) {
      const k = this.inner.key();
      const userKey = k.subarray(0, k.length - TRAILER_SIZE);
      if (maxCoveringSeq(sets, userKey, readSeq) <= seqOf(k)) return undefined;
      let p: MaybePromise<void>;
      if (forward) {
        const end = stretchEnd(sources, userKey);
        p = end ? this.inner.seek(makeInternalKey(end, MAX_SEQUENCE, KIND_FOR_SEEK)) : this.inner.next();
      } else {
        const start = stretchStart(sources, userKey);
        p = start ? this.inner.seekForPrev(makeInternalKey(start, MAX_SEQUENCE, KIND_FOR_SEEK)) : this.inner.prev();
      }
      if (p) return p.then(() => this.skip(forward));
    }
    return undefined;
  }

  private makeSources(sets: readonly FragmentSet[], readSeq: number): Stretches[] {
    const out = sets.filter((s) => !s.isEmpty).map((s) => setStretches(s, readSeq, this.maxSeq));
    const own = this.own?.ownStretches(readSeq);
    if (own) out.push(own);
    return out;
  }
}

/** The newest seq <= readSeq of any set's tombstone covering userKey; 0 when none does. */
function maxCoveringSeq(sets: readonly FragmentSet[], userKey: Uint8Array, readSeq: number): number {
  let c = 0;
  for (const s of sets) {
    const x = s.maxCoveringSeq(userKey, readSeq);
    if (x > c) c = x;
  }
  return c;
}
