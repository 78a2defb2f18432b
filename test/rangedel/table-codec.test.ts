import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { CorruptionError } from '../../src/errors.js';
import { FragmentSet } from '../../src/rangedel/fragment-set.js';
import { decodeFragments, encodeFragments, type RangeDelEntries } from '../../src/rangedel/table-codec.js';
import type { RangeTombstone } from '../../src/rangedel/range-tombstone.js';
import { testSeed } from '../support/rng.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

function entriesOf(pairs: [Uint8Array, Uint8Array][]): RangeDelEntries {
  let i = 0;
  return {
    seekToFirst: () => { i = 0; },
    valid: () => i < pairs.length,
    keyCopy: () => pairs[i]![0].slice(),
    value: () => pairs[i]![1],
    next: () => { i++; },
  };
}

const keyArb = fc.uint8Array({ maxLength: 3 });
const tombsArb = fc.array(fc.tuple(keyArb, keyArb, fc.integer({ min: 1, max: 2 ** 40 }))
  .filter(([a, c]) => compareBytes(a, c) !== 0)
  .map(([a, c, seq]): RangeTombstone => (compareBytes(a, c) < 0 ? { start: a, end: c, seq } : { start: c, end: a, seq })), { maxLength: 10 });

describe('range-deletion block codec', () => {
  it('round-trips any fragment set, entries in internal-key order', () => {
    fc.assert(fc.property(tombsArb, (ts) => {
      const set = FragmentSet.fromTombstones(ts);
      const pairs: [Uint8Array, Uint8Array][] = [];
      encodeFragments(set, (k, v) => pairs.push([k, v]));
      expect(pairs.length).toBe(set.entryCount);
      const back = decodeFragments(entriesOf(pairs), 'x.sst', 0);
      expect(back.fragments().map((f) => ({ ...f, seqs: [...f.seqs] }))).toEqual(set.fragments().map((f) => ({ ...f, seqs: [...f.seqs] })));
    }), { seed: testSeed(), numRuns: 300 });
  });

  it('refuses malformed entries as corruption naming the file', () => {
    const rd = (s: string, seq: number): Uint8Array => makeInternalKey(b(s), seq, ValueKind.RangeDelete);
    const cases: [Uint8Array, Uint8Array][][] = [
      [[b('short'), b('z')]],
      [[makeInternalKey(b('a'), 1, ValueKind.Put), b('z')]],
      [[rd('m', 1), b('a')]],
      [[rd('a', 1), b('c')], [rd('b', 2), b('d')]],
      [[rd('a', 2), b('c')], [rd('a', 1), b('d')]],
      [[rd('a', 1), b('c')], [rd('a', 2), b('c')]],
      [[rd('a', 0), b('c')]],
    ];
    for (const c of cases) {
      expect(() => decodeFragments(entriesOf(c), '000009.sst', 4242)).toThrow(CorruptionError);
      try { decodeFragments(entriesOf(c), '000009.sst', 4242); } catch (e) { expect((e as CorruptionError).file).toBe('000009.sst'); }
    }
  });
});
