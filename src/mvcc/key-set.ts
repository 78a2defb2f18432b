/**
 * KeySet: the unique keys one commit writes, sorted, packed for the conflict tracker, and the ranges
 * its range deletes write (a RangeSet, range-set.ts; undefined when it has none).
 * Layout: ONE byte arena holding the keys back to back, a Uint32Array of offsets (key i is
 * arena[offsets[i], offsets[i + 1])) and a Float64Array of their 52-bit hashes (keyHash52). No JS
 * object per key: a 1,000,000-key commit is three typed arrays, ~(key length + 12) bytes per key,
 * where an array of Uint8Array slices cost ~150 bytes per key (an ArrayBuffer each).
 *
 * Two ways in:
 * - KeySetBuilder: append keys in nondecreasing order (a transaction's write buffer yields them sorted,
 *   newest version first); a key equal to the previous one is skipped, compared in the arena, never
 *   sliced. finish() once.
 * - keySetOfOps: from encoded operations (plain writes, any order): decode offsets, sort an index
 *   array, copy once into one ArrayBuffer shared by all three arrays. A one-key batch (a put) skips
 *   the sort. A range delete is not a key: it goes to the RangeSet (its start alone would let a
 *   write inside the range slip past the conflict check).
 * Contract: a KeySet is immutable once built; key(i) is a view into its arena (valid as long as the
 * set, never to be written). Main thread or worker.
 * Not here: what the hashes are checked against (conflict-tracker.ts, seq-hash-table.ts).
 */
import { compareByteRanges, copyBytes } from '../base/bytes.js';
import { walkOpRanges } from '../wal/write-batch.js';
import { murmurHash3x86_32 } from '../base/murmur3.js';
import { ValueKind } from '../base/internal-key.js';
import { RangeSet } from './range-set.js';

const TWO_20 = 0x10_0000;

/**
 * 52-bit hash of data[start, end) (two MurmurHash3 lanes; exact in a double). A false conflict needs
 * two recent keys to collide in 52 bits: see conflict-tracker.ts for the odds.
 */
export function keyHash52(data: Uint8Array, start = 0, end = data.length): number {
  const a = murmurHash3x86_32(data, start, end, 0x9747b28c) >>> 0;
  const b = murmurHash3x86_32(data, start, end, 0x5bd1e995) >>> 0;
  return a * TWO_20 + (b & 0xf_ffff);
}

export class KeySet {
  /**
   * @internal Use KeySetBuilder or keySetOfOps. `offsets` has count + 1 entries in use, `hashes`
   * count; both may be longer (views over a larger buffer are not copied). `bytes` is what the
   * backing stores hold, plus the ranges' bytes.
   */
  constructor(
    private readonly arena: Uint8Array,
    private readonly offsets: Uint32Array,
    /** hashes[i] = keyHash52(key(i)), for i < count. Read-only. */
    readonly hashes: Float64Array,
    readonly count: number,
    readonly bytes: number,
    /** The ranges the commit's range deletes write (every key in each). */
    readonly ranges: RangeSet | undefined = undefined,
  ) {}

  /** Key i (0 <= i < count) as a view into the arena: copy it to keep it past the set. */
  key(i: number): Uint8Array {
    return this.arena.subarray(this.offsets[i]!, this.offsets[i + 1]!);
  }

  /** Compares key i with `key` (compareBytes order) without a view. */
  compareAt(i: number, key: Uint8Array): number {
    return compareByteRanges(this.arena, this.offsets[i]!, this.offsets[i + 1]!, key, 0, key.length);
  }

  /** The first index whose key is >= `key` (count when none). */
  lowerBound(key: Uint8Array): number {
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareAt(mid, key) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
}

export const EMPTY_KEY_SET = new KeySet(new Uint8Array(0), new Uint32Array(1), new Float64Array(0), 0, 0);

/** Accumulates sorted keys into growable typed arrays (see header); finish() once. */
export class KeySetBuilder {
  private arena: Uint8Array;
  private used = 0;
  private offsets: Uint32Array;
  private hashes: Float64Array;
  private n = 0;

  /** @param expectedKeys a hint (an upper bound saves regrowing, e.g. the write buffer's entry count). */
  constructor(expectedKeys = 16, expectedBytes = expectedKeys * 16) {
    this.offsets = new Uint32Array(Math.max(2, expectedKeys + 1));
    this.hashes = new Float64Array(Math.max(1, expectedKeys));
    this.arena = new Uint8Array(Math.max(64, expectedBytes));
  }

  get count(): number { return this.n; }

  /**
   * Appends `key` unless it equals the last key appended; returns true when appended.
   * REQUIRES: key >= the last key appended (compareBytes order). The key is copied.
   */
  append(key: Uint8Array): boolean {
    const n = this.n;
    const klen = key.length;
    if (n > 0) {
      const start = this.offsets[n - 1]!;
      if (this.used - start === klen && compareByteRanges(this.arena, start, this.used, key, 0, klen) === 0) return false;
    }
    if (this.used + klen > this.arena.length) this.arena = grow(this.arena, this.used, this.used + klen);
    if (n + 2 > this.offsets.length) {
      const o = new Uint32Array(this.offsets.length * 2);
      o.set(this.offsets);
      this.offsets = o;
    }
    if (n + 1 > this.hashes.length) {
      const h = new Float64Array(this.hashes.length * 2);
      h.set(this.hashes);
      this.hashes = h;
    }
    this.arena.set(key, this.used);
    this.hashes[n] = keyHash52(key);
    this.offsets[n] = this.used;
    this.used += klen;
    this.offsets[n + 1] = this.used;
    this.n = n + 1;
    return true;
  }

  /**
   * The set. Arrays more than 1/8 oversized are copied down to size (the tracker may keep the set
   * a long time); otherwise they are handed over as they are. The builder is spent afterwards.
   */
  finish(ranges?: RangeSet): KeySet {
    const n = this.n;
    const arena = tight(this.arena, this.used);
    const offsets = tight(this.offsets, n + 1);
    const hashes = tight(this.hashes, n);
    const bytes = arena.buffer.byteLength + offsets.buffer.byteLength + hashes.buffer.byteLength + (ranges?.bytes ?? 0);
    return new KeySet(arena, offsets, hashes, n, bytes, ranges);
  }
}

function grow(a: Uint8Array, used: number, need: number): Uint8Array {
  let cap = a.length * 2;
  while (cap < need) cap *= 2;
  const next = new Uint8Array(cap);
  next.set(a.subarray(0, used));
  return next;
}

function tight<T extends Uint8Array | Uint32Array | Float64Array>(a: T, length: number): T {
  return a.length - length > (length >>> 3) + 8 ? a.slice(0, length) as T : a;
}

/**
 * The unique keys of `count` encoded operations (WriteBatch wire format, src/wal/FORMAT.md), sorted.
 * REQUIRES: the operations are well formed (they were validated when encoded); `fail` throws.
 */
export function keySetOfOps(ops: Uint8Array, count: number, fail: (offset: number, detail: string) => never): KeySet {
  if (count === 0) return EMPTY_KEY_SET;
  // starts/ends of each point key inside ops, in batch order; range deletes aside
  const bounds = new Uint32Array(2 * count);
  let n = 0;
  let ranges: [Uint8Array, Uint8Array][] | undefined;
  walkOpRanges(ops, 0, ops.length, count, (kind, keyStart, keyEnd, valueStart, valueEnd) => {
    if (kind === ValueKind.RangeDelete) {
      (ranges ??= []).push([copyBytes(ops.subarray(keyStart, keyEnd)), copyBytes(ops.subarray(valueStart, valueEnd))]);
      return;
    }
    bounds[2 * n] = keyStart;
    bounds[2 * n + 1] = keyEnd;
    n++;
  }, fail);
  const rangeSet = ranges && RangeSet.of(ranges);
  const cmp = (a: number, b: number): number =>
    compareByteRanges(ops, bounds[2 * a]!, bounds[2 * a + 1]!, ops, bounds[2 * b]!, bounds[2 * b + 1]!);
  // batch order, unless the batch is not already sorted (a sorted or one-key batch skips the sort)
  let order: Uint32Array | undefined;
  for (let j = 1; j < n; j++) {
    if (cmp(j - 1, j) > 0) {
      order = new Uint32Array(n);
      for (let k = 0; k < n; k++) order[k] = k;
      order.sort(cmp);
      break;
    }
  }
  const at = (j: number): number => (order ? order[j]! : j);
  // unique keys and their total length
  let unique = 0, keyBytes = 0;
  for (let j = 0; j < n; j++) {
    if (j > 0 && cmp(at(j - 1), at(j)) === 0) continue;
    unique++;
    keyBytes += bounds[2 * at(j) + 1]! - bounds[2 * at(j)]!;
  }
  // one backing store: hashes (8-aligned) | offsets | key bytes
  const offsetsAt = 8 * unique;
  const arenaAt = offsetsAt + 4 * (unique + 1);
  const buf = new ArrayBuffer(arenaAt + keyBytes);
  const hashes = new Float64Array(buf, 0, unique);
  const offsets = new Uint32Array(buf, offsetsAt, unique + 1);
  const arena = new Uint8Array(buf, arenaAt, keyBytes);
  let u = 0, used = 0;
  for (let j = 0; j < n; j++) {
    if (j > 0 && cmp(at(j - 1), at(j)) === 0) continue;
    const s = bounds[2 * at(j)]!, e = bounds[2 * at(j) + 1]!;
    arena.set(ops.subarray(s, e), used);
    hashes[u] = keyHash52(ops, s, e);
    offsets[u] = used;
    used += e - s;
    u++;
  }
  offsets[u] = used;
  return new KeySet(arena, offsets, hashes, unique, buf.byteLength + (rangeSet?.bytes ?? 0), rangeSet);
}
