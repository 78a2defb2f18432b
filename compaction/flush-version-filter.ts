/**
 * What a flush writes of a memtable: per user key the newest version, and the newest version each
 * live snapshot sees (snapshot-stripes.ts); the others are shadowed for every reader that can ever
 * look, so they are not written (RocksDB's flush drops them too). A memtable that took the same hot
 * key 10,000 times writes it once, instead of writing 10,000 versions for the first compaction to drop.
 * Why the snapshot list taken when the flush begins is enough: every entry of a frozen memtable was
 * published when it was inserted (write-path.ts applies and publishes in one step), so a snapshot or a
 * read begun later is at or above all of them and needs the newest version only; a snapshot released
 * meanwhile only keeps a version more. Readers that began earlier keep reading the memtable itself.
 * Tombstones are kept (older tables may hold their keys); range tombstones travel apart, untouched.
 * Forward only (seekToFirst, next): what writeTable asks for. Safe in a worker.
 */
import type { InternalIterator, MaybePromise } from '../src/base/internal-iterator.js';
import { compareByteRanges } from '../src/base/bytes.js';
import { TRAILER_SIZE, seqOf } from '../src/base/internal-key.js';
import { invariant } from '../src/base/invariant.js';
import { stripeOf } from './snapshot-stripes.js';

export class FlushVersionFilter implements InternalIterator {
  /** Versions left out as shadowed. */
  dropped = 0;
  private lastKey = new Uint8Array(64);
  private lastLen = -1;
  private lastStripe = -1;

  constructor(
    private readonly input: InternalIterator,
    /** Live snapshot sequences, ascending, taken when the flush began. */
    private readonly snapshots: readonly number[],
  ) {}

  valid(): boolean { return this.input.valid(); }
  key(): Uint8Array { return this.input.key(); }
  value(): Uint8Array { return this.input.value(); }
  close(): MaybePromise<void> { return this.input.close(); }

  seekToFirst(): MaybePromise<void> {
    this.lastLen = -1;
    const p = this.input.seekToFirst();
    return p ? p.then(() => this.skipShadowed()) : this.skipShadowed();
  }

  next(): MaybePromise<void> {
    const p = this.input.next();
    return p ? p.then(() => this.skipShadowed()) : this.skipShadowed();
  }

  seekToLast(): never { return forwardOnly(); }
  seek(): never { return forwardOnly(); }
  seekForPrev(): never { return forwardOnly(); }
  prev(): never { return forwardOnly(); }

  /** Moves past the versions shadowed in their stripe; stops on the first one to write. */
  private skipShadowed(): MaybePromise<void> {
    const it = this.input;
    while (it.valid()) {
      const k = it.key();
      const ulen = k.length - TRAILER_SIZE;
      const stripe = stripeOf(this.snapshots, seqOf(k));
      const same = this.lastLen === ulen && compareByteRanges(k, 0, ulen, this.lastKey, 0, ulen) === 0;
      if (!same) {
        if (this.lastKey.length < ulen) this.lastKey = new Uint8Array(Math.max(ulen, this.lastKey.length * 2));
        this.lastKey.set(k.subarray(0, ulen));
        this.lastLen = ulen;
      } else if (stripe === this.lastStripe) {
        this.dropped++;
        const p = it.next();
        if (p) return p.then(() => this.skipShadowed());
        continue;
      }
      this.lastStripe = stripe;
      return undefined;
    }
    return undefined;
  }
}

function forwardOnly(): never {
  invariant(false, 'FlushVersionFilter is forward-only');
  throw new Error('unreachable');
}
