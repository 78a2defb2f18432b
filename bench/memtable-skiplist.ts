/**
 * The baseline design for bench/memtable.ts: a LevelDB-style skiplist over typed arrays, records in
 * the same Arena as the real memtable (userKey | trailer | value). Kept here, not in src/, because
 * it lost the measurement (bench/RESULTS-memtable.md); it exists so the comparison can be rerun.
 * Height <= 12, branching 4 (LevelDB's constants); each node is one record (address, lengths, links)
 * in a single growable Int32Array, so a search step costs one cache miss there plus one in the arena.
 * Contract: add/get/iterate like src/memtable/memtable.ts (no prev, no concurrent-add subtleties).
 */
import { compareByteRanges } from '../src/base/bytes.js';
import { TRAILER_SIZE, writeTrailer } from '../src/base/internal-key.js';
import { Arena } from '../src/memtable/arena.js';

const MAX_HEIGHT = 12;
const HEAD = 0;
const TWO_24 = 0x100_0000;
/** Node layout in `nodes` (a node is named by its offset): addr, klen, vlen, then its links. */
const N_ADDR = 0;
const N_KLEN = 1;
const N_VLEN = 2;
const N_LINKS = 3;

export class SkipListMemTable {
  readonly arena = new Arena();
  private nodes: Int32Array = new Int32Array(4096).fill(-1);
  private used = N_LINKS + MAX_HEIGHT;
  private count = 0;
  private height = 1;
  private rnd = 0x2545f491;
  private readonly prevs = new Int32Array(MAX_HEIGHT);
  private lastNode = -1;

  get entries(): number {
    return this.count;
  }

  add(seq: number, kind: number, userKey: Uint8Array, value: Uint8Array): void {
    const klen = userKey.length;
    const addr = this.arena.alloc(klen + TRAILER_SIZE + value.length);
    const buf = this.arena.chunk(addr);
    const off = this.arena.offset(addr);
    buf.set(userKey, off);
    writeTrailer(buf, off + klen, seq, kind);
    buf.set(value, off + klen + TRAILER_SIZE);
    this.findGreaterOrEqual(userKey, seq, kind, true);
    const h = this.randomHeight();
    if (h > this.height) {
      for (let i = this.height; i < h; i++) this.prevs[i] = HEAD;
      this.height = h;
    }
    const n = this.used;
    if (n + N_LINKS + h > this.nodes.length) {
      const bigger = new Int32Array(this.nodes.length * 2).fill(-1);
      bigger.set(this.nodes);
      this.nodes = bigger;
    }
    const nodes = this.nodes;
    this.used += N_LINKS + h;
    this.count++;
    nodes[n + N_ADDR] = addr;
    nodes[n + N_KLEN] = klen;
    nodes[n + N_VLEN] = value.length;
    for (let i = 0; i < h; i++) {
      const p = this.prevs[i]! + N_LINKS + i;
      nodes[n + N_LINKS + i] = nodes[p]!;
      nodes[p] = n;
    }
  }

  /** Same contract as MemTable.get: -1 or the kind; the value through lastValue(). */
  get(userKey: Uint8Array, snapshotSeq: number): number {
    const n = this.findGreaterOrEqual(userKey, snapshotSeq, 0xff, false);
    if (n < 0 || this.nodes[n + N_KLEN] !== userKey.length) return -1;
    const addr = this.nodes[n + N_ADDR]!;
    const buf = this.arena.chunk(addr);
    const off = this.arena.offset(addr);
    if (compareByteRanges(buf, off, off + userKey.length, userKey, 0, userKey.length) !== 0) return -1;
    this.lastNode = n;
    return buf[off + userKey.length]!;
  }

  lastValue(): Uint8Array {
    return this.valueOf(this.lastNode);
  }

  approximateMemoryUsage(): number {
    return this.arena.bytesHeld + this.nodes.byteLength;
  }

  /** Level-0 walk: calls fn(key view, value view) for every entry in order. */
  forEach(fn: (key: Uint8Array, value: Uint8Array) => void): void {
    const nodes = this.nodes;
    for (let n = nodes[HEAD + N_LINKS]!; n >= 0; n = nodes[n + N_LINKS]!) {
      const addr = nodes[n + N_ADDR]!;
      const off = this.arena.offset(addr);
      fn(this.arena.chunk(addr).subarray(off, off + nodes[n + N_KLEN]! + TRAILER_SIZE), this.valueOf(n));
    }
  }

  /** The first node whose internal key is >= (key, seq, kind); records predecessors when asked. */
  private findGreaterOrEqual(key: Uint8Array, seq: number, kind: number, record: boolean): number {
    const nodes = this.nodes;
    let x = HEAD;
    let level = this.height - 1;
    for (;;) {
      const next = nodes[x + N_LINKS + level]!;
      if (next >= 0 && this.compareNode(next, key, seq, kind) < 0) {
        x = next;
      } else {
        if (record) this.prevs[level] = x;
        if (level === 0) return next;
        level--;
      }
    }
  }

  private compareNode(n: number, key: Uint8Array, seq: number, kind: number): number {
    const addr = this.nodes[n + N_ADDR]!;
    const buf = this.arena.chunk(addr);
    const off = this.arena.offset(addr);
    const klen = this.nodes[n + N_KLEN]!;
    const c = compareByteRanges(buf, off, off + klen, key, 0, key.length);
    if (c !== 0) return c;
    const t = off + klen;
    const lo = (buf[t + 1]! | (buf[t + 2]! << 8) | (buf[t + 3]! << 16)) >>> 0;
    const hi = (buf[t + 4]! | (buf[t + 5]! << 8) | (buf[t + 6]! << 16) | (buf[t + 7]! << 24)) >>> 0;
    const s = hi * TWO_24 + lo;
    if (s !== seq) return s > seq ? -1 : 1;
    return kind - buf[t]!;
  }

  private valueOf(n: number): Uint8Array {
    const addr = this.nodes[n + N_ADDR]!;
    const start = this.arena.offset(addr) + this.nodes[n + N_KLEN]! + TRAILER_SIZE;
    return this.arena.chunk(addr).subarray(start, start + this.nodes[n + N_VLEN]!);
  }

  private randomHeight(): number {
    let h = 1;
    for (;;) {
      let x = this.rnd;
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      this.rnd = x;
      if (h >= MAX_HEIGHT || (x & 3) !== 0) return h;
      h++;
    }
  }
}
