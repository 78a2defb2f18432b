/**
 * How StrataLevel's clear() deletes a range: abstract-level's bounds (gt/gte/lt/lte, any of them
 * absent) turned into the half-open [start, end) of one range tombstone (DB.deleteRange), or the
 * answer that the range is empty, or that it must go key by key. Pure: the caller reads the one key
 * it needs (the largest key in the range, when there is no upper bound) and writes the batch.
 * Keys are byte strings ordered bytewise, so the successor of x is x + 0x00: gt x starts at x + 0x00
 * and lte x ends at x + 0x00.
 * Not here: `limit` and `snapshot` clears, which always go key by key (strata-level.ts).
 */
import { Buffer } from 'node:buffer';

type Bytes = Uint8Array;

export interface ClearBounds { gt?: Bytes; gte?: Bytes; lt?: Bytes; lte?: Bytes }

export type ClearPlan =
  /** Nothing to delete: an empty or inverted range, or no key at or above its start. */
  | { kind: 'none' }
  /** Delete key by key: a bound whose successor would be longer than maxKeySize. */
  | { kind: 'keys' }
  /** One batch: deleteRange(start, end) when start < end, plus delete(last) when `last` is set. */
  | { kind: 'range'; start: Bytes; end: Bytes; last?: Bytes };

const EMPTY = new Uint8Array(0);

function successor(x: Bytes): Bytes {
  const out = new Uint8Array(x.length + 1);
  out.set(x);
  return out;
}

/** True when the range has no upper bound, so planClear needs the largest key in the range. */
export function needsLargest(b: ClearBounds): boolean {
  return b.lte === undefined && b.lt === undefined;
}

/**
 * The plan for clearing `b` (gte over gt and lte over lt, as abstract-level ranks them).
 * `largest` is the largest key present at or above the lower bound, read by the caller when
 * needsLargest(b) (undefined: there is none).
 *
 * With no upper bound the end must lie past every key, but keys have no maximum: no fixed end key
 * covers them all (a run of 0xff bytes is covered only up to its own length, and one as long as
 * maxKeySize would be refused as too large, and would stretch the table's bounds in the MANIFEST
 * over every key ever written after it, pulling later files into compactions). So the end is one
 * byte past the largest key present (largest + 0x00), found with one reverse seek: the tombstone's
 * bounds are those of the data it deletes. A key above `largest` written after that seek is newer
 * than the read, which a key-by-key clear would have missed as well.
 * A successor one byte longer than maxKeySize would be refused: for the last key, the tombstone
 * stops at it and the batch deletes it as a point; for a gt bound, the clear goes key by key (a gt
 * bound as long as maxKeySize is a corner, not a case to make fast).
 */
export function planClear(b: ClearBounds, maxKeySize: number, largest?: Bytes): ClearPlan {
  let start: Bytes;
  if (b.gte !== undefined) start = b.gte;
  else if (b.gt !== undefined) {
    if (b.gt.length + 1 > maxKeySize) return { kind: 'keys' };
    start = successor(b.gt);
  } else start = EMPTY;

  if (b.lt !== undefined && b.lte === undefined) {
    return Buffer.compare(start, b.lt) < 0 ? { kind: 'range', start, end: b.lt } : { kind: 'none' };
  }
  const last = b.lte ?? largest;
  if (last === undefined) return { kind: 'none' };
  if (Buffer.compare(start, last) > 0) return { kind: 'none' };
  if (last.length + 1 <= maxKeySize) return { kind: 'range', start, end: successor(last) };
  return { kind: 'range', start, end: last, last };
}
