/**
 * The public iterator returned by db.iterator()/keys()/values(): an async iterable of copies
 * ([key, value] Buffers, or one side only). It reads at the implicit snapshot taken when it was
 * created and pins that moment's Version (its table files stay on disk until it closes).
 * Building the merged source is deferred to the first next() (db.iterator() is synchronous, while
 * opening a table may need I/O).
 * `for await` with `break` closes it; an iterator left open is closed when the DB closes.
 * One call at a time: next()/seek() calls are serialised by the caller (abstract-level rule).
 */
import type { Buffer } from 'node:buffer';
import { copyToBuffer } from '../base/bytes.js';
import type { InternalIterator } from '../base/internal-iterator.js';
import { DBIterator, type DBIteratorOptions } from './db-iterator.js';
import { DatabaseClosedError, InvalidArgumentError } from '../errors.js';

export type IteratorMode = 'entries' | 'keys' | 'values';

/** What the DB hands an iterator: how to build its source, and what to release at close. */
export interface IteratorSource {
  build(): InternalIterator;
  release(): void;
}

export class StrataIterator<T = [Buffer, Buffer]> implements AsyncIterableIterator<T> {
  private inner: DBIterator | undefined;
  private closed = false;
  private busy = false;
  private pendingSeek: Uint8Array | undefined;

  /** @internal */
  constructor(
    private readonly source: IteratorSource,
    private readonly options: DBIteratorOptions,
    private readonly mode: IteratorMode,
    private readonly onClose: (it: StrataIterator<T>) => void,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<T> { return this; }

  /** The next entry, or done. Rejects with ERR_CLOSED after close(). */
  async next(): Promise<IteratorResult<T, undefined>> {
    if (this.closed) throw new DatabaseClosedError('the iterator is closed');
    if (this.busy) throw new InvalidArgumentError('iterator.next() called before the previous call settled');
    this.busy = true;
    try {
      const it = this.ensureInner();
      const r = it.next();
      const ok = typeof r === 'boolean' ? r : await r;
      if (!ok) return { done: true, value: undefined };
      return { done: false, value: this.current(it) };
    } finally {
      this.busy = false;
    }
  }

  /** Builds the merged source on first use (iterator() itself stays synchronous). */
  private ensureInner(): DBIterator {
    if (!this.inner) {
      this.inner = new DBIterator(this.source.build(), this.options);
      if (this.pendingSeek) { this.inner.seek(this.pendingSeek); this.pendingSeek = undefined; }
    }
    return this.inner;
  }

  private current(it: DBIterator): T {
    switch (this.mode) {
      case 'keys': return copyToBuffer(it.key()) as T;
      case 'values': return copyToBuffer(it.value()) as T;
      default: return [copyToBuffer(it.key()), copyToBuffer(it.value())] as T;
    }
  }

  /** Up to `n` entries at once (fewer at the end): saves a promise per entry on long scans. */
  async nextv(n: number): Promise<T[]> {
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('nextv(n): n must be a non-negative integer');
    const out: T[] = [];
    if (this.closed) throw new DatabaseClosedError('the iterator is closed');
    if (this.busy) throw new InvalidArgumentError('iterator.nextv() called before the previous call settled');
    this.busy = true;
    try {
      const it = this.ensureInner();
      while (out.length < n) {
        const r = it.next();
        const ok = typeof r === 'boolean' ? r : await r;
        if (!ok) break;
        out.push(this.current(it));
      }
      return out;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Moves so that the next entry is the first at or after `target` (at or before it in reverse),
   * within the iterator's bounds.
   */
  seek(target: Uint8Array): void {
    if (this.closed) throw new DatabaseClosedError('the iterator is closed');
    if (!(target instanceof Uint8Array)) throw new InvalidArgumentError('seek(target): target must be a Uint8Array or string');
    if (this.inner) this.inner.seek(target);
    else this.pendingSeek = target.slice();
  }

  /** Releases the iterator's pinned files; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      const p = this.inner?.close();
      if (p) await p;
    } finally {
      this.source.release();
      this.onClose(this);
    }
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    await this.close();
    return { done: true, value: undefined };
  }
}
