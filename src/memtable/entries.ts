/**
 * The memtable's entry records and key helpers, shared by memtable.ts, sorted-runs.ts and
 * memtable-iterator.ts.
 *
 * Bytes (arena.ts): one record per entry, `userKey | trailer (8) | value`, so the first klen + 8
 * bytes are the entry's internal key (trailer layout: src/base/internal-key.ts).
 * Index (EntryTable): STRIDE int32s per entry id, array of structs so that a random lookup touches
 * one cache line, not one per field:
 *   E_ADDR  arena address of the record        E_VLEN  value length
 *   E_NEXT  next older version of the key, -1  E_PREV  next newer version, -1
 *   E_KLEN  user key length                    E_HEAD  newest version (key group entries only)
 * A key group is one distinct user key, named by the id of its first entry (the group entry);
 * its versions form the E_NEXT / E_PREV chain from E_HEAD, newest first.
 * The table lives in fixed pages of PAGE_SIZE entries, so growing never copies (no pause, no
 * second copy in memory); only the first page doubles up to full size, which keeps a small
 * memtable small.
 * Not here: allocation and linking (memtable.ts), ordering of groups (sorted-runs.ts).
 */
import { compareByteRanges } from '../base/bytes.js';
import type { Arena } from './arena.js';

export const STRIDE = 6;
export const E_ADDR = 0;
export const E_VLEN = 1;
export const E_NEXT = 2;
export const E_PREV = 3;
export const E_KLEN = 4;
export const E_HEAD = 5;

const PAGE_SHIFT = 13;
const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SIZE - 1;
const FIRST_PAGE = 64;

/** An entry table's memory as plain data, for a flush worker (compaction/memtable-handoff.ts copies it to shared memory). */
export interface SharedEntryTable {
  pages: Int32Array[];
  count: number;
  bytesHeld: number;
}

export class EntryTable {
  private readonly pages: Int32Array[] = [new Int32Array(FIRST_PAGE * STRIDE)];
  private held = FIRST_PAGE * STRIDE * 4;
  private n = 0;

  /** The table over `s` (another thread's, shared): for reading only, never append(). */
  static fromShared(s: SharedEntryTable): EntryTable {
    const t = new EntryTable();
    t.pages.length = 0;
    t.pages.push(...s.pages);
    t.held = s.bytesHeld;
    t.n = s.count;
    return t;
  }

  /** The pages (the table's own: the memtable is frozen before it is handed off). */
  shared(): SharedEntryTable {
    return { pages: this.pages.slice(), count: this.n, bytesHeld: this.held };
  }

  get count(): number {
    return this.n;
  }

  get bytesHeld(): number {
    return this.held;
  }

  get(e: number, field: number): number {
    return this.pages[e >>> PAGE_SHIFT]![(e & PAGE_MASK) * STRIDE + field]!;
  }

  set(e: number, field: number, v: number): void {
    this.pages[e >>> PAGE_SHIFT]![(e & PAGE_MASK) * STRIDE + field] = v;
  }

  /** A new entry id, with room for its fields (their values are unspecified until set). */
  append(): number {
    const e = this.n;
    const p = e >>> PAGE_SHIFT;
    if (p === this.pages.length) {
      this.pages.push(new Int32Array(PAGE_SIZE * STRIDE));
      this.held += PAGE_SIZE * STRIDE * 4;
    } else if (p === 0 && e * STRIDE === this.pages[0]!.length) {
      const bigger = new Int32Array(this.pages[0]!.length * 2);
      bigger.set(this.pages[0]!);
      this.held += this.pages[0]!.byteLength;
      this.pages[0] = bigger;
    }
    this.n = e + 1;
    return e;
  }
}

/** What key lookups need: the arena and the entry table. */
export interface EntryStore {
  readonly arena: Arena;
  readonly table: EntryTable;
}

const TWO_24 = 0x100_0000;

/** The seq of the trailer at t: fixed64 LE of seq * 256 + kind, so bytes 1..7 hold the seq. */
export function trailerSeq(buf: Uint8Array, t: number): number {
  const lo = (buf[t + 1]! | (buf[t + 2]! << 8) | (buf[t + 3]! << 16)) >>> 0;
  const hi = (buf[t + 4]! | (buf[t + 5]! << 8) | (buf[t + 6]! << 16) | (buf[t + 7]! << 24)) >>> 0;
  return hi * TWO_24 + lo;
}

/**
 * Order-preserving 32-bit prefix: the 4 bytes at off (zero padded past len), big-endian.
 * A smaller prefix means a smaller key; equal prefixes need a full compare.
 */
export function keyPrefix(buf: Uint8Array, off: number, len: number): number {
  let p = 0;
  for (let i = 0; i < 4; i++) p = (p << 8) | (i < len ? buf[off + i]! : 0);
  return p >>> 0;
}

/**
 * Writes the 8-byte prefix of group g's user key from byte `from` on into out[at], out[at + 1]
 * (two keyPrefix words: bytes from..from+3, from+4..from+7). REQUIRES: the key is >= from bytes long.
 */
export function putGroupPrefix(src: EntryStore, g: number, from: number, out: Uint32Array, at: number): void {
  const addr = src.table.get(g, E_ADDR);
  const buf = src.arena.chunk(addr);
  const off = src.arena.offset(addr) + from;
  const len = src.table.get(g, E_KLEN) - from;
  out[at] = keyPrefix(buf, off, len);
  out[at + 1] = keyPrefix(buf, off + 4, len - 4);
}

/** User-key order of groups a and b, whose first `from` bytes are known equal. */
export function compareGroups(src: EntryStore, a: number, b: number, from: number): number {
  const arena = src.arena;
  const t = src.table;
  const aa = t.get(a, E_ADDR);
  const ba = t.get(b, E_ADDR);
  const ao = arena.offset(aa);
  const bo = arena.offset(ba);
  return compareByteRanges(
    arena.chunk(aa), ao + from, ao + t.get(a, E_KLEN),
    arena.chunk(ba), bo + from, bo + t.get(b, E_KLEN),
  );
}

/** Group g's user key against key[0, keyEnd), whose first `from` bytes are known equal. */
export function compareGroupToKey(src: EntryStore, g: number, key: Uint8Array, keyEnd: number, from: number): number {
  const addr = src.table.get(g, E_ADDR);
  const off = src.arena.offset(addr);
  return compareByteRanges(src.arena.chunk(addr), off + from, off + src.table.get(g, E_KLEN), key, from, keyEnd);
}
