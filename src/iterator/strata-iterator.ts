/**
 * The public iterator returned by db.iterator()/keys()/values() and a transaction's iterators: an
 * async iterable of copies ([key, value] Buffers, or one side only). It reads at the implicit
 * snapshot taken when it was created and pins that moment's Version (its table files stay on disk).
 * Building the merged source is deferred to the first next() (db.iterator() is synchronous, while
 * opening a table may need I/O).
 * Lifetime: it lets go of everything it holds (table iterators, the Version, the DB's registry
 * entry) as soon as it is exhausted (next() done, nextv() short, limit reached, either direction),
 * when a read fails, and on close()/return(). `for await` calls return() only on an early exit, so
 * releasing at the end is what keeps a scan run to completion from pinning files until db.close().
 * After the end next() keeps answering done and nextv() []; after a failure they rethrow that
 * failure; after close() they reject with ERR_CLOSED; seek() after any release is ERR_CLOSED (the
 * files it would need may be gone). An iterator abandoned mid-way pins until closed (or the DB closes).
 * holdAtEnd() (the abstract-level adapter) keeps the resources at the natural end, because
 * abstract-level allows seek() after the end; such an iterator is released by close() only.
 * One call at a time: next()/seek() calls are serialised by the caller (abstract-level rule).
 * abortOn(signal): once the signal fires the iterator fails with ERR_ABORTED and lets go of its files
 * (at once when no read is in flight, else when that read returns): next()/nextv() reject with it
 * from then on, as abstract-level's aborted iterators do. `await using it = db.iterator()` closes it.
 */
import type { Buffer } from 'node:buffer';
import { keyArg } from '../base/arguments.js';
import { copyBytes, copyToBuffer } from '../base/bytes.js';
import type { InternalIterator } from '../base/internal-iterator.js';
import { DBIterator, type DBIteratorOptions } from './db-iterator.js';
import { DatabaseClosedError, InvalidArgumentError } from '../errors.js';
import { abortedError } from '../base/abort.js';
import { fairTurn } from '../base/yield-guard.js';

export type IteratorMode = 'entries' | 'keys' | 'values';

/** What the DB hands an iterator: how to build its source, and what to release at close. */
export interface IteratorSource {
  build(): InternalIterator;
  release(): void;
}

/** Why an iterator no longer holds anything: it ran out, a read failed, or it was closed. */
const enum State { Open, Ended, Failed, Closed }

export class StrataIterator<T = [Buffer, Buffer]> implements AsyncIterableIterator<T> {
  private inner: DBIterator | undefined;
  private state = State.Open;
  private isReleased = false;
  private failure: unknown;
  private busy = false;
  private pendingSeek: Uint8Array | undefined;
  private isHeldAtEnd = false;
  private signal: AbortSignal | undefined;
  private readonly onAbort = (): void => {
    // A read in flight checks the signal when it returns; releasing under it would pull its files away.
    if (!this.busy && this.state === State.Open) void this.fail(abortedError('the iterator read', this.signal!));
  };

  /** @internal */
  constructor(
    private readonly source: IteratorSource,
    private readonly options: DBIteratorOptions,
    private readonly mode: IteratorMode,
    private readonly onClose: (it: StrataIterator<T>) => void,
  ) {}

  /**
   * @internal Keep the resources at the natural end, for a seek() that may follow (abstract-level
   * allows one); close() is then the only release. Call before the first read.
   */
  holdAtEnd(): this {
    this.isHeldAtEnd = true;
    return this;
  }

  /**
   * @internal Fail with ERR_ABORTED once `signal` fires (already fired: before the first read).
   * Call once, before the first read.
   */
  abortOn(signal: AbortSignal): this {
    this.signal = signal;
    if (signal.aborted) this.onAbort();
    else signal.addEventListener('abort', this.onAbort, { once: true });
    return this;
  }

  /**
   * When the signal has fired and the iterator has not failed or closed yet: fails it and returns the
   * rejection to await. undefined otherwise (the common case costs one property check, no await).
   */
  private abortIfSignalled(): Promise<never> | undefined {
    if (!this.signal?.aborted || this.state === State.Closed || this.state === State.Failed) return undefined;
    const e = abortedError('the iterator read', this.signal);
    return this.fail(e).then(() => { throw e; });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> { return this; }

  /** `await using it = db.iterator()`: close() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> { return this.close(); }

  /** The next entry, or done (for good once exhausted). Rejects with ERR_CLOSED after close(). */
  async next(): Promise<IteratorResult<T, undefined>> {
    // NB: not under a read in flight (the busy error below): that read checks the signal when it returns.
    const aborted = this.busy ? undefined : this.abortIfSignalled();
    if (aborted) await aborted;
    if (this.settledAnswer()) return { done: true, value: undefined };
    if (this.busy) throw new InvalidArgumentError('iterator.next() called before the previous call settled');
    this.busy = true;
    try {
      let it: DBIterator;
      let ok: boolean;
      try {
        it = this.ensureInner();
        const r = it.next();
        ok = typeof r === 'boolean' ? r : await r;
      } catch (e) {
        await this.fail(e);
        throw e;
      }
      const aborted = this.abortIfSignalled();
      if (aborted) await aborted;
      if (!ok) {
        await this.end();
        return { done: true, value: undefined };
      }
      const value = this.current(it); // copied before any turn of the loop
      const turn = fairTurn(); // a scan over cached blocks never waits: let the event loop turn
      if (turn) await turn;
      return { done: false, value };
    } finally {
      this.busy = false;
    }
  }

  /**
   * True when next() must answer done without reading (the iterator ran out); throws when it must
   * reject (closed, or an earlier failure). False while it can still read.
   */
  private settledAnswer(): boolean {
    switch (this.state) {
      case State.Open: return false;
      case State.Ended: return true;
      case State.Failed: throw this.failure;
      default: throw new DatabaseClosedError('the iterator is closed');
    }
  }

  /** The natural end (or the limit): let go now unless asked to hold for a later seek(). */
  private async end(): Promise<void> {
    if (this.isHeldAtEnd) return;
    this.state = State.Ended;
    await this.release();
  }

  private async fail(e: unknown): Promise<void> {
    this.state = State.Failed;
    this.failure = e;
    // The read's error is the one to report; a close failure on top of it only goes unreported.
    await this.release().catch(() => undefined);
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
    const aborted = this.busy ? undefined : this.abortIfSignalled();
    if (aborted) await aborted;
    if (this.settledAnswer()) return out;
    if (this.busy) throw new InvalidArgumentError('iterator.nextv() called before the previous call settled');
    this.busy = true;
    try {
      let it: DBIterator | undefined;
      while (out.length < n) {
        let ok: boolean;
        try {
          it ??= this.ensureInner();
          const r = it.next();
          ok = typeof r === 'boolean' ? r : await r;
        } catch (e) {
          await this.fail(e);
          throw e;
        }
        const aborted = this.abortIfSignalled();
        if (aborted) await aborted;
        if (!ok) {
          await this.end();
          break;
        }
        out.push(this.current(it));
      }
      const turn = fairTurn();
      if (turn) await turn;
      return out;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Moves so that the next entry is the first at or after `target` (at or before it in reverse),
   * within the iterator's bounds.
   */
  seek(target: Uint8Array | string): void {
    if (this.isReleased) {
      throw new DatabaseClosedError(this.state === State.Closed ? 'the iterator is closed'
        : 'the iterator has ended and released its files: seek() needs a new iterator');
    }
    const key = keyArg('seek(target): target', target);
    if (this.inner) this.inner.seek(key);
    else this.pendingSeek = copyBytes(key);
  }

  /** Releases the iterator's pinned files; idempotent (also after the end or a failure). */
  async close(): Promise<void> {
    this.state = State.Closed;
    await this.release();
  }

  /** Table iterators first (their cache handles), then the Version, then the registry entry. Once. */
  private async release(): Promise<void> {
    if (this.isReleased) return;
    this.isReleased = true;
    this.signal?.removeEventListener('abort', this.onAbort);
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
