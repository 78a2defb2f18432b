/**
 * ConcatIterator: one cursor over the tables of one level (L1 and below), whose key ranges are
 * sorted and do not overlap — LevelDB's LevelFileNumIterator + TwoLevelIterator pair, flattened.
 * Only one table iterator is open at a time: moving off its end closes it and opens the neighbour;
 * seek(t) binary-searches the first table whose largest key is >= t and opens only that one
 * (a table whose range contains t holds an entry >= t), seekForPrev(t) the last table whose
 * smallest key is <= t.
 *
 * Contract: `files` are sorted by key range and do not overlap under `compare`; smallest(f) and
 * largest(f) are f's first and last keys. `open(f)` returns an unpositioned iterator over f (or a
 * Promise of one); this iterator closes what it opened. Empty tables are skipped (they cost one
 * open each). key()/value() are the open table iterator's views, valid until the next movement.
 * Movements answer synchronously when open() and the table iterator did. After a movement throws,
 * only a seek* or close() may follow. Safe in a worker.
 * Not here: finding tables by key for point reads (the Version), table caching (src/cache).
 */
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import type { KeyCompare } from './merging-iterator.js';
import { runSteps, type Steps } from './maybe-promise.js';

const enum Start { First, Last, AtOrAfter, AtOrBefore }

export class ConcatIterator<F> implements InternalIterator {
  private readonly files: readonly F[];
  private readonly compare: KeyCompare;
  private readonly open: (f: F) => MaybePromise<InternalIterator>;
  private readonly smallest: (f: F) => Uint8Array;
  private readonly largest: (f: F) => Uint8Array;
  /** The open table iterator and its index in files, or undefined / -1. */
  private current: InternalIterator | undefined;
  private index = -1;
  private isClosed = false;

  constructor(
    files: readonly F[],
    compare: KeyCompare,
    open: (f: F) => MaybePromise<InternalIterator>,
    smallest: (f: F) => Uint8Array,
    largest: (f: F) => Uint8Array,
  ) {
    this.files = files;
    this.compare = compare;
    this.open = open;
    this.smallest = smallest;
    this.largest = largest;
  }

  valid(): boolean {
    return this.current !== undefined && this.current.valid();
  }

  key(): Uint8Array {
    return this.current!.key();
  }

  value(): Uint8Array {
    return this.current!.value();
  }

  seekToFirst(): MaybePromise<void> {
    return runSteps(this.position(0, Start.First, undefined));
  }

  seekToLast(): MaybePromise<void> {
    return runSteps(this.position(this.files.length - 1, Start.Last, undefined));
  }

  seek(target: Uint8Array): MaybePromise<void> {
    // First file whose largest key is >= target.
    let lo = 0;
    let hi = this.files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.largest(this.files[mid]!), target) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < this.files.length && (this.current === undefined || this.index === lo)) return this.seekIn(lo, target);
    return runSteps(this.position(lo, Start.AtOrAfter, target));
  }

  /**
   * seek() when file i is open or nothing is: written out rather than through position()'s
   * steps, because a fresh iterator per range read makes this the common case, and the steps cost
   * a generator each. Same outcome: seek in file i, and walk on from i + 1 when it holds nothing >= target.
   */
  private seekIn(i: number, target: Uint8Array): MaybePromise<void> {
    if (this.current === undefined) {
      const opened = this.open(this.files[i]!);
      if (opened instanceof Promise) {
        return opened.then((it) => {
          if (this.isClosed) return it.close(); // closed while opening: nobody else will close it
          this.current = it;
          this.index = i;
          return this.seekOpen(it, target);
        });
      }
      this.current = opened;
      this.index = i;
    }
    return this.seekOpen(this.current, target);
  }

  private seekOpen(it: InternalIterator, target: Uint8Array): MaybePromise<void> {
    const p = it.seek(target);
    if (p) return p.then(() => this.afterMove(it, 1));
    return this.afterMove(it, 1);
  }

  seekForPrev(target: Uint8Array): MaybePromise<void> {
    // Last file whose smallest key is <= target.
    let lo = 0;
    let hi = this.files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.smallest(this.files[mid]!), target) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return runSteps(this.position(lo - 1, Start.AtOrBefore, target));
  }

  next(): MaybePromise<void> {
    const it = this.current!;
    const p = it.next();
    if (p) return p.then(() => this.afterMove(it, 1));
    if (it.valid()) return undefined;
    return runSteps(this.position(this.index + 1, Start.First, undefined));
  }

  prev(): MaybePromise<void> {
    const it = this.current!;
    const p = it.prev();
    if (p) return p.then(() => this.afterMove(it, -1));
    if (it.valid()) return undefined;
    return runSteps(this.position(this.index - 1, Start.Last, undefined));
  }

  close(): MaybePromise<void> {
    if (this.isClosed) return undefined;
    this.isClosed = true;
    const it = this.current;
    this.current = undefined;
    this.index = -1;
    return it?.close();
  }

  private afterMove(it: InternalIterator, step: 1 | -1): MaybePromise<void> {
    if (it.valid()) return undefined;
    return runSteps(this.position(this.index + step, step > 0 ? Start.First : Start.Last, undefined));
  }

  /**
   * Positions in file i (as `how` says), then walks to the neighbours in the direction of travel
   * while the positioned table has nothing there (empty table, or a target past its last entry).
   */
  private *position(i: number, how: Start, target: Uint8Array | undefined): Steps {
    const step = how === Start.First || how === Start.AtOrAfter ? 1 : -1;
    let isFirst = true;
    for (; i >= 0 && i < this.files.length; i += step) {
      yield* this.openFile(i);
      const it = this.current;
      if (it === undefined) return; // closed meanwhile
      if (!isFirst) yield step > 0 ? it.seekToFirst() : it.seekToLast();
      else if (how === Start.First) yield it.seekToFirst();
      else if (how === Start.Last) yield it.seekToLast();
      else if (how === Start.AtOrAfter) yield it.seek(target!);
      else yield it.seekForPrev(target!);
      if (it.valid()) return;
      isFirst = false;
    }
    // Off the end of the level: release the last table now rather than at close().
    yield* this.closeFile();
  }

  private *openFile(i: number): Steps {
    if (this.index === i && this.current !== undefined) return;
    yield* this.closeFile();
    const it = (yield this.open(this.files[i]!)) as InternalIterator;
    if (this.isClosed) {
      // close() ran while open() was in flight: nobody will close this one later.
      yield it.close();
      return;
    }
    this.current = it;
    this.index = i;
  }

  private *closeFile(): Steps {
    const it = this.current;
    this.current = undefined;
    this.index = -1;
    if (it) yield it.close();
  }
}
