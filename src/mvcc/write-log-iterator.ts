/**
 * An InternalIterator over a transaction's WriteLog (write-log.ts) as it was when the iterator was
 * made: the newest op of each key, in key order, each as one internal key (user key + trailer with
 * the op's private sequence, write-log.ts "Order") and its value. Older ops of a rewritten key are
 * not shown: a read sees the newest version first, and a range delete that hides the newest one
 * hides every older one too (they are older than it), so they could never be seen.
 * It reads the buffer and the sorted offsets it was given; the log only appends (a later write goes
 * past them or into a new buffer), so later writes do not change what it yields.
 * Views: value() is a view into the log's buffer; key() is a new array per position (made on the
 * first call there), since the log holds no trailers.
 * Main thread (it belongs to a transaction).
 */
import type { InternalIterator } from '../base/internal-iterator.js';
import { TRAILER_SIZE, kindOf, seqOf, writeTrailer } from '../base/internal-key.js';
import { compareByteRanges } from '../base/bytes.js';
import { getVarint, type VarintResult } from '../base/coding.js';
import { valueOf } from './write-log.js';

export class WriteLogIterator implements InternalIterator {
  private i = -1;
  private keyCache: Uint8Array | undefined;
  private readonly slot: VarintResult = { value: 0, offset: 0 };

  /**
   * @param buf the log's buffer; `limit` its bytes in use.
   * @param offsets the newest op of each key, in key order (WriteLog.sortedOffsets()).
   * @param base the log's sequence base: the op at offset o has seq base + 2o + 2.
   */
  constructor(
    private readonly buf: Uint8Array, private readonly limit: number,
    private readonly offsets: Uint32Array, private readonly base: number,
  ) {}

  valid(): boolean { return this.i >= 0 && this.i < this.offsets.length; }
  seekToFirst(): void { this.at(0); }
  seekToLast(): void { this.at(this.offsets.length - 1); }
  next(): void { this.at(this.i + 1); }
  prev(): void { this.at(this.i - 1); }
  close(): void { this.i = -1; }

  /** The first entry with internal key >= target. */
  seek(target: Uint8Array): void {
    let lo = 0, hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareTo(mid, target) < 0) lo = mid + 1; else hi = mid;
    }
    this.at(lo);
  }

  /** The last entry with internal key <= target. */
  seekForPrev(target: Uint8Array): void {
    let lo = 0, hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareTo(mid, target) <= 0) lo = mid + 1; else hi = mid;
    }
    this.at(lo - 1);
  }

  key(): Uint8Array {
    if (!this.keyCache) {
      const off = this.offsets[this.i]!;
      const ks = this.keyStart(off);
      const klen = this.slot.value;
      const k = new Uint8Array(klen + TRAILER_SIZE);
      k.set(this.buf.subarray(ks, ks + klen), 0);
      writeTrailer(k, klen, this.base + 2 * off + 2, this.buf[off]!);
      this.keyCache = k;
    }
    return this.keyCache;
  }

  value(): Uint8Array {
    return valueOf(this.buf, this.offsets[this.i]!, this.limit, this.slot);
  }

  private at(i: number): void {
    this.i = i < 0 || i >= this.offsets.length ? -1 : i;
    this.keyCache = undefined;
  }

  private keyStart(off: number): number {
    getVarint(this.buf, off + 1, this.limit, this.slot);
    return this.slot.offset;
  }

  /** Entry j against an internal key: user key ascending, then sequence and kind descending. */
  private compareTo(j: number, target: Uint8Array): number {
    const off = this.offsets[j]!;
    const ks = this.keyStart(off);
    const c = compareByteRanges(this.buf, ks, ks + this.slot.value, target, 0, target.length - TRAILER_SIZE);
    if (c !== 0) return c;
    const seq = this.base + 2 * off + 2, tseq = seqOf(target);
    if (seq !== tseq) return seq > tseq ? -1 : 1;
    return kindOf(target) - this.buf[off]!;
  }
}
