/**
 * Internal keys: user key + 8-byte trailer, the LevelDB layout the engine stores in memtables and tables.
 * Trailer = fixed64 little-endian of (seq * 256 + kind); seq is 56-bit on disk (we use < 2^53).
 * Order: user key ascending (bytewise), then trailer descending, so the newest version of a key
 * comes first and a seek to (userKey, snapshotSeq, KIND_FOR_SEEK) lands on the newest visible one.
 * Format: sstable/FORMAT.md "Internal keys" (the engine's use of the opaque table keys).
 */
import { compareByteRanges } from './bytes.js';
import { getFixed32 } from './coding.js';
import type { Comparator } from './comparator.js';

export const TRAILER_SIZE = 8;

export const ValueKind = {
  Delete: 0,
  Put: 1,
  /** Reserved for range deletions (RocksDB's kTypeRangeDeletion); stored in the range-del block. */
  RangeDelete: 0x0f,
} as const;
export type ValueKindValue = (typeof ValueKind)[keyof typeof ValueKind];

/** Sorts before every real kind at the same sequence (trailer descending), see header. */
export const KIND_FOR_SEEK = 0xff;

export const MAX_SEQUENCE = 2 ** 53 - 1;

const TWO_24 = 0x100_0000;

/** Encodes userKey + trailer into a new array. */
export function makeInternalKey(userKey: Uint8Array, seq: number, kind: number): Uint8Array {
  const out = new Uint8Array(userKey.length + TRAILER_SIZE);
  out.set(userKey, 0);
  writeTrailer(out, userKey.length, seq, kind);
  return out;
}

/** Writes the 8-byte trailer at off. */
export function writeTrailer(buf: Uint8Array, off: number, seq: number, kind: number): void {
  const lo = (((seq % TWO_24) << 8) | kind) >>> 0;
  const hi = Math.floor(seq / TWO_24);
  buf[off] = lo & 0xff;
  buf[off + 1] = (lo >>> 8) & 0xff;
  buf[off + 2] = (lo >>> 16) & 0xff;
  buf[off + 3] = (lo >>> 24) & 0xff;
  buf[off + 4] = hi & 0xff;
  buf[off + 5] = (hi >>> 8) & 0xff;
  buf[off + 6] = (hi >>> 16) & 0xff;
  buf[off + 7] = (hi >>> 24) & 0xff;
}

/** The user-key part as a view (no copy). REQUIRES: ikey.length >= 8. */
export function userKeyOf(ikey: Uint8Array): Uint8Array {
  return ikey.subarray(0, ikey.length - TRAILER_SIZE);
}

export function seqOf(ikey: Uint8Array): number {
  const n = ikey.length - TRAILER_SIZE;
  const lo = getFixed32(ikey, n);
  const hi = getFixed32(ikey, n + 4);
  return hi * TWO_24 + (lo >>> 8);
}

export function kindOf(ikey: Uint8Array): number {
  return ikey[ikey.length - TRAILER_SIZE]!;
}

/** True when the bytes can be an internal key (long enough for a trailer). */
export function isInternalKey(ikey: Uint8Array): boolean {
  return ikey.length >= TRAILER_SIZE;
}

/** Compares two internal keys: user key ascending, then (seq, kind) descending. */
export function compareInternalKeys(a: Uint8Array, b: Uint8Array): number {
  const ua = a.length - TRAILER_SIZE;
  const ub = b.length - TRAILER_SIZE;
  const c = compareByteRanges(a, 0, ua, b, 0, ub);
  if (c !== 0) return c;
  const ha = getFixed32(a, ua + 4);
  const hb = getFixed32(b, ub + 4);
  if (ha !== hb) return hb - ha;
  return getFixed32(b, ub) - getFixed32(a, ua);
}

/** The comparator tables use when they hold internal keys. Its name is stored in the properties. */
export const internalKeyComparator: Comparator = {
  name: 'strata.InternalKeyComparator',
  compare: compareInternalKeys,
};

/** For filters: the user-key part, as LevelDB's InternalFilterPolicy strips the trailer. */
export function internalKeyToUserKey(ikey: Uint8Array): Uint8Array {
  return ikey.subarray(0, Math.max(0, ikey.length - TRAILER_SIZE));
}
