/**
 * Hides entries with seq > snapshotSeq from an internal iterator. A transaction merges its write
 * buffer (sequence numbers above every real one) over the database; the database side must show
 * exactly its snapshot, so its newer entries are filtered out here rather than by the DBIterator.
 */
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import { seqOf } from '../base/internal-key.js';

export class SnapshotFilterIterator implements InternalIterator {
  constructor(private readonly inner: InternalIterator, private readonly snapshotSeq: number) {}

  private skipForward(p: MaybePromise<void>): MaybePromise<void> {
    if (p) return p.then(() => this.skipForward(undefined));
    const it = this.inner;
    while (it.valid() && seqOf(it.key()) > this.snapshotSeq) {
      const q = it.next();
      if (q) return q.then(() => this.skipForward(undefined));
    }
    return undefined;
  }

  private skipBackward(p: MaybePromise<void>): MaybePromise<void> {
    if (p) return p.then(() => this.skipBackward(undefined));
    const it = this.inner;
    while (it.valid() && seqOf(it.key()) > this.snapshotSeq) {
      const q = it.prev();
      if (q) return q.then(() => this.skipBackward(undefined));
    }
    return undefined;
  }

  valid(): boolean { return this.inner.valid(); }
  seekToFirst(): MaybePromise<void> { return this.skipForward(this.inner.seekToFirst()); }
  seekToLast(): MaybePromise<void> { return this.skipBackward(this.inner.seekToLast()); }
  seek(t: Uint8Array): MaybePromise<void> { return this.skipForward(this.inner.seek(t)); }
  seekForPrev(t: Uint8Array): MaybePromise<void> { return this.skipBackward(this.inner.seekForPrev(t)); }
  next(): MaybePromise<void> { return this.skipForward(this.inner.next()); }
  prev(): MaybePromise<void> { return this.skipBackward(this.inner.prev()); }
  key(): Uint8Array { return this.inner.key(); }
  value(): Uint8Array { return this.inner.value(); }
  close(): MaybePromise<void> { return this.inner.close(); }
}
