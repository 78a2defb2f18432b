/**
 * FlushableBatchIterator: a FlushableBatch's InternalIterator, over internal keys (userKey + 8-byte
 * trailer) in internal order: a position in the batch's sorted op order. Every movement completes
 * synchronously (returns undefined); seeks are binary searches.
 * Views: the batch holds no internal keys (its ops carry no trailer), so key() builds one, a fresh
 * array per position: like MemTable's views it stays valid after the iterator moves on (callers may
 * rely on that beyond what the interface promises). value() is a view into the batch's bytes.
 */
import type { InternalIterator } from '../base/internal-iterator.js';
import { kindOf, seqOf, TRAILER_SIZE, writeTrailer } from '../base/internal-key.js';
import { invariant } from '../base/invariant.js';
import type { FlushableBatch } from './flushable-batch.js';

export class FlushableBatchIterator implements InternalIterator {
  private pos = -1;
  private keyView: Uint8Array | undefined;

  constructor(private readonly batch: FlushableBatch, private readonly order: Uint32Array) {}

  valid(): boolean { return this.pos >= 0 && this.pos < this.order.length; }

  seekToFirst(): void { this.moveTo(0); }
  seekToLast(): void { this.moveTo(this.order.length - 1); }

  seek(target: Uint8Array): void {
    this.moveTo(this.firstAbove(target, 0));
  }

  seekForPrev(target: Uint8Array): void {
    this.moveTo(this.firstAbove(target, 1) - 1);
  }

  next(): void {
    invariant(this.valid(), 'next() on an invalid iterator');
    this.moveTo(this.pos + 1);
  }

  prev(): void {
    invariant(this.valid(), 'prev() on an invalid iterator');
    this.moveTo(this.pos - 1);
  }

  key(): Uint8Array {
    invariant(this.valid(), 'key() on an invalid iterator');
    if (this.keyView) return this.keyView;
    const b = this.batch;
    const op = this.order[this.pos]!;
    const ks = b.keyStartOf(op);
    const klen = b.keyLength;
    const k = new Uint8Array(klen + TRAILER_SIZE);
    k.set(b.bytes.subarray(ks, ks + klen));
    writeTrailer(k, klen, b.seqOf(op), b.kindOf(op));
    this.keyView = k;
    return k;
  }

  value(): Uint8Array {
    invariant(this.valid(), 'value() on an invalid iterator');
    return this.batch.valueOf(this.order[this.pos]!);
  }

  close(): void { this.pos = -1; }

  private moveTo(pos: number): void {
    this.pos = pos < 0 || pos >= this.order.length ? -1 : pos;
    this.keyView = undefined;
  }

  /**
   * The first position whose entry sorts after target (or at it, when strict is 0): internal order
   * is user key ascending, then (seq, kind) descending.
   */
  private firstAbove(target: Uint8Array, strict: 0 | 1): number {
    const b = this.batch;
    const order = this.order;
    const userEnd = target.length - TRAILER_SIZE;
    const tseq = seqOf(target);
    const tkind = kindOf(target);
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const op = order[mid]!;
      let c = b.compareKeyTo(op, target, userEnd);
      if (c === 0) {
        const seq = b.seqOf(op);
        c = seq > tseq ? -1 : seq < tseq ? 1 : tkind - b.kindOf(op);
      }
      // Positions before the answer: c < 0 (or c === 0 when strict).
      if (c < strict) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
