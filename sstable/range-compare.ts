/**
 * Comparing a key that lives inside a block's bytes without creating a view for it. A subarray costs
 * ~25 ns and a block seek compares a dozen times, so the two comparators the engine uses (bytewise
 * and internal-key) get range forms here; any other comparator falls back to views.
 * Contract: the returned function orders a[aStart, aEnd) against b[bStart, bEnd) exactly as
 * comparator.compare orders the two views. Pure, safe in a worker.
 */
import { compareByteRanges, compareBytes } from '../src/base/bytes.js';
import type { Comparator } from '../src/base/comparator.js';
import { getFixed32 } from '../src/base/coding.js';
import { compareInternalKeys, TRAILER_SIZE } from '../src/base/internal-key.js';

export type RangeCompare = (
  a: Uint8Array, aStart: number, aEnd: number,
  b: Uint8Array, bStart: number, bEnd: number,
) => number;

/**
 * Internal keys over ranges: user key ascending, then trailer descending. Ranges shorter than a
 * trailer (only in corrupt tables) compare bytewise, so they never read outside their range.
 */
function compareInternalRanges(
  a: Uint8Array, aStart: number, aEnd: number,
  b: Uint8Array, bStart: number, bEnd: number,
): number {
  if (aEnd - aStart < TRAILER_SIZE || bEnd - bStart < TRAILER_SIZE) {
    return compareByteRanges(a, aStart, aEnd, b, bStart, bEnd);
  }
  const ua = aEnd - TRAILER_SIZE;
  const ub = bEnd - TRAILER_SIZE;
  const c = compareByteRanges(a, aStart, ua, b, bStart, ub);
  if (c !== 0) return c;
  const ha = getFixed32(a, ua + 4);
  const hb = getFixed32(b, ub + 4);
  if (ha !== hb) return hb - ha;
  return getFixed32(b, ub) - getFixed32(a, ua);
}

export function rangeCompareFor(comparator: Comparator): RangeCompare {
  if (comparator.compare === compareBytes) return compareByteRanges;
  if (comparator.compare === compareInternalKeys) return compareInternalRanges;
  const cmp = comparator.compare;
  return (a, aStart, aEnd, b, bStart, bEnd) => cmp(a.subarray(aStart, aEnd), b.subarray(bStart, bEnd));
}
