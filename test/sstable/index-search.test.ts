/**
 * IndexSearch must agree exactly with BlockIterator.seek on the same index block: bytewise and
 * internal keys, keys shorter than the shared prefix or than a summary, zero bytes (padding ties),
 * and targets before, inside and after the key range; seekIterator positions another iterator over
 * the block exactly there (the table iterator's index seek).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareByteRanges, compareBytes } from '../../src/base/bytes.js';
import { bytewiseComparator } from '../../src/base/comparator.js';
import { compareInternalKeys, internalKeyComparator, makeInternalKey } from '../../src/base/internal-key.js';
import { testSeed } from '../support/rng.js';
import { BlockBuilder } from '../../sstable/block-builder.js';
import { Block, BlockIterator } from '../../sstable/block-reader.js';
import { IndexSearch } from '../../sstable/index-search.js';
import { rangeCompareFor } from '../../sstable/range-compare.js';
import { b } from './table-helpers.js';

function indexBlock(keys: readonly Uint8Array[], interval = 1): Block {
  const builder = new BlockBuilder(interval);
  keys.forEach((k, i) => builder.add(k, new Uint8Array([i & 0x7f])));
  return new Block(builder.finish().slice(), 'i.sst', 0);
}

/** Where BlockIterator.seek lands, as an entry number (count when invalid). */
function reference(block: Block, cmp: typeof compareByteRanges, keys: readonly Uint8Array[], target: Uint8Array): number {
  const it = new BlockIterator(cmp, block);
  it.seek(target);
  if (!it.valid()) return keys.length;
  return it.value()[0]!;
}

const seed = testSeed();
// Small alphabets (with 0x00) and a shared prefix make ties, padding and prefix exits common.
const byteArb = fc.constantFrom(0, 1, 0x61, 0x62, 0xff);
const userKeyArb = fc.tuple(fc.constantFrom('', 'pre', 'prefix-'), fc.array(byteArb, { maxLength: 10 }))
  .map(([p, rest]) => Uint8Array.from([...b(p), ...rest]));

describe('IndexSearch', () => {
  it('agrees with the block iterator for bytewise keys (fast-check)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(userKeyArb, { minLength: 1, maxLength: 60, comparator: (x, y) => compareBytes(x, y) === 0 }),
        fc.array(userKeyArb, { maxLength: 30 }), (raw, targets) => {
          const keys = [...raw].sort(compareBytes);
          const block = indexBlock(keys);
          const search = IndexSearch.build(block, bytewiseComparator, compareByteRanges)!;
          expect(search).toBeDefined();
          for (const t of [...targets, ...keys]) {
            const want = reference(block, compareByteRanges, keys, t);
            expect(search.lowerBound(t)).toBe(want);
            if (want < keys.length) expect(search.at(want).value()[0]).toBe(want & 0x7f);
            // A table iterator's own index iterator, positioned by the search, lands where seek does.
            const own = new BlockIterator(compareByteRanges, block);
            search.seekIterator(own, t);
            expect(own.valid()).toBe(want < keys.length);
            if (want < keys.length) {
              expect(own.value()[0]).toBe(want & 0x7f);
              own.next();
              expect(own.valid()).toBe(want + 1 < keys.length);
            }
          }
        }),
      { seed, numRuns: 200 },
    );
  });

  it('agrees with the block iterator for internal keys (fast-check)', () => {
    const cmp = rangeCompareFor(internalKeyComparator);
    const ikeyArb = fc.tuple(userKeyArb, fc.integer({ min: 0, max: 5 }), fc.constantFrom(0, 1));
    fc.assert(
      fc.property(fc.array(ikeyArb, { minLength: 1, maxLength: 60 }), fc.array(ikeyArb, { maxLength: 30 }), (raw, targets) => {
        const all = raw.map(([u, s, k]) => makeInternalKey(u, s, k)).sort(compareInternalKeys);
        const keys = all.filter((k, i) => i === 0 || compareInternalKeys(all[i - 1]!, k) !== 0);
        const block = indexBlock(keys);
        const search = IndexSearch.build(block, internalKeyComparator, cmp)!;
        for (const [u, s] of targets) {
          const t = makeInternalKey(u, s, 0xff);
          expect(search.lowerBound(t)).toBe(reference(block, cmp, keys, t));
        }
      }),
      { seed, numRuns: 200 },
    );
  });

  it('declines index blocks it cannot summarise', () => {
    const keys = [b('a'), b('b'), b('c')];
    expect(IndexSearch.build(indexBlock(keys, 2), bytewiseComparator, compareByteRanges)).toBeUndefined();
    expect(IndexSearch.build(indexBlock([]), bytewiseComparator, compareByteRanges)).toBeUndefined();
    const reverse = { name: 'reverse', compare: (x: Uint8Array, y: Uint8Array) => compareBytes(y, x) };
    expect(IndexSearch.build(indexBlock(keys), reverse, compareByteRanges)).toBeUndefined();
  });
});
