/**
 * MemTable: the sorted in-memory table every write goes into (LevelDB's MemTable role), holding
 * entries (userKey, seq, kind, value) in internal-key order: user key ascending, then seq descending.
 *
 * Design: a hash finds a user key, and order is built lazily, because a typed-array skiplist pays
 * ~20 cache misses per insert (bench/RESULTS-memtable.md has both measured).
 * - Arena (arena.ts): each entry is one record `userKey | trailer | value`; its first klen + 8 bytes
 *   are its internal key, so iterators hand out views, never copies.
 * - Entries (entries.ts): int32 records in pages. Each distinct user key is a key group, named by
 *   its first entry; the group's versions are a doubly linked chain, newest first, which is exactly
 *   the internal order within the user key.
 * - Index (group-index.ts): user key -> group, open addressing in 64 shards.
 * - Order (sorted-runs.ts): new groups wait in `pending`; every BATCH of them, and whenever an
 *   iterator is positioned, they are sorted into a run, and runs are merged geometrically.
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
 * Range tombstones (ValueKind.RangeDelete ops) are not entries: they are kept beside them as a list
 * (src/rangedel), fragmented on demand for reads and flushes (cached until the next one arrives),
 * counted in `entries` and in approximateMemoryUsage(), and carried by share() to a flush worker.
 * The keys written inside them afterwards are tracked (reentered-keys.ts) so that an iterator can
 * jump over the memtable's own deleted stretches (ownStretches()).
 * Common prefix: `base` holds the first key's first bytes and runSet.depth how many of them every
 * key shares; run prefixes are taken after it (sorted-runs.ts).
 * Memory: approximateMemoryUsage() counts the capacity of the arena and of every index array the
 * memtable holds; runs replaced by a merge but still held by an open iterator are not counted.
 * Known cost: get() and seeks inside one user key walk its version chain, O(versions of that key).
 * Contract: single-threaded (main thread or one worker); seq is a unique integer in [0, 2^53);
 * kind is one byte (ValueKind or anything else, stored as is). add() copies its arguments.
 * Not here: visibility across memtables, tombstone semantics (src/iterator, src/engine/read-path.ts).
 */
import type { InternalIterator } from '../base/internal-iterator.js';
import { compareBytes, copyBytes } from '../base/bytes.js';
import { writeTrailer, TRAILER_SIZE, ValueKind } from '../base/internal-key.js';
import { invariant } from '../base/invariant.js';
import { walkOps } from '../wal/write-batch.js';
import { FragmentSet } from '../rangedel/fragment-set.js';
import { tombstoneBytes, type RangeTombstone } from '../rangedel/range-tombstone.js';
import { Arena, type SharedArena } from './arena.js';
import { E_ADDR, E_HEAD, E_KLEN, E_NEXT, E_PREV, E_VLEN, EntryTable, trailerSeq, type EntryStore, type SharedEntryTable } from './entries.js';
import { GroupIndex, hashBytes } from './group-index.js';
import { MemTableIterator } from './memtable-iterator.js';
import { ReenteredKeys, type SharedReenteredKeys } from './reentered-keys.js';
import type { Stretches } from '../rangedel/stretches.js';
import { emptyRunSet, pushRun, rebase, sortBatch, type RunSet } from './sorted-runs.js';
import type { ReadableMemTable } from './readable-memtable.js';

/** get() found no version of the key at or below the snapshot. */
export const MISS = -1;

/** New groups per sorted run: big enough to amortise a sort, small enough to keep one ~1 ms. */
const BATCH = 8192;
/**
 * Whether `m` has reached the size at which it is frozen and written out as a table (writeBufferSize):
 * the one rule, for the write path, recovery and point-in-time replay alike.
 */
export function memtableFull(m: MemTable, o: { readonly writeBufferSize: number }): boolean {
  return m.approximateMemoryUsage() >= o.writeBufferSize;
}

/** Per range tombstone beyond its key bytes: the object, its two arrays and the list slot (an estimate). */
const RANGE_DEL_OVERHEAD = 160;

/** The common prefix tracked is at most this long (so checking it costs little per add). */
const MAX_DEPTH = 64;

/**
 * A frozen memtable as plain data for a flush worker: the arena, entry pages and sorted runs are the
 * memtable's own arrays (compaction/memtable-handoff.ts copies them into pooled shared memory before
 * posting); the unsorted tail (at most BATCH group ids) and the common prefix are small copies.
 */
export interface SharedMemTable {
  arena: SharedArena;
  table: SharedEntryTable;
  runSet: RunSet;
  pending: Int32Array;
  base: Uint8Array;
  minSeq: number;
  maxSeq: number;
  /** Few and small: copied by postMessage. */
  rangeDels: RangeTombstone[];
  reentered: SharedReenteredKeys;
}

export class MemTable implements EntryStore, ReadableMemTable {
  /** @internal Shared with the other files of src/memtable only. */
  readonly arena: Arena;
  /** @internal */
  readonly table: EntryTable;
  /** @internal The first MAX_DEPTH bytes (at most) of the first key (see header). */
  base: Uint8Array = new Uint8Array(0);

  private readonly index = new GroupIndex();
  /** Groups not yet in a run, in creation order. */
  private pending: Int32Array = new Int32Array(16);
  private pendingCount = 0;
  private runSet: RunSet = emptyRunSet(0);
  private minSeq = 0;
  private maxSeq = 0;
  private lastHitSeq = 0;
  private lastEntry = -1;
  private lastKeyLen = 0;
  private hasSeq = false;
  private rangeDels: RangeTombstone[] = [];
  private rangeDelBytes = 0;
  private fragments: FragmentSet | undefined;
  /** Made with the first range tombstone: the one branch the add path pays without tombstones. */
  private reentered: ReenteredKeys | undefined;

  /**
   * An empty memtable, or a read-only view of another thread's frozen one (share()). A view serves
   * iterators (its pending groups are sorted on the view's thread, when first positioned); it has no
   * hash index, so get() on it finds nothing, and it must never be added to.
   */
  constructor(shared?: SharedMemTable) {
    if (!shared) {
      this.arena = new Arena();
      this.table = new EntryTable();
      return;
    }
    this.arena = Arena.fromShared(shared.arena);
    this.table = EntryTable.fromShared(shared.table);
    this.runSet = shared.runSet;
    this.pending = shared.pending.length > 0 ? shared.pending : new Int32Array(16);
    this.pendingCount = shared.pending.length;
    this.base = shared.base;
    this.minSeq = shared.minSeq;
    this.maxSeq = shared.maxSeq;
    this.hasSeq = shared.table.count > 0 || shared.rangeDels.length > 0;
    for (const t of shared.rangeDels) this.keepRangeDel(t);
    this.reentered?.adopt(shared.reentered);
  }

  /**
   * This memtable as plain data for a worker, without copying its entries (see SharedMemTable).
   * REQUIRES: frozen (nothing is added from now on: the arrays returned are read while reads go on).
   * Costs O(BATCH) on the calling thread: the unsorted tail is sorted by the reader, not here.
   */
  share(): SharedMemTable {
    return {
      arena: this.arena.shared(),
      table: this.table.shared(),
      runSet: this.runSet,
      pending: this.pending.slice(0, this.pendingCount),
      base: this.base,
      minSeq: this.minSeq,
      maxSeq: this.maxSeq,
      rangeDels: this.rangeDels.slice(),
      reentered: this.reentered?.share() ?? { exact: true, keys: [] },
    };
  }

  /** Entries and range tombstones added so far (0: nothing to flush). */
  get entries(): number {
    return this.table.count + this.rangeDels.length;
  }

  /** Range tombstones added so far. */
  get rangeDeletions(): number {
    return this.rangeDels.length;
  }

  /** The range tombstones, fragmented (immutable; rebuilt after the next range tombstone arrives). */
  rangeDelFragments(): FragmentSet {
    this.fragments ??= FragmentSet.fromTombstones(this.rangeDels);
    return this.fragments;
  }

  /**
   * The stretches of this memtable's own tombstones visible at readSeq that hold no version newer
   * than a tombstone covering it (reentered-keys.ts): every version here in them is deleted.
   * Undefined without tombstones.
   */
  ownStretches(readSeq: number): Stretches | undefined {
    return this.reentered?.stretches(this.rangeDelFragments(), readSeq);
  }

  /** Keys re-entered so far (reentered-keys.ts; for tests). */
  get reenteredKeys(): number {
    return this.reentered?.count ?? 0;
  }

  /** Smallest seq added (0 when empty). */
  get firstSeq(): number {
    return this.minSeq;
  }

  /** Largest seq added (0 when empty). */
  get lastSeq(): number {
    return this.maxSeq;
  }

  /**
   * Inserts `count` encoded operations (WriteBatch wire format, buf[start, end)) at sequences
   * firstSeq, firstSeq + 1, …: the one way a batch becomes memtable entries (write path, recovery).
   * Returns the next free sequence. `fail` (which throws) reports a malformed byte.
   */
  addOps(buf: Uint8Array, start: number, end: number, count: number, firstSeq: number,
    fail: (offset: number, detail: string) => never): number {
    let seq = firstSeq;
    walkOps(buf, start, end, count, (kind, key, value) => { this.add(seq++, kind, key, value); }, fail);
    return seq;
  }

  /**
   * Copies key and value into the arena (the caller may reuse its buffers). A RangeDelete goes to
   * the range tombstones instead: userKey is its start, value its exclusive end (start < end).
   */
  add(seq: number, kind: number, userKey: Uint8Array, value: Uint8Array): void {
    if (kind === ValueKind.RangeDelete) {
      this.addRangeDeletion(seq, userKey, value);
      return;
    }
    const klen = userKey.length;
    const vlen = value.length;
    const arena = this.arena;
    const addr = arena.alloc(klen + TRAILER_SIZE + vlen);
    const buf = arena.chunk(addr);
    const off = arena.offset(addr);
    buf.set(userKey, off);
    writeTrailer(buf, off + klen, seq, kind);
    buf.set(value, off + klen + TRAILER_SIZE);

    const t = this.table;
    const e = t.append();
    t.set(e, E_ADDR, addr);
    t.set(e, E_VLEN, vlen);
    t.set(e, E_KLEN, klen);
    t.set(e, E_HEAD, -1);
    this.noteSeq(seq);
    if (e === 0) {
      // NB: not userKey.slice(): on a Buffer that is a view of the caller's (reused) memory.
      this.base = Uint8Array.from(userKey.subarray(0, MAX_DEPTH));
      this.runSet = emptyRunSet(this.base.length);
    } else if (this.runSet.depth > 0) {
      this.narrowCommonPrefix(userKey);
    }

    const h = hashBytes(userKey);
    const g = this.index.find(this, userKey, h);
    if (g >= 0) this.linkVersion(g, e, seq, kind, klen);
    else this.newGroup(e, h);
    if (this.reentered !== undefined) this.reentered.noteAdd(userKey);
  }

  /**
   * The newest version of userKey with seq <= snapshotSeq: MISS, or its kind. On a hit the value
   * is available from lastValue() until the next add() or get().
   */
  get(userKey: Uint8Array, snapshotSeq: number): number {
    const g = this.index.find(this, userKey, hashBytes(userKey));
    if (g < 0) return MISS;
    const klen = userKey.length;
    const arena = this.arena;
    const t = this.table;
    for (let e = t.get(g, E_HEAD); e >= 0; e = t.get(e, E_NEXT)) {
      const addr = t.get(e, E_ADDR);
      const buf = arena.chunk(addr);
      const at = arena.offset(addr) + klen;
      const seq = trailerSeq(buf, at);
      if (seq <= snapshotSeq) {
        this.lastEntry = e;
        this.lastHitSeq = seq;
        this.lastKeyLen = klen;
        return buf[at]!;
      }
    }
    return MISS;
  }

  /** The sequence number of the last get() hit (range tombstones newer than it delete it). */
  lastSeqFound(): number {
    return this.lastHitSeq;
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

  /** Bytes held: arena capacity plus the capacity of every index array, plus the range tombstones. */
  approximateMemoryUsage(): number {
    return this.arena.bytesHeld + this.table.bytesHeld + this.index.bytesHeld +
      this.pending.byteLength + this.runSet.bytes + this.rangeDelBytes + (this.reentered?.bytesHeld ?? 0);
  }

  private addRangeDeletion(seq: number, start: Uint8Array, end: Uint8Array): void {
    invariant(compareBytes(start, end) < 0, 'memtable range tombstone with start >= end');
    // Copies: the caller's arrays are views into a batch or WAL record that will be reused.
    const inOrder = !this.hasSeq || seq > this.maxSeq;
    this.keepRangeDel({ start: copyBytes(start), end: copyBytes(end), seq }, inOrder);
    this.noteSeq(seq);
  }

  private keepRangeDel(t: RangeTombstone, inOrder = true): void {
    this.reentered ??= new ReenteredKeys();
    this.reentered.addTombstone(t.start, t.end, inOrder);
    this.rangeDels.push(t);
    this.rangeDelBytes += tombstoneBytes(t) + RANGE_DEL_OVERHEAD;
    this.fragments = undefined;
  }

  private noteSeq(seq: number): void {
    if (!this.hasSeq) {
      this.hasSeq = true;
      this.minSeq = seq;
      this.maxSeq = seq;
    } else if (seq < this.minSeq) this.minSeq = seq;
    else if (seq > this.maxSeq) this.maxSeq = seq;
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

  private newGroup(e: number, h: number): void {
    const t = this.table;
    t.set(e, E_HEAD, e);
    t.set(e, E_NEXT, -1);
    t.set(e, E_PREV, -1);
    this.index.insert(e, h);
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
}
