/**
 * ArrayIterator: an InternalIterator over a sorted array of {key, value}, for testing the iterators
 * that sit on top of children (merging, concat, DB iterator) and, later, compaction.
 * Modes: 'sync' answers every movement synchronously; 'async' returns a Promise from every
 * movement and applies it only when the Promise settles (so a caller that forgets to await reads
 * a stale position, and one that reads during the move gets an error); 'mixed' picks per call
 * with the given rng.
 * Strictness, to catch callers that break the InternalIterator contract:
 * - key()/value() return views of buffers the iterator rewrites on every movement, so a caller
 *   that keeps a view past a move sees wrong bytes (as it would with a real block iterator).
 * - next()/prev()/key()/value() on an invalid iterator, any use during a move or after close(),
 *   throw.
 * Counters (moves, seeks) let tests check how much work a caller did.
 * The entries must be sorted by `compare` (checked at construction); the array is not copied.
 */
import type { InternalIterator, MaybePromise } from '../../src/base/internal-iterator.js';
import { compareInternalKeys } from '../../src/base/internal-key.js';
import type { Rng } from './rng.js';

export interface Entry {
  key: Uint8Array;
  value: Uint8Array;
}

export type ArrayIteratorMode = 'sync' | 'async' | 'mixed';

export interface ArrayIteratorOptions {
  mode?: ArrayIteratorMode;
  /** Required for 'mixed'. */
  rng?: Rng;
  compare?: (a: Uint8Array, b: Uint8Array) => number;
  /** Make the next movement fail (thrown, or rejected in async mode) with this error. */
  failNext?: Error;
}

export class ArrayIterator implements InternalIterator {
  readonly entries: readonly Entry[];
  private readonly compare: (a: Uint8Array, b: Uint8Array) => number;
  private readonly mode: ArrayIteratorMode;
  private readonly rng: Rng | undefined;
  private pos = -1;
  private isMoving = false;
  isClosed = false;
  closeCount = 0;
  moves = 0;
  seeks = 0;
  failNext: Error | undefined;
  private keyBuf = new Uint8Array(16);
  private valueBuf = new Uint8Array(16);

  constructor(entries: readonly Entry[], options: ArrayIteratorOptions = {}) {
    this.entries = entries;
    this.compare = options.compare ?? compareInternalKeys;
    this.mode = options.mode ?? 'sync';
    this.rng = options.rng;
    this.failNext = options.failNext;
    if (this.mode === 'mixed' && !this.rng) throw new Error('ArrayIterator: mixed mode needs an rng');
    for (let i = 1; i < entries.length; i++) {
      if (this.compare(entries[i - 1]!.key, entries[i]!.key) > 0) throw new Error(`ArrayIterator: entries not sorted at ${i}`);
    }
  }

  valid(): boolean {
    this.check();
    return this.pos >= 0 && this.pos < this.entries.length;
  }

  key(): Uint8Array {
    this.checkValid('key');
    return this.keyBuf.subarray(0, this.entries[this.pos]!.key.length);
  }

  value(): Uint8Array {
    this.checkValid('value');
    return this.valueBuf.subarray(0, this.entries[this.pos]!.value.length);
  }

  seekToFirst(): MaybePromise<void> {
    this.seeks++;
    return this.move(() => 0);
  }

  seekToLast(): MaybePromise<void> {
    this.seeks++;
    return this.move(() => this.entries.length - 1);
  }

  seek(target: Uint8Array): MaybePromise<void> {
    this.seeks++;
    const t = target.slice(); // read when the move lands, which may be after the caller moved on
    return this.move(() => this.lowerBound(t));
  }

  seekForPrev(target: Uint8Array): MaybePromise<void> {
    this.seeks++;
    const t = target.slice();
    return this.move(() => this.upperBound(t) - 1);
  }

  next(): MaybePromise<void> {
    this.checkValid('next');
    return this.move(() => this.pos + 1);
  }

  prev(): MaybePromise<void> {
    this.checkValid('prev');
    return this.move(() => this.pos - 1);
  }

  close(): MaybePromise<void> {
    this.closeCount++;
    this.isClosed = true;
    this.pos = -1;
    return undefined;
  }

  private move(to: () => number): MaybePromise<void> {
    this.check();
    this.moves++;
    const isAsync = this.mode === 'async' || (this.mode === 'mixed' && this.rng!.int(2) === 0);
    const failure = this.failNext;
    this.failNext = undefined;
    if (!isAsync) {
      if (failure) throw failure;
      this.land(to());
      return undefined;
    }
    this.isMoving = true;
    this.scribble();
    return Promise.resolve().then(() => {
      this.isMoving = false;
      if (failure) throw failure;
      this.land(to());
    });
  }

  private land(pos: number): void {
    this.scribble();
    this.pos = pos < 0 || pos >= this.entries.length ? -1 : pos;
    if (this.pos < 0) return;
    const e = this.entries[this.pos]!;
    if (this.keyBuf.length < e.key.length) this.keyBuf = new Uint8Array(e.key.length * 2);
    if (this.valueBuf.length < e.value.length) this.valueBuf = new Uint8Array(e.value.length * 2);
    this.keyBuf.set(e.key);
    this.valueBuf.set(e.value);
  }

  /** Overwrites the old views so a caller holding one past a move sees garbage. */
  private scribble(): void {
    this.keyBuf.fill(0xee);
    this.valueBuf.fill(0xee);
  }

  private lowerBound(t: Uint8Array): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.entries[mid]!.key, t) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private upperBound(t: Uint8Array): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.entries[mid]!.key, t) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private check(): void {
    if (this.isClosed) throw new Error('ArrayIterator: used after close()');
    if (this.isMoving) throw new Error('ArrayIterator: used while a movement is in flight');
  }

  private checkValid(what: string): void {
    this.check();
    if (this.pos < 0) throw new Error(`ArrayIterator: ${what}() on an invalid iterator`);
  }
}
