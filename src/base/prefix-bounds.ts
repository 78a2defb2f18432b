/**
 * Key prefixes as iterator bounds (bytewise order): `iterator({ prefix })` is the range
 * [prefix, successor(prefix)), and two bounds that share a prefix enclose only keys with it, which
 * is what lets an iterator ask a table's prefix filter (option prefixLength) before reading it.
 * Contract: pure functions over bytes; results are fresh arrays or the caller's own argument.
 */
import { compareBytes } from './bytes.js';

/**
 * The smallest key greater than every key that starts with `prefix`: the prefix with its last byte
 * below 0xff incremented and the bytes after it dropped (RocksDB's and LevelDB's short successor);
 * undefined when every byte is 0xff (or the prefix is empty), where no such key exists.
 */
export function prefixSuccessor(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! !== 0xff) {
      const out = prefix.slice(0, i + 1);
      out[i]!++;
      return out;
    }
  }
  return undefined;
}

/** The longest common prefix of a and b (a view of a). */
export function commonPrefix(a: Uint8Array, b: Uint8Array): Uint8Array {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return a.subarray(0, i);
}

export interface RangeBounds { gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array }

/**
 * Bounds that keep exactly the keys inside `b` that start with `prefix` (the intersection, as RocksDB
 * applies iterate_upper_bound inside a prefix seek). Only gte and lt change: the iterator already takes
 * the stricter of gt/gte and of lt/lte.
 */
export function intersectPrefix(b: RangeBounds, prefix: Uint8Array): RangeBounds {
  const out: RangeBounds = { ...b };
  if (b.gte === undefined || compareBytes(b.gte, prefix) < 0) out.gte = prefix;
  const end = prefixSuccessor(prefix);
  if (end !== undefined && (b.lt === undefined || compareBytes(end, b.lt) < 0)) out.lt = end;
  return out;
}

/**
 * A prefix every key inside the bounds starts with: the given prefix, or the common prefix of a
 * lower and an upper bound (keys with a given prefix form one contiguous range of the order, so any
 * key between two keys that share it shares it too). Empty when nothing is shared.
 */
export function sharedPrefixOf(b: RangeBounds, prefix: Uint8Array | undefined): Uint8Array {
  if (prefix !== undefined) return prefix;
  const lower = b.gt ?? b.gte;
  const upper = b.lt ?? b.lte;
  return lower === undefined || upper === undefined ? new Uint8Array(0) : commonPrefix(lower, upper);
}
