/**
 * MemTable: the sorted in-memory table every write goes into (LevelDB's MemTable role), holding
 * entries (userKey, seq, kind, value) in internal-key order: user key ascending, then seq descending.
 *
 * Design (bench/RESULTS-memtable.md compares it with a typed-array skiplist, whose ~20 comparisons
 * per insert are each a cache miss): a hash table finds a user key; order is built lazily.
 * - Arena (arena.ts): each entry is one record `userKey | trailer | value`; its first klen + 8 bytes
 *   are its internal key, so iterators hand out views, never copies.
 * - Entries (entries.ts): fixed-size int32 records in pages. Each distinct user key is a key group,
 *   named by its first entry; the group's versions are a doubly linked chain, newest first, which
 *   is exactly the internal order within the user key.
 * - Hash (this file): open addressing with linear probing, the 32-bit hash kept beside the group id,
 *   split into SHARDS tables chosen by the hash's top bits so that a resize rehashes 1/64 of the
 *   keys (a pause of a few ms at 1M keys, not ~100 ms).
 * - Order (sorted-runs.ts): new groups wait in `pending`; every BATCH of them, and whenever an
 *   iterator is positioned, they are sorted into a run and runs are merged geometrically.
 * No JS object per entry: typed arrays and arena slabs only.
 *
 * Iterators and concurrent adds (the engine reads the active memtable while writes continue): an
 * iterator takes the run set each time it is positioned (seek*, which sorts the pending groups
 * first) and keeps it; runs are immutable, so every group that existed at positioning is in its set
 * exactly once. Versions are reached through the live chains, which only ever gain links: a version
 * added later is either seen (linked beside one the iterator visits, in its proper place) or not,
 * but none that existed at positioning is skipped or repeated. Groups created after positioning are
 * not seen. See memtable-iterator.ts.
 *
 * Common prefix: `base` holds the first key's first bytes and runSet.depth how many of them every
 * key shares; run prefixes are taken after it (sorted-runs.ts).
 * Known cost: get() and seeks inside one user key walk its version chain, O(versions of that key).
 * Contract: single-threaded (main thread or one worker); seq is a unique integer in [0, 2^53);
 * kind is one byte (ValueKind or anything else, stored as is). add() copies its arguments.
 * Not here: visibility across memtables, tombstone semantics (src/iterator, db.ts).
 */
import type { InternalIterator } from '../base/internal-iterator.js';
import { writeTrailer, TRAILER_SIZE } from '../base/internal-key.js';
import { equalBytes } from '../base/bytes.js';
import { invariant } from '../base/invariant.js';
import { Arena } from './arena.js';
import { E_ADDR, E_HEAD, E_KLEN, E_NEXT, E_PREV, E_VLEN, EntryTable, trailerSeq, type EntryStore } from './entries.js';
import { MemTableIterator } from './memtable-iterator.js';
import { emptyRunSet, pushRun, rebase, sortBatch, type RunSet } from './sorted-runs.js';

/** get() found no version of the key at or below the snapshot. */
export const MISS = -1;

/** New groups per sorted run: big enough to amortise a sort, small enough to keep one ~1 ms. */
const BATCH = 8192;
const SHARD_SHIFT = 26;
const SHARDS = 1 << (32 - SHARD_SHIFT);
const INITIAL_SHARD_SLOTS = 8;
/** Stands for a shard not allocated yet (a memtable per transaction must be cheap to create). */
const NO_SLOTS = Int32Array.of(-1, -1);
const SHORT_COPY = 32;
/** The common prefix tracked is at most this long (so checking it costs little per add). */
const MAX_DEPTH = 64;

export class MemTable implements EntryStore {
  /** @internal Shared with the other files of src/memtable only. */
  readonly arena = new Arena();
  /** @internal */
  readonly table = new EntryTable();
  /** @internal The first MAX_DEPTH bytes (at most) of the first key (see header). */
  base: Uint8Array = new Uint8Array(0);

  /** Per shard: slots as pairs (group id or -1, hash); capacity is a power of two. */
  private readonly shards: Int32Array[] = new Array<Int32Array>(SHARDS).fill(NO_SLOTS);
  private readonly shardUsed = new Int32Array(SHARDS);
  private slotBytes = 0;
  /** Groups not yet in a run, in creation order. */
  private pending: Int32Array = new Int32Array(16);
  private pendingCount = 0;
  private runSet: RunSet = emptyRunSet(0);
  private minSeq = 0;
  private maxSeq = 0;
  private lastEntry = -1;
  private lastKeyLen = 0;

  /** Entries added so far. */
  get entries(): number {
    return this.table.count;
  }

  /** Smallest seq added (0 when empty). */
  get firstSeq(): number {
    return this.minSeq;
  }

  /** Largest seq added (0 when empty). */
  get lastSeq(): number {
    return this.maxSeq;
  }

  /** Copies key and value into the arena (the caller may reuse its buffers). */
  add(seq: number, kind: number, userKey: Uint8Array, value: Uint8Array): void {
    const klen = userKey.length;
    const vlen = value.length;
    const arena = this.arena;
    const addr = arena.alloc(klen + TRAILER_SIZE + vlen);
    const buf = arena.chunk(addr);
    const off = arena.offset(addr);
    copyInto(buf, off, userKey);
    writeTrailer(buf, off + klen, seq, kind);
    copyInto(buf, off + klen + TRAILER_SIZE, value);

    const t = this.table;
    const e = t.append();
    t.set(e, E_ADDR, addr);
    t.set(e, E_VLEN, vlen);
    t.set(e, E_KLEN, klen);
    t.set(e, E_HEAD, -1);
    if (e === 0) {
      this.minSeq = seq;
      this.maxSeq = seq;
      this.base = userKey.slice(0, MAX_DEPTH);
      this.runSet = emptyRunSet(this.base.length);
    } else {
      if (seq < this.minSeq) this.minSeq = seq;
      else if (seq > this.maxSeq) this.maxSeq = seq;
      if (this.runSet.depth > 0) this.narrowCommonPrefix(userKey);
    }

    const h = hashBytes(userKey);
    const g = this.findGroup(userKey, h);
    if (g >= 0) this.linkVersion(g, e, seq, kind, klen);
    else this.newGroup(e, h);
  }

  /**
   * The newest version of userKey with seq <= snapshotSeq: MISS, or its kind. On a hit the value
   * is available from lastValue() until the next add() or get().
   */
  get(userKey: Uint8Array, snapshotSeq: number): number {
    const g = this.findGroup(userKey, hashBytes(userKey));
    if (g < 0) return MISS;
    const klen = userKey.length;
    const arena = this.arena;
    const t = this.table;
    for (let e = t.get(g, E_HEAD); e >= 0; e = t.get(e, E_NEXT)) {
      const addr = t.get(e, E_ADDR);
      const buf = arena.chunk(addr);
      const at = arena.offset(addr) + klen;
      if (trailerSeq(buf, at) <= snapshotSeq) {
        this.lastEntry = e;
        this.lastKeyLen = klen;
        return buf[at]!;
      }
    }
    return MISS;
  }

  /** The value of the last get() hit, as a view into the arena: copy it to keep it. */
  lastValue(): Uint8Array {
    const e = this.lastEntry;
    invariant(e >= 0, 'MemTable.lastValue() without a get() hit');
    const addr = this.table.get(e, E_ADDR);
    const start = this.arena.offset(addr) + this.lastKeyLen + TRAILER_SIZE;
    return this.arena.chunk(addr).subarray(start, start + this.table.get(e, E_VLEN));
  }

  /** An iterator over internal keys in internal order (synchronous; see memtable-iterator.ts). */
  newIterator(): InternalIterator {
    return new MemTableIterator(this);
  }

  /** Bytes held: arena capacity plus the capacity of every index array. */
  approximateMemoryUsage(): number {
    return this.arena.bytesHeld + this.table.bytesHeld + this.slotBytes +
      this.pending.byteLength + this.runSet.bytes;
  }

  /** @internal Sorted runs covering every group so far (the pending ones are sorted first). Immutable. */
  sortedRuns(): RunSet {
    if (this.pendingCount > 0) this.sortPending();
    return this.runSet;
  }

  /** @internal The seq of entry e, whose user key is klen bytes long. */
  seqOf(e: number, klen: number): number {
    const addr = this.table.get(e, E_ADDR);
    return trailerSeq(this.arena.chunk(addr), this.arena.offset(addr) + klen);
  }

  /** @internal The kind of entry e, whose user key is klen bytes long. */
  kindOf(e: number, klen: number): number {
    const addr = this.table.get(e, E_ADDR);
    return this.arena.chunk(addr)[this.arena.offset(addr) + klen]!;
  }

  /**
   * Shrinks the common prefix to what key shares with it. Once runs exist each shrink costs a
   * rebase over all of them, so it then at least halves: at most log2(MAX_DEPTH) + 1 such rebases.
   */
  private narrowCommonPrefix(key: Uint8Array): void {
    const depth = this.runSet.depth;
    const base = this.base;
    const n = Math.min(depth, key.length);
    let i = 0;
    while (i < n && key[i] === base[i]) i++;
    if (i === depth) return;
    this.runSet = rebase(this, this.runSet, this.runSet.runs.length === 0 ? i : Math.min(i, depth >>> 1));
  }

  private findGroup(key: Uint8Array, h: number): number {
    const slots = this.shards[h >>> SHARD_SHIFT]!;
    const mask = (slots.length >>> 1) - 1;
    const klen = key.length;
    const t = this.table;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const g = slots[2 * s]!;
      if (g < 0) return -1;
      if (slots[2 * s + 1] === h && t.get(g, E_KLEN) === klen && this.groupKeyEquals(g, key)) return g;
    }
  }

  private groupKeyEquals(g: number, key: Uint8Array): boolean {
    const addr = this.table.get(g, E_ADDR);
    const buf = this.arena.chunk(addr);
    const off = this.arena.offset(addr);
    const n = key.length;
    if (n > SHORT_COPY) return equalBytes(buf.subarray(off, off + n), key);
    for (let i = 0; i < n; i++) if (buf[off + i] !== key[i]) return false;
    return true;
  }

  private newGroup(e: number, h: number): void {
    const t = this.table;
    t.set(e, E_HEAD, e);
    t.set(e, E_NEXT, -1);
    t.set(e, E_PREV, -1);
    const shard = h >>> SHARD_SHIFT;
    if (this.shards[shard] === NO_SLOTS) {
      this.shards[shard] = new Int32Array(INITIAL_SHARD_SLOTS * 2).fill(-1);
      this.slotBytes += INITIAL_SHARD_SLOTS * 8;
    }
    place(this.shards[shard]!, e, h);
    const used = ++this.shardUsed[shard]!;
    if (used * 4 > (this.shards[shard]!.length >>> 1) * 3) this.growShard(shard);
    if (this.pendingCount === this.pending.length) {
      const bigger = new Int32Array(this.pending.length * 2);
      bigger.set(this.pending);
      this.pending = bigger;
    }
    this.pending[this.pendingCount++] = e;
    if (this.pendingCount >= BATCH) this.sortPending();
  }

  /** Links entry e into group g's chain, kept in (seq, kind) descending order. */
  private linkVersion(g: number, e: number, seq: number, kind: number, klen: number): void {
    const t = this.table;
    const head = t.get(g, E_HEAD);
    if (this.isNewer(seq, kind, head, klen)) {
      // The usual case: seqs arrive in increasing order, so the new version becomes the head.
      t.set(e, E_NEXT, head);
      t.set(e, E_PREV, -1);
      t.set(head, E_PREV, e);
      t.set(g, E_HEAD, e);
      return;
    }
    let p = head;
    for (let q = t.get(p, E_NEXT); q >= 0 && !this.isNewer(seq, kind, q, klen); q = t.get(q, E_NEXT)) p = q;
    const q = t.get(p, E_NEXT);
    t.set(e, E_NEXT, q);
    t.set(e, E_PREV, p);
    if (q >= 0) t.set(q, E_PREV, e);
    t.set(p, E_NEXT, e);
  }

  /** True when (seq, kind) sorts before entry other's trailer (newer; ties count as older). */
  private isNewer(seq: number, kind: number, other: number, klen: number): boolean {
    const s = this.seqOf(other, klen);
    return seq > s || (seq === s && kind > this.kindOf(other, klen));
  }

  private sortPending(): void {
    // BATCH keeps a batch far below sortBatch's 2^20 limit.
    const run = sortBatch(this, this.pending.slice(0, this.pendingCount), this.runSet.depth);
    this.runSet = pushRun(this, this.runSet, run);
    this.pendingCount = 0;
  }

  private growShard(shard: number): void {
    const old = this.shards[shard]!;
    const slots = new Int32Array(old.length * 2).fill(-1);
    for (let i = 0; i < old.length; i += 2) {
      const g = old[i]!;
      if (g >= 0) place(slots, g, old[i + 1]!);
    }
    this.shards[shard] = slots;
    this.slotBytes += old.byteLength;
  }
}

function place(slots: Int32Array, g: number, h: number): void {
  const mask = (slots.length >>> 1) - 1;
  let s = h & mask;
  while (slots[2 * s]! >= 0) s = (s + 1) & mask;
  slots[2 * s] = g;
  slots[2 * s + 1] = h;
}

/** NB: TypedArray.set costs more than a loop for the short keys that dominate. */
function copyInto(buf: Uint8Array, off: number, src: Uint8Array): void {
  const n = src.length;
  if (n > SHORT_COPY) {
    buf.set(src, off);
    return;
  }
  for (let i = 0; i < n; i++) buf[off + i] = src[i]!;
}

/** murmur3_x86_32 (seed 0) over the key: good spread for linear probing, 4 bytes per round. */
export function hashBytes(key: Uint8Array): number {
  const n = key.length;
  let h = 0;
  let i = 0;
  for (const end = n & ~3; i < end; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail !== 0) {
    let k = key[i]!;
    if (tail > 1) k |= key[i + 1]! << 8;
    if (tail > 2) k |= key[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
