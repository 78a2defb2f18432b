/**
 * The SharedArrayBuffers a WorkerExecutor hands frozen memtables to its workers in, kept and reused:
 * V8 does not count a SharedArrayBuffer's memory towards a major GC, so buffers dropped after every
 * flush stayed in RSS until some unrelated collection (a 64 MiB memtable per flush; 5,000,000 batched
 * puts grew RSS to 901 MB). A pool that never drops a buffer while its owner lives holds at most
 * `capBytes`, and that is all the shared memory a database keeps.
 * Size classes are powers of two from BLOCK_BYTES (memtable-handoff.ts packs every array of up to
 * BLOCK_BYTES into blocks, so almost everything is one class); a buffer is reused only for its class.
 * Contract: acquire() hands out a buffer nobody holds: a free one of the class, else a new one while
 * the total held stays within the cap, else it throws FlushPoolFullError and allocates nothing.
 * release() takes back a buffer acquire() handed out; the caller releases only once no thread can
 * read it any more (executor.ts: after the worker's reply, or after the worker has exited).
 * Main thread only.
 */
import { InternalError } from '../src/errors.js';

/** The smallest class: arrays up to this size are packed into blocks of it. */
export const BLOCK_BYTES = 1 << 20;

/** The hand-off would take the pool past its cap: nothing was allocated, flush on this thread. */
export class FlushPoolFullError extends Error {
  constructor(readonly neededBytes: number, readonly capBytes: number) {
    super(`a flush needs ${neededBytes} bytes of shared memory, more than the pool's cap of ${capBytes} allows now`);
  }
}

/** The class (buffer size) that holds `bytes`. */
export function sizeClass(bytes: number): number {
  let c = BLOCK_BYTES;
  while (c < bytes) c *= 2;
  return c;
}

export class SharedBufferPool {
  private readonly free = new Map<number, SharedArrayBuffer[]>();
  private readonly lent = new Set<SharedArrayBuffer>();
  private held = 0;

  constructor(readonly capBytes: number) {}

  /** Bytes of every buffer the pool has allocated (free or lent). */
  get heldBytes(): number { return this.held; }

  /** Bytes of the buffers handed out and not yet released. */
  get lentBytes(): number {
    let n = 0;
    for (const b of this.lent) n += b.byteLength;
    return n;
  }

  /**
   * One buffer per entry of `classes` (each a sizeClass() value), all or none: throws
   * FlushPoolFullError when they cannot all be had within the cap.
   */
  acquire(classes: readonly number[]): SharedArrayBuffer[] {
    const need = new Map<number, number>();
    for (const c of classes) need.set(c, (need.get(c) ?? 0) + 1);
    let fresh = 0;
    for (const [c, n] of need) fresh += c * Math.max(0, n - (this.free.get(c)?.length ?? 0));
    if (this.held + fresh > this.capBytes) {
      throw new FlushPoolFullError(classes.reduce((a, c) => a + c, 0), this.capBytes);
    }
    return classes.map((c) => {
      const b = this.free.get(c)?.pop() ?? this.allocate(c);
      this.lent.add(b);
      return b;
    });
  }

  /** Takes back buffers acquire() handed out (see the header for when that is allowed). */
  release(buffers: readonly SharedArrayBuffer[]): void {
    for (const b of buffers) {
      if (!this.lent.delete(b)) throw new InternalError('flush pool: a buffer released twice or never lent');
      let list = this.free.get(b.byteLength);
      if (!list) this.free.set(b.byteLength, list = []);
      list.push(b);
    }
  }

  /**
   * Drops every free buffer (lent ones stay lent): the pool's owner is idle or closing. The memory
   * goes back once a GC collects the buffers, which the next acquire() no longer finds.
   */
  drain(): void {
    for (const list of this.free.values()) for (const b of list) this.held -= b.byteLength;
    this.free.clear();
  }

  private allocate(c: number): SharedArrayBuffer {
    this.held += c;
    return new SharedArrayBuffer(c);
  }
}
