/**
 * MergingIterator: one sorted cursor over several sorted children (memtables, L0 tables, levels),
 * the engine's equivalent of LevelDB's table/merger.cc. A binary heap of child indices keeps the
 * current child on top: a min-heap while moving forward, a max-heap while moving backward.
 *
 * Direction switches follow merger.cc: every child except the current one is repositioned
 * relative to the current key (seek + step past an equal key for next(), seekForPrev + step back
 * for prev()), then the current child moves. Switching is O(children) seeks; moving in one
 * direction is one child move plus O(log children) comparisons.
 *
 * Contract: the children's keys are sorted by `compare`, and (for internal keys) unique across
 * children. Duplicate keys across children are tolerated: each copy is yielded, ties go to the
 * lower child index, nothing loops; only a direction switch that lands on a duplicate may skip or
 * repeat one copy of it (merger.cc has the same behaviour).
 * The iterator owns its children: close() closes each of them (even when one fails) and rethrows
 * the first failure. key()/value() are the current child's views, valid until the next movement.
 * Movements answer synchronously (undefined) when every child involved did. After a movement
 * throws, only a seek* or close() may follow. Safe in a worker (no I/O of its own).
 * Not here: visibility, tombstones and bounds (db-iterator.ts), one level's tables
 * (concat-iterator.ts).
 */
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import { settleAll } from './maybe-promise.js';

/** The order of the children's keys (<0, 0, >0), e.g. compareInternalKeys. */
export type KeyCompare = (a: Uint8Array, b: Uint8Array) => number;

const EMPTY = new Uint8Array(0);

const enum Seek { First, Last, AtOrAfter, AtOrBefore }

export class MergingIterator implements InternalIterator {
  private readonly children: readonly InternalIterator[];
  private readonly compare: KeyCompare;
  /** keys[i] = children[i].key(), refreshed after each move of child i (so each key() is asked once). */
  private readonly keys: Uint8Array[];
  /** heap[0 .. size) holds the indices of the valid children; heap[0] is the current one. */
  private readonly heap: Int32Array;
  private size = 0;
  private isForward = true;
  private isClosed = false;
  /** Holds the current key during a direction switch (made at the first one: most merges never switch). */
  private scratch = EMPTY;

  constructor(children: readonly InternalIterator[], compare: KeyCompare) {
    this.children = children;
    this.compare = compare;
    this.keys = new Array<Uint8Array>(children.length).fill(EMPTY);
    this.heap = new Int32Array(children.length);
  }

  valid(): boolean {
    return this.size > 0;
  }

  key(): Uint8Array {
    return this.keys[this.heap[0]!]!;
  }

  value(): Uint8Array {
    return this.children[this.heap[0]!]!.value();
  }

  seekToFirst(): MaybePromise<void> {
    return this.positionAll(Seek.First, EMPTY);
  }

  seekToLast(): MaybePromise<void> {
    return this.positionAll(Seek.Last, EMPTY);
  }

  seek(target: Uint8Array): MaybePromise<void> {
    return this.positionAll(Seek.AtOrAfter, target);
  }

  seekForPrev(target: Uint8Array): MaybePromise<void> {
    return this.positionAll(Seek.AtOrBefore, target);
  }

  next(): MaybePromise<void> {
    if (!this.isForward) return this.switchDirection(true);
    const top = this.heap[0]!;
    const p = this.children[top]!.next();
    if (p) return p.then(() => this.replaceTop(top));
    this.replaceTop(top);
    return undefined;
  }

  prev(): MaybePromise<void> {
    if (this.isForward) return this.switchDirection(false);
    const top = this.heap[0]!;
    const p = this.children[top]!.prev();
    if (p) return p.then(() => this.replaceTop(top));
    this.replaceTop(top);
    return undefined;
  }

  close(): MaybePromise<void> {
    if (this.isClosed) return undefined;
    this.isClosed = true;
    this.size = 0;
    let pending: Promise<unknown>[] | undefined;
    let hasFailed = false;
    let firstError: unknown;
    for (const c of this.children) {
      try {
        const p = c.close();
        if (p) (pending ??= []).push(p);
      } catch (e) {
        if (!hasFailed) {
          hasFailed = true;
          firstError = e;
        }
      }
    }
    if (pending) {
      return settleAll(pending).then(() => {
        if (hasFailed) throw firstError;
      });
    }
    if (hasFailed) throw firstError;
    return undefined;
  }

  /** Moves every child (in parallel when they are async), then rebuilds the heap. */
  private positionAll(how: Seek, target: Uint8Array): MaybePromise<void> {
    this.size = 0; // not valid while moving, nor if a child fails
    let pending: Promise<unknown>[] | undefined;
    for (const c of this.children) {
      const p =
        how === Seek.First ? c.seekToFirst()
        : how === Seek.Last ? c.seekToLast()
        : how === Seek.AtOrAfter ? c.seek(target)
        : c.seekForPrev(target);
      if (p) (pending ??= []).push(p);
    }
    const forward = how === Seek.First || how === Seek.AtOrAfter;
    if (pending) return settleAll(pending).then(() => this.rebuild(forward));
    this.rebuild(forward);
    return undefined;
  }

  private switchDirection(forward: boolean): MaybePromise<void> {
    const top = this.heap[0]!;
    const target = this.saveKey(this.keys[top]!);
    this.size = 0;
    let pending: Promise<unknown>[] | undefined;
    for (let j = 0; j < this.children.length; j++) {
      if (j === top) continue;
      const p = this.reposition(this.children[j]!, target, forward);
      if (p) (pending ??= []).push(p);
    }
    if (pending) return settleAll(pending).then(() => this.moveAfterSwitch(top, forward));
    return this.moveAfterSwitch(top, forward);
  }

  /** Puts a non-current child just past `target` in the new direction. */
  private reposition(c: InternalIterator, target: Uint8Array, forward: boolean): MaybePromise<void> {
    const p = forward ? c.seek(target) : c.seekForPrev(target);
    if (p) return p.then(() => this.stepOffTarget(c, target, forward));
    return this.stepOffTarget(c, target, forward);
  }

  private stepOffTarget(c: InternalIterator, target: Uint8Array, forward: boolean): MaybePromise<void> {
    // seek/seekForPrev are inclusive. An equal key in another child is a duplicate of the current
    // one (impossible for internal keys); like merger.cc, treat it as already passed.
    if (c.valid() && this.compare(c.key(), target) === 0) return forward ? c.next() : c.prev();
    return undefined;
  }

  private moveAfterSwitch(top: number, forward: boolean): MaybePromise<void> {
    const c = this.children[top]!;
    const p = forward ? c.next() : c.prev();
    if (p) return p.then(() => this.rebuild(forward));
    this.rebuild(forward);
    return undefined;
  }

  private saveKey(key: Uint8Array): Uint8Array {
    if (this.scratch.length < key.length) this.scratch = new Uint8Array(Math.max(key.length, this.scratch.length * 2, 64));
    this.scratch.set(key);
    return this.scratch.subarray(0, key.length);
  }

  private rebuild(forward: boolean): void {
    this.isForward = forward;
    let n = 0;
    for (let j = 0; j < this.children.length; j++) {
      const c = this.children[j]!;
      if (c.valid()) {
        this.keys[j] = c.key();
        this.heap[n++] = j;
      }
    }
    this.size = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** After the top child moved: refresh its key and restore the heap, or drop it if exhausted. */
  private replaceTop(top: number): void {
    const c = this.children[top]!;
    if (c.valid()) {
      this.keys[top] = c.key();
    } else {
      this.keys[top] = EMPTY; // let the exhausted child's buffer go
      this.size--;
      if (this.size === 0) return;
      this.heap[0] = this.heap[this.size]!;
    }
    this.siftDown(0);
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = this.size;
    const x = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.before(heap[right]!, heap[child]!)) child = right;
      if (!this.before(heap[child]!, x)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = x;
  }

  /** True when child a's key comes before child b's in the current direction. */
  private before(a: number, b: number): boolean {
    const c = this.compare(this.keys[a]!, this.keys[b]!);
    if (c !== 0) return this.isForward ? c < 0 : c > 0;
    return a < b;
  }
}
