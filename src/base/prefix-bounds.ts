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
      // A copy even when given a Buffer, whose slice() is a view: the caller's key must not change.
      const out = new Uint8Array(prefix.subarray(0, i + 1));
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
 * The longest prefix every key inside the bounds starts with: the given prefix, else the best over
 * each lower and upper bound given (empty when one side is missing). Keys with a given prefix form
 * one contiguous stretch of the order, so any key between two keys that share a prefix shares it; and
 * an exclusive upper bound that is exactly the successor of a prefix of the lower bound (gte 'user:',
 * lt 'user;') encloses only keys with that whole prefix.
 */
export function sharedPrefixOf(b: RangeBounds, prefix: Uint8Array | undefined): Uint8Array {
  if (prefix !== undefined) return prefix;
  let best: Uint8Array = new Uint8Array(0);
  for (const lower of [b.gt, b.gte]) {
    if (lower === undefined) continue;
    for (const [upper, inclusive] of [[b.lt, false], [b.lte, true]] as const) {
      if (upper === undefined) continue;
      const p = boundsPrefix(lower, upper, inclusive);
      if (p.length > best.length) best = p;
    }
  }
  return best;
}

/** The longest prefix of `lower` that every key from lower to upper starts with. */
function boundsPrefix(lower: Uint8Array, upper: Uint8Array, upperInclusive: boolean): Uint8Array {
  const c = commonPrefix(lower, upper).length;
  // upper = lower[0..c] + (lower[c] + 1) is the successor of lower[0..L] for every L past c over
  // which lower holds only 0xff bytes: the longest such L wins.
  if (!upperInclusive && c < lower.length && upper.length === c + 1 && lower[c]! + 1 === upper[c]) {
    let n = c + 1;
    while (n < lower.length && lower[n] === 0xff) n++;
    return lower.subarray(0, n);
  }
  return lower.subarray(0, c);
}
