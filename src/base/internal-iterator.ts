/**
 * The cursor interface every internal iterator implements (block, table, memtable, merging, level).
 *
 * Movement methods return MaybePromise<void>: `undefined` when the move completed synchronously
 * (data in memory or in the block cache), a Promise when it had to wait for I/O or an async codec.
 * Callers must handle both, without paying a microtask when nothing was awaited:
 *
 *     const p = it.next(); if (p) await p;
 *
 * Contract:
 * - A fresh iterator is not valid until positioned by seekToFirst/seekToLast/seek/seekForPrev.
 * - seek(t): the first entry with key >= t; seekForPrev(t): the last entry with key <= t.
 * - next()/prev() REQUIRE valid(). Moving off either end makes valid() false.
 * - key()/value() REQUIRE valid(); the returned views are valid only until the next movement
 *   (copy them to keep them).
 * - Errors (corruption, I/O) are thrown from the movement (synchronously or as a rejection).
 * - close() releases what the iterator pins (blocks, files); calling it twice is harmless.
 */

export type MaybePromise<T> = T | Promise<T>;

export interface InternalIterator {
  valid(): boolean;
  seekToFirst(): MaybePromise<void>;
  seekToLast(): MaybePromise<void>;
  seek(target: Uint8Array): MaybePromise<void>;
  seekForPrev(target: Uint8Array): MaybePromise<void>;
  next(): MaybePromise<void>;
  prev(): MaybePromise<void>;
  key(): Uint8Array;
  value(): Uint8Array;
  close(): MaybePromise<void>;
}
