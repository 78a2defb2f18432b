/**
 * sortByKeyBytes (src/base/key-sort.ts) against a stable comparator sort: keys of every length (empty,
 * shorter than a digit, prefixes of each other), long shared prefixes (recursion over many digits),
 * duplicates (stability), and ranges above and below the insertion-sort cut.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareByteRanges } from '../../src/base/bytes.js';
import { sortByKeyBytes, type KeyBounds } from '../../src/base/key-sort.js';
import { makeRng } from '../support/rng.js';

/** Keys laid end to end in one buffer, as the write log and batches hold them. */
function packed(keys: Uint8Array[]): { bounds: KeyBounds; starts: number[]; ends: number[] } {
  const total = keys.reduce((s, k) => s + k.length, 0);
  const bytes = new Uint8Array(total + 7);
  const starts: number[] = [], ends: number[] = [];
  let at = 3; // keys need not start at 0
  for (const k of keys) { bytes.set(k, at); starts.push(at); at += k.length; ends.push(at); }
  const bounds: KeyBounds = { bytes, start(i: number): number { this.end = ends[i]!; return starts[i]!; }, end: 0 };
  return { bounds, starts, ends };
}

function reference(keys: Uint8Array[], items: number[]): number[] {
  return [...items].sort((a, b) => compareByteRanges(keys[a]!, 0, keys[a]!.length, keys[b]!, 0, keys[b]!.length));
}

const keyArb = fc.oneof(
  fc.uint8Array({ maxLength: 5 }),
  fc.tuple(fc.constantFrom('user:', 'user:0000', ''), fc.uint8Array({ maxLength: 4, max: 3 }))
    .map(([p, t]) => new Uint8Array([...new TextEncoder().encode(p), ...t])),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);

describe('sortByKeyBytes', () => {
  it('orders like a stable comparator sort, for any keys and any starting order', () => {
    fc.assert(fc.property(fc.array(keyArb, { maxLength: 300 }), fc.boolean(), (keys, reversed) => {
      const { bounds } = packed(keys);
      const items = keys.map((_, i) => (reversed ? keys.length - 1 - i : i));
      const got = Uint32Array.from(items);
      sortByKeyBytes(got, bounds);
      expect([...got]).toEqual(reference(keys, items));
    }), { numRuns: 300 });
  });

  it('sorts 200,000 random 16-byte keys, and keeps duplicates in their starting order', () => {
    const rng = makeRng(11);
    const keys = Array.from({ length: 200_000 }, () => rng.bytes(rng.int(3) === 0 ? 4 : 16));
    for (let i = 0; i < 5000; i++) keys[rng.int(keys.length)] = keys[rng.int(keys.length)]!;
    const { bounds } = packed(keys);
    const items = keys.map((_, i) => keys.length - 1 - i);
    const got = Uint32Array.from(items);
    sortByKeyBytes(got, bounds);
    expect([...got]).toEqual(reference(keys, items));
  });
});
