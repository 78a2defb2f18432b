/**
 * Arena: the append-only byte store of one memtable. Records are bump-allocated in slabs that grow
 * from 4 KiB to 1 MiB (so a tiny memtable holds little), and a record of SLAB_SIZE / 8 or more gets
 * a chunk of exactly its own size (a 100 MiB value costs 100 MiB once, never a doubled copy).
 * Nothing is ever moved or freed: a record's bytes stay at the same place until the whole arena is
 * dropped, which is what lets iterators hand out views.
 *
 * Address: one int32 per record, so the memtable keeps it in an Int32Array without a second array:
 *   >= 0  slab record: slab index * SLAB_SIZE + offset (slab index < 2048, i.e. < 2 GiB of slabs)
 *   <  0  big record: ~address is the big-chunk index, offset 0
 * Contract: alloc() returns the address of `size` writable bytes; chunk()/offset() resolve it.
 * Memory: `bytesHeld` counts the capacity of every slab and chunk (what the process really holds).
 * Not here: what a record contains (memtable.ts).
 */
import { TooLargeError } from '../errors.js';

export const SLAB_SIZE = 1 << 20;
const SLAB_SHIFT = 20;
const OFFSET_MASK = SLAB_SIZE - 1;
const FIRST_SLAB = 4096;
/** Records at least this big get their own chunk: caps the slack left at a slab's end at 1/8. */
export const BIG_RECORD = SLAB_SIZE >>> 3;
/** Slab addresses must stay positive int32: 2048 * 1 MiB = 2 GiB. */
const MAX_SLABS = 2048;

/** An arena's memory as plain data, for a flush worker (compaction/memtable-handoff.ts copies it to shared memory). */
export interface SharedArena {
  slabs: Uint8Array[];
  bigs: Uint8Array[];
  bytesHeld: number;
}

export class Arena {
  private readonly slabs: Uint8Array[] = [];
  private readonly bigs: Uint8Array[] = [];
  private cur: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private held = 0;

  /** The arena over `s` (another thread's arena, shared): for reading only, never alloc(). */
  static fromShared(s: SharedArena): Arena {
    const a = new Arena();
    a.slabs.push(...s.slabs);
    a.bigs.push(...s.bigs);
    a.held = s.bytesHeld;
    return a;
  }

  /** The slabs and chunks (the arena's own: the memtable is frozen before it is handed off). */
  shared(): SharedArena {
    return { slabs: this.slabs.slice(), bigs: this.bigs.slice(), bytesHeld: this.held };
  }

  /** Bytes of every slab and chunk allocated so far (capacity, not fill). */
  get bytesHeld(): number {
    return this.held;
  }

  /** Reserves `size` bytes; returns their address (see header). */
  alloc(size: number): number {
    if (size >= BIG_RECORD) return this.allocBig(size);
    // NB: the second test matters for a 0-byte first allocation, which must still get a slab.
    if (this.pos + size > this.cur.length || this.slabs.length === 0) this.newSlab(size);
    const addr = (this.slabs.length - 1) * SLAB_SIZE + this.pos;
    this.pos += size;
    return addr;
  }

  /** The chunk holding the record at addr. */
  chunk(addr: number): Uint8Array {
    return addr >= 0 ? this.slabs[addr >>> SLAB_SHIFT]! : this.bigs[~addr]!;
  }

  /** The record's offset inside chunk(addr). */
  offset(addr: number): number {
    return addr >= 0 ? addr & OFFSET_MASK : 0;
  }

  private newSlab(size: number): void {
    if (this.slabs.length >= MAX_SLABS) {
      throw new TooLargeError(`memtable arena is full (${MAX_SLABS} slabs of ${SLAB_SIZE} bytes)`);
    }
    // Doubling from 4 KiB keeps an almost empty memtable small; past 1 MiB the size stays fixed.
    let len = this.cur.length === 0 ? FIRST_SLAB : Math.min(this.cur.length * 2, SLAB_SIZE);
    while (len < size) len *= 2;
    this.cur = new Uint8Array(len);
    this.pos = 0;
    this.slabs.push(this.cur);
    this.held += len;
  }

  private allocBig(size: number): number {
    const chunk = new Uint8Array(size);
    this.bigs.push(chunk);
    this.held += size;
    return ~(this.bigs.length - 1);
  }
}
