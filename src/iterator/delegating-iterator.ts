/**
 * An InternalIterator that forwards every call to an inner one: the base for wrappers that only add
 * something at close (releasing a table-cache handle, closing a reader they own).
 */
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';

export class DelegatingIterator implements InternalIterator {
  constructor(protected readonly inner: InternalIterator) {}
  valid(): boolean { return this.inner.valid(); }
  seekToFirst(): MaybePromise<void> { return this.inner.seekToFirst(); }
  seekToLast(): MaybePromise<void> { return this.inner.seekToLast(); }
  seek(t: Uint8Array): MaybePromise<void> { return this.inner.seek(t); }
  seekForPrev(t: Uint8Array): MaybePromise<void> { return this.inner.seekForPrev(t); }
  next(): MaybePromise<void> { return this.inner.next(); }
  prev(): MaybePromise<void> { return this.inner.prev(); }
  key(): Uint8Array { return this.inner.key(); }
  value(): Uint8Array { return this.inner.value(); }
  close(): MaybePromise<void> { return this.inner.close(); }
}
