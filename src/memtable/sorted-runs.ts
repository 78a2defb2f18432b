/**
 * Sorted runs of key groups: the memtable's ordered index, built lazily from its unsorted tail.
 * A key group is one distinct user key (entries.ts); a run is an immutable array of group ids in
 * ascending user-key order, with an 8-byte prefix of each key beside it (two big-endian words) so
 * that most comparisons (merging, binary search, iterating) never touch the arena.
 *
 * Prefix depth: every key in the memtable starts with the same `depth` bytes (memtable.ts tracks
 * that common prefix), so the prefix is taken at byte `depth`, not 0: keys like "user:000123" would
 * otherwise all share their first 4 bytes and every comparison would fall through to the arena.
 * When the depth shrinks, rebase() recomputes the prefixes; a RunSet records the depth it uses.
 * Eight bytes, not four: keys made of digits carry ~3.3 bits a byte, and 4 of them tie too often.
 * Fences (every 64th first word, a small array that stays in cache) narrow a search before it
 * touches the run itself: ~1.5x faster seeks at 1M keys.
 *
 * Runs hold disjoint key sets (a user key has exactly one group), so merging two runs never meets
 * equal keys. pushRun() keeps the run list geometric (each run more than twice the next one) up to
 * MAX_MERGE, so an entry is merged at most ~log2(MAX_MERGE / batch) + 1 times, and an iterator
 * merges ~6 runs plus one per MAX_MERGE groups.
 * Runs and RunSets are never mutated: an iterator may keep an old set while the memtable moves on.
 *
 * Batch sort: an MSD radix-style pass per 4 bytes. Each key's next 4 bytes, in base 257 (byte + 1,
 * 0 past the end, so a shorter key sorts first), times 2^20 plus the key's index, is one exact
 * float64 (257^4 * 2^20 < 2^53); the native Float64Array sort orders them and ties recurse on the
 * following 4 bytes. REQUIRES: batches below 2^20 groups.
 * Not here: which groups are pending, when to sort, the common prefix itself (memtable.ts).
 */
import { compareByteRanges } from '../base/bytes.js';
import { InternalError } from '../errors.js';
import { compareGroups, compareGroupToKey, E_ADDR, E_KLEN, putGroupPrefix, type EntryStore } from './entries.js';

export interface Run {
  readonly ids: Int32Array;
  /** For ids[i]: pfx[2i], pfx[2i + 1] = putGroupPrefix at RunSet.depth. */
  readonly pfx: Uint32Array;
  /**
   * pfx[2i] of every FENCE-th group (i = 0, FENCE, 2 FENCE...): small enough to stay in cache, so
   * a search touches a few cache lines of the run instead of one per halving.
   */
  readonly fence: Uint32Array;
}

const FENCE_SHIFT = 6;
const FENCE = 1 << FENCE_SHIFT;

function makeRun(ids: Int32Array, pfx: Uint32Array): Run {
  const fence = new Uint32Array((ids.length + FENCE - 1) >>> FENCE_SHIFT);
  for (let b = 0; b < fence.length; b++) fence[b] = pfx[2 * (b << FENCE_SHIFT)]!;
  return { ids, pfx, fence };
}

export interface RunSet {
  /** Largest (oldest) first. */
  readonly runs: readonly Run[];
  /** Every key in these runs starts with the memtable's common prefix of this many bytes. */
  readonly depth: number;
  /** Bytes held by the runs' arrays. */
  readonly bytes: number;
}

export const MAX_BATCH = 1 << 20;
/** Runs stop merging at 2^18 groups (a few ms to merge); past that the list grows by one per 2^18. */
const MAX_MERGE = 1 << 18;
const INDEX_SCALE = 1 << 20;
const SMALL_SORT = 16;

export function emptyRunSet(depth: number): RunSet {
  return { runs: [], depth, bytes: 0 };
}

/** Sorts group ids (an array the caller hands over) into a run with prefixes at `depth`. */
export function sortBatch(src: EntryStore, ids: Int32Array, depth: number): Run {
  const n = ids.length;
  if (n > MAX_BATCH) throw new InternalError(`memtable batch of ${n} groups exceeds ${MAX_BATCH}`);
  // Prefixes are read in creation order, which is arena order (sequential), then permuted.
  const raw = prefixesOf(src, ids, depth);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  sortRange(src, ids, perm, 0, n, depth, new Float64Array(n));
  const sorted = new Int32Array(n);
  const pfx = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const j = perm[i]!;
    sorted[i] = ids[j]!;
    pfx[2 * i] = raw[2 * j]!;
    pfx[2 * i + 1] = raw[2 * j + 1]!;
  }
  return makeRun(sorted, pfx);
}

function prefixesOf(src: EntryStore, ids: Int32Array, depth: number): Uint32Array {
  const pfx = new Uint32Array(ids.length * 2);
  for (let i = 0; i < ids.length; i++) putGroupPrefix(src, ids[i]!, depth, pfx, 2 * i);
  return pfx;
}

function prefix257(src: EntryStore, g: number, depth: number): number {
  const addr = src.table.get(g, E_ADDR);
  const buf = src.arena.chunk(addr);
  const off = src.arena.offset(addr) + depth;
  const left = src.table.get(g, E_KLEN) - depth;
  let p = 0;
  for (let i = 0; i < 4; i++) p = p * 257 + (i < left ? buf[off + i]! + 1 : 0);
  return p;
}

/** Sorts perm[a, b) (positions in ids) by key; the keys there share their first `depth` bytes. */
function sortRange(
  src: EntryStore, ids: Int32Array, perm: Int32Array, a: number, b: number, depth: number, scratch: Float64Array,
): void {
  const n = b - a;
  if (n < SMALL_SORT) {
    insertionSort(src, ids, perm, a, b, depth);
    return;
  }
  const keys = scratch.subarray(0, n);
  const orig = perm.slice(a, b);
  for (let j = 0; j < n; j++) keys[j] = prefix257(src, ids[orig[j]!]!, depth) * INDEX_SCALE + j;
  keys.sort();
  const ties: number[] = [];
  let start = 0;
  let startHi = Math.floor(keys[0]! / INDEX_SCALE);
  for (let j = 0; j < n; j++) {
    const k = keys[j]!;
    const hi = Math.floor(k / INDEX_SCALE);
    perm[a + j] = orig[k - hi * INDEX_SCALE]!;
    if (hi !== startHi) {
      if (j - start > 1) ties.push(a + start, a + j);
      start = j;
      startHi = hi;
    }
  }
  if (n - start > 1) ties.push(a + start, a + n);
  // Tied keys share 4 more bytes and are at least depth + 4 long (a shorter key's 0 digit would
  // differ); only identical keys could tie past their end, and groups never share a key.
  for (let t = 0; t < ties.length; t += 2) {
    const ta = ties[t]!;
    if (src.table.get(ids[perm[ta]!]!, E_KLEN) < depth + 4) {
      throw new InternalError('memtable: two key groups hold one key');
    }
    sortRange(src, ids, perm, ta, ties[t + 1]!, depth + 4, scratch);
  }
}

function insertionSort(src: EntryStore, ids: Int32Array, perm: Int32Array, a: number, b: number, depth: number): void {
  for (let i = a + 1; i < b; i++) {
    const p = perm[i]!;
    const g = ids[p]!;
    let j = i - 1;
    for (; j >= a && compareGroups(src, ids[perm[j]!]!, g, depth) > 0; j--) perm[j + 1] = perm[j]!;
    perm[j + 1] = p;
  }
}

/** Merges two runs (disjoint keys, prefixes at depth) into a new run. */
function mergeRuns(src: EntryStore, x: Run, y: Run, depth: number): Run {
  const xi = x.ids, xp = x.pfx, yi = y.ids, yp = y.pfx;
  const nx = xi.length, ny = yi.length;
  const ids = new Int32Array(nx + ny);
  const pfx = new Uint32Array(2 * (nx + ny));
  let i = 0, j = 0, k = 0;
  while (i < nx && j < ny) {
    const xh = xp[2 * i]!, yh = yp[2 * j]!;
    const xl = xp[2 * i + 1]!, yl = yp[2 * j + 1]!;
    if (xh < yh || (xh === yh && (xl < yl || (xl === yl && compareGroups(src, xi[i]!, yi[j]!, depth) < 0)))) {
      ids[k] = xi[i]!; pfx[2 * k] = xh; pfx[2 * k + 1] = xl; i++;
    } else {
      ids[k] = yi[j]!; pfx[2 * k] = yh; pfx[2 * k + 1] = yl; j++;
    }
    k++;
  }
  if (i < nx) { ids.set(xi.subarray(i), k); pfx.set(xp.subarray(2 * i), 2 * k); }
  if (j < ny) { ids.set(yi.subarray(j), k); pfx.set(yp.subarray(2 * j), 2 * k); }
  return makeRun(ids, pfx);
}

/**
 * A new set with the run added, merging the smallest runs while a run is not > 2x the next, up to
 * MAX_MERGE groups: a bigger merge would stall the adding thread for tens of ms.
 */
export function pushRun(src: EntryStore, set: RunSet, run: Run): RunSet {
  const runs = set.runs.slice();
  let r = run;
  for (;;) {
    const last = runs[runs.length - 1];
    if (last === undefined || last.ids.length > 2 * r.ids.length || last.ids.length + r.ids.length > MAX_MERGE) break;
    runs.pop();
    r = mergeRuns(src, last, r, set.depth);
  }
  runs.push(r);
  let bytes = 0;
  for (const x of runs) bytes += x.ids.byteLength + x.pfx.byteLength + x.fence.byteLength;
  return { runs, depth: set.depth, bytes };
}

/** The same runs with prefixes recomputed at a smaller depth (the order is unchanged). */
export function rebase(src: EntryStore, set: RunSet, depth: number): RunSet {
  const runs = set.runs.map((r) => makeRun(r.ids, prefixesOf(src, r.ids, depth)));
  return { runs, depth, bytes: set.bytes };
}

/**
 * How many groups of the run have a user key below key[0, keyEnd) (orEqual: at or below).
 * REQUIRES: key starts with the common prefix (depth bytes); kHi, kLo: its 8-byte prefix from
 * there (keyPrefix at depth and depth + 4).
 */
export function rankOf(
  src: EntryStore, run: Run, depth: number, key: Uint8Array, keyEnd: number, kHi: number, kLo: number, orEqual: boolean,
): number {
  const ids = run.ids;
  const pfx = run.pfx;
  const fence = run.fence;
  // The fences bound the answer: a fence word below kHi means that group is below the key, one
  // above kHi means it is above; equal words decide nothing (the full search below does).
  let below = 0;
  for (let top = fence.length; below < top;) {
    const m = (below + top) >>> 1;
    if (fence[m]! < kHi) below = m + 1; else top = m;
  }
  let notAbove = below;
  for (let top = fence.length; notAbove < top;) {
    const m = (notAbove + top) >>> 1;
    if (fence[m]! <= kHi) notAbove = m + 1; else top = m;
  }
  let lo = below > 0 ? ((below - 1) << FENCE_SHIFT) + 1 : 0;
  let hi = notAbove < fence.length ? notAbove << FENCE_SHIFT : ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const ph = pfx[2 * mid]!;
    const pl = pfx[2 * mid + 1]!;
    const c = ph !== kHi ? ph - kHi : pl !== kLo ? pl - kLo : compareGroupToKey(src, ids[mid]!, key, keyEnd, depth);
    if (c < 0 || (orEqual && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where key[0, keyEnd) falls against a common prefix `base[0, depth)`: <0 below every key in the
 * memtable, >0 above every key, 0 when it starts with the prefix (so rankOf applies).
 */
export function compareToCommonPrefix(key: Uint8Array, keyEnd: number, base: Uint8Array, depth: number): number {
  return compareByteRanges(key, 0, Math.min(keyEnd, depth), base, 0, depth);
}
