/**
 * A range tombstone: every version of every user key in [start, end) with a sequence number below
 * `seq` is deleted (RocksDB's DeleteRange). Half-open like RocksDB: `end` itself is not deleted.
 * Keys are user keys compared bytewise (the engine's comparator, src/base/bytes.ts).
 * Contract: start < end; seq is an integer in [1, 2^53). The arrays are owned by whoever made the
 * tombstone and are never changed once made (fragments share them). Safe in a worker.
 * Not here: splitting overlapping tombstones (fragmenter.ts), queries (fragment-set.ts).
 */
import { compareBytes } from '../base/bytes.js';

export interface RangeTombstone {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly seq: number;
}

/** True when the tombstone covers userKey by key range alone (start <= userKey < end). */
export function tombstoneContains(t: RangeTombstone, userKey: Uint8Array): boolean {
  return compareBytes(t.start, userKey) <= 0 && compareBytes(userKey, t.end) < 0;
}

/** Bytes a tombstone stands for in memory accounting and stats: both keys and the seq. */
export function tombstoneBytes(t: RangeTombstone): number {
  return t.start.length + t.end.length + 8;
}

/**
 * The immediate bytewise successor of `key` (key + 0x00): [x, successor(x)) holds exactly x. Turns an
 * inclusive upper bound into an exclusive end.
 */
export function immediateSuccessor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key, 0);
  return out;
}
