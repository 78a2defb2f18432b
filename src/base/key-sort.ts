/**
 * sortByKeyBytes: sorts items (a Uint32Array of ids) by the byte strings they name, bytewise, stably.
 * For the sorted views built over a large batch or a transaction's write log (memtable/flushable-batch.ts,
 * mvcc/write-log.ts), where a comparator sort of 1,000,000 keys written out of order blocked the main
 * thread for 0.6-1 s.
 * Method (the memtable's batch sort, memtable/sorted-runs.ts, generalised past its 2^20 items): MSD radix
 * on 3-byte digits, each sorted by the native Float64Array sort. An item's next 3 key bytes, in base 257
 * (byte + 1; 0 past the key's end, so a shorter key sorts first), times 2^28 plus its position in the
 * range, is one exact float64 (257^3 * 2^28 < 2^53); the position makes equal digits keep their order
 * (stable), and runs of equal digits with bytes still to come recurse on the next 3 bytes. Short runs
 * finish with an insertion sort. Temporary memory: 12 bytes per item.
 * REQUIRES: fewer than MAX_KEY_SORT items. Pure; main thread or worker.
 */
import { compareByteRanges } from './bytes.js';
import { InternalError } from '../errors.js';

/** Where an item's key is: bytes[start(item), end), end set by that call (one decode per item). */
export interface KeyBounds {
  readonly bytes: Uint8Array;
  start(item: number): number;
  end: number;
}

const POSITION = 2 ** 28;
export const MAX_KEY_SORT = POSITION;
/** Below this many items a run is insertion-sorted (a float sort's setup costs more). */
const SMALL = 16;
const EMPTY_DIGIT = 0;

/** Sorts `items` in place by their keys; items with equal keys keep their relative order. */
export function sortByKeyBytes(items: Uint32Array, keys: KeyBounds): void {
  const n = items.length;
  if (n >= MAX_KEY_SORT) throw new InternalError(`sortByKeyBytes: ${n} items (at most ${MAX_KEY_SORT - 1})`);
  if (n < 2) return;
  const work = { items, keys, digits: new Float64Array(n), aux: new Uint32Array(n) };
  sortRange(work, 0, n, 0);
}

interface Work {
  items: Uint32Array;
  keys: KeyBounds;
  digits: Float64Array;
  aux: Uint32Array;
}

function sortRange(w: Work, lo: number, hi: number, depth: number): void {
  if (hi - lo <= SMALL) { insertionSort(w, lo, hi, depth); return; }
  const { items, keys, digits, aux } = w;
  const bytes = keys.bytes;
  for (let i = lo; i < hi; i++) {
    const it = items[i]!;
    const s = keys.start(it) + depth;
    const left = keys.end - s;
    const d0 = left > 0 ? bytes[s]! + 1 : 0;
    const d1 = left > 1 ? bytes[s + 1]! + 1 : 0;
    const d2 = left > 2 ? bytes[s + 2]! + 1 : 0;
    digits[i] = ((d0 * 257 + d1) * 257 + d2) * POSITION + (i - lo);
  }
  const d = digits.subarray(lo, hi);
  d.sort();
  aux.set(items.subarray(lo, hi), lo);
  for (let j = lo; j < hi; j++) items[j] = aux[lo + (digits[j]! % POSITION)]!;
  // Runs of one digit recurse on the next 3 bytes, unless the digit says the keys ended (all equal).
  let runStart = lo;
  let runDigit = Math.floor(digits[lo]! / POSITION);
  for (let j = lo + 1; j <= hi; j++) {
    const dj = j < hi ? Math.floor(digits[j]! / POSITION) : -1;
    if (dj === runDigit) continue;
    if (j - runStart > 1 && runDigit % 257 !== EMPTY_DIGIT) sortRange(w, runStart, j, depth + 3);
    runStart = j;
    runDigit = dj;
  }
}

/** Stable insertion sort of items[lo, hi), whose keys agree on their first `depth` bytes. */
function insertionSort(w: Work, lo: number, hi: number, depth: number): void {
  const { items, keys } = w;
  const bytes = keys.bytes;
  for (let i = lo + 1; i < hi; i++) {
    const it = items[i]!;
    const s = keys.start(it) + depth, e = keys.end;
    let j = i - 1;
    while (j >= lo) {
      const other = items[j]!;
      const os = keys.start(other) + depth;
      if (compareByteRanges(bytes, os, keys.end, bytes, s, e) <= 0) break;
      items[j + 1] = other;
      j--;
    }
    items[j + 1] = it;
  }
}
