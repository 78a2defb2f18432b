/**
 * GroupIndex: the memtable's hash index from a user key to its key group (entries.ts).
 * Open addressing with linear probing; each slot is a pair of int32 (group id or -1, key hash), so
 * a probe rejects a wrong group without touching its key, and a resize never rehashes a key.
 * The table is split into SHARDS power-of-two tables chosen by the hash's top bits: a resize
 * rebuilds one shard (1/64 of the keys), a pause of ~1 ms at 1M keys instead of ~100 ms, and a
 * shard is allocated on its first key, so a fresh memtable (one per transaction) costs little.
 * Load factor <= 3/4. Contract: insert() only keys that find() has just missed.
 * Not here: what a group holds (memtable.ts), ordering (sorted-runs.ts).
 */
import { equalBytes } from '../base/bytes.js';
import { murmurHash3x86_32 } from '../base/murmur3.js';
import { E_ADDR, E_KLEN, type EntryStore } from './entries.js';

const SHARD_SHIFT = 26;
const SHARDS = 1 << (32 - SHARD_SHIFT);
const INITIAL_SHARD_SLOTS = 8;
const SHORT_KEY = 32;
/** Stands for a shard not allocated yet: one empty slot, so a probe there misses at once. */
const NO_SLOTS = Int32Array.of(-1, -1);

export class GroupIndex {
  private readonly shards: Int32Array[] = new Array<Int32Array>(SHARDS).fill(NO_SLOTS);
  private readonly used = new Int32Array(SHARDS);
  private held = 0;

  /** Bytes of every allocated shard. */
  get bytesHeld(): number {
    return this.held;
  }

  /** The group whose user key equals key (h = hashBytes(key)), or -1. */
  find(src: EntryStore, key: Uint8Array, h: number): number {
    const slots = this.shards[h >>> SHARD_SHIFT]!;
    const mask = (slots.length >>> 1) - 1;
    const klen = key.length;
    const t = src.table;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const g = slots[2 * s]!;
      if (g < 0) return -1;
      if (slots[2 * s + 1] === h && t.get(g, E_KLEN) === klen && keyEquals(src, g, key)) return g;
    }
  }

  /** Adds group g under hash h. */
  insert(g: number, h: number): void {
    const shard = h >>> SHARD_SHIFT;
    if (this.shards[shard] === NO_SLOTS) {
      this.shards[shard] = new Int32Array(INITIAL_SHARD_SLOTS * 2).fill(-1);
      this.held += INITIAL_SHARD_SLOTS * 8;
    }
    place(this.shards[shard]!, g, h);
    const used = ++this.used[shard]!;
    if (used * 4 > (this.shards[shard]!.length >>> 1) * 3) this.grow(shard);
  }

  private grow(shard: number): void {
    const old = this.shards[shard]!;
    const slots = new Int32Array(old.length * 2).fill(-1);
    for (let i = 0; i < old.length; i += 2) {
      const g = old[i]!;
      if (g >= 0) place(slots, g, old[i + 1]!);
    }
    this.shards[shard] = slots;
    this.held += old.byteLength;
  }
}

function place(slots: Int32Array, g: number, h: number): void {
  const mask = (slots.length >>> 1) - 1;
  let s = h & mask;
  while (slots[2 * s]! >= 0) s = (s + 1) & mask;
  slots[2 * s] = g;
  slots[2 * s + 1] = h;
}

/** Group g's user key equals key. REQUIRES: equal lengths. */
function keyEquals(src: EntryStore, g: number, key: Uint8Array): boolean {
  const addr = src.table.get(g, E_ADDR);
  const buf = src.arena.chunk(addr);
  const off = src.arena.offset(addr);
  const n = key.length;
  if (n > SHORT_KEY) return equalBytes(buf.subarray(off, off + n), key);
  for (let i = 0; i < n; i++) if (buf[off + i] !== key[i]) return false;
  return true;
}

/**
 * murmur3_x86_32 (seed 0) of the key as a signed int32: a good spread for linear probing, 4 bytes per
 * round. Signed because the slots are an Int32Array and a probe compares the stored hash with `===`.
 */
export function hashBytes(key: Uint8Array): number {
  return murmurHash3x86_32(key, 0, key.length, 0) | 0;
}
