import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { Fragmenter, fragmentTombstones } from '../../src/rangedel/fragmenter.js';
import { FragmentSet } from '../../src/rangedel/fragment-set.js';
import type { RangeTombstone } from '../../src/rangedel/range-tombstone.js';
import { testSeed } from '../support/rng.js';

const te = new TextEncoder();
const b = (s: string): Uint8Array => te.encode(s);
const str = (u: Uint8Array): string => new TextDecoder().decode(u);
const t = (start: string, end: string, seq: number): RangeTombstone => ({ start: b(start), end: b(end), seq });

/** The naive model: the newest seq <= readSeq among the tombstones whose range holds key. */
function naiveMax(ts: readonly RangeTombstone[], key: Uint8Array, readSeq: number): number {
  let best = 0;
  for (const x of ts) {
    if (x.seq <= readSeq && x.seq > best && compareBytes(x.start, key) <= 0 && compareBytes(key, x.end) < 0) best = x.seq;
  }
  return best;
}

// Short keys over a 3-letter alphabet: boundaries collide often, and probes hit every fragment edge.
const keyArb = fc.array(fc.constantFrom(0x61, 0x62, 0x63), { maxLength: 3 }).map((a) => Uint8Array.from(a));
const tombArb = fc.tuple(keyArb, keyArb, fc.integer({ min: 1, max: 30 }))
  .filter(([a, c]) => compareBytes(a, c) !== 0)
  .map(([a, c, seq]): RangeTombstone => (compareBytes(a, c) < 0 ? { start: a, end: c, seq } : { start: c, end: a, seq }));
const tombsArb = fc.array(tombArb, { maxLength: 12 });

/** Every key over the alphabet and 0x00 up to 3 bytes: each boundary, most successors, the gaps. */
const probes: Uint8Array[] = (() => {
  const out: Uint8Array[] = [new Uint8Array(0)];
  const grow = (prefix: number[]): void => {
    if (prefix.length === 3) return;
    for (const c of [0x00, 0x61, 0x62, 0x63]) { const k = [...prefix, c]; out.push(Uint8Array.from(k)); grow(k); }
  };
  grow([]);
  return out;
})();
const readSeqs = [0, 1, 5, 10, 15, 20, 30, 100];

describe('Fragmenter', () => {
  it('splits overlapping tombstones at every boundary, seqs newest first', () => {
    const frags = fragmentTombstones([t('c', 'g', 9), t('a', 'e', 5), t('c', 'd', 7)]);
    expect(frags.map((f) => `${str(f.start)}-${str(f.end)}{${f.seqs.join(',')}}`))
      .toEqual(['a-c{5}', 'c-d{9,7,5}', 'd-e{9,5}', 'e-g{9}']);
  });

  it('leaves gaps between tombstones uncovered and merges equal seqs', () => {
    const frags = fragmentTombstones([t('a', 'b', 3), t('x', 'z', 4), t('x', 'z', 4)]);
    expect(frags.map((f) => `${str(f.start)}-${str(f.end)}{${f.seqs.join(',')}}`)).toEqual(['a-b{3}', 'x-z{4}']);
  });

  it('refuses an empty range and a start before the previous one', () => {
    expect(() => new Fragmenter().add(t('b', 'b', 1))).toThrow(InvalidArgumentError);
    expect(() => new Fragmenter().add(t('c', 'b', 1))).toThrow(InvalidArgumentError);
    const f = new Fragmenter();
    f.add(t('b', 'c', 1));
    expect(() => f.add(t('a', 'c', 2))).toThrow(InvalidArgumentError);
  });

  it('fragments are sorted, disjoint, and cover exactly what the tombstones cover (model)', () => {
    fc.assert(fc.property(tombsArb, (ts) => {
      const frags = fragmentTombstones(ts);
      for (let i = 0; i < frags.length; i++) {
        expect(compareBytes(frags[i]!.start, frags[i]!.end)).toBeLessThan(0);
        if (i > 0) expect(compareBytes(frags[i - 1]!.end, frags[i]!.start)).toBeLessThanOrEqual(0);
      }
      const set = FragmentSet.fromFragments(frags);
      for (const k of probes) {
        const covering = ts.filter((x) => compareBytes(x.start, k) <= 0 && compareBytes(k, x.end) < 0).map((x) => x.seq);
        const i = set.indexOf(k);
        const got = i < 0 ? [] : [...set.fragments()[i]!.seqs];
        expect(got).toEqual([...new Set(covering)].sort((x, y) => y - x));
      }
    }), { seed: testSeed(), numRuns: 300 });
  });
});

describe('FragmentSet', () => {
  it('maxCoveringSeq matches the naive list at every read seq (model)', () => {
    fc.assert(fc.property(tombsArb, (ts) => {
      const set = FragmentSet.fromTombstones(ts);
      for (const k of probes) for (const r of readSeqs) expect(set.maxCoveringSeq(k, r)).toBe(naiveMax(ts, k, r));
    }), { seed: testSeed(), numRuns: 300 });
  });

  it('seekEnd/seekStart bound a stretch in which every key is deleted, and stop at its edge (model)', () => {
    fc.assert(fc.property(tombsArb, fc.constantFrom(...readSeqs), fc.integer({ min: 0, max: 20 }), (ts, r, above) => {
      const set = FragmentSet.fromTombstones(ts);
      for (const k of probes) {
        const covered = naiveMax(ts, k, r) > above;
        const end = set.seekEnd(k, r, above);
        const start = set.seekStart(k, r, above);
        expect(end !== undefined).toBe(covered);
        expect(start !== undefined).toBe(covered);
        if (!end || !start) continue;
        expect(compareBytes(start, k)).toBeLessThanOrEqual(0);
        expect(compareBytes(k, end)).toBeLessThan(0);
        const uncovered = probes.filter((p) => compareBytes(start, p) <= 0 && compareBytes(p, end) < 0 && naiveMax(ts, p, r) <= above);
        expect(uncovered).toEqual([]);
        // Maximal: the key at the end is not deleted.
        expect(naiveMax(ts, end, r)).toBeLessThanOrEqual(above);
      }
    }), { seed: testSeed(), numRuns: 100 });
  });

  it('truncate keeps coverage inside [smallest, largest] and nothing outside (model)', () => {
    fc.assert(fc.property(tombsArb, keyArb, keyArb, (ts, x, y) => {
      const [lo, hi] = compareBytes(x, y) <= 0 ? [x, y] : [y, x];
      const cut = FragmentSet.fromTombstones(ts).truncate(lo, hi);
      FragmentSet.fromFragments(cut.fragments()); // still well formed
      for (const k of probes) {
        const inside = compareBytes(lo, k) <= 0 && compareBytes(k, hi) <= 0;
        for (const r of readSeqs) expect(cut.maxCoveringSeq(k, r)).toBe(inside ? naiveMax(ts, k, r) : 0);
      }
    }), { seed: testSeed(), numRuns: 300 });
  });

  it('tombstones() re-fragments to the same set', () => {
    fc.assert(fc.property(tombsArb, (ts) => {
      const set = FragmentSet.fromTombstones(ts);
      expect(FragmentSet.fromTombstones(set.tombstones()).fragments()).toEqual(set.fragments());
      expect(set.entryCount).toBe(set.tombstones().length);
    }), { seed: testSeed(), numRuns: 200 });
  });

  it('fromFragments refuses overlap, empty ranges and unsorted seqs', () => {
    expect(() => FragmentSet.fromFragments([{ start: b('a'), end: b('c'), seqs: [1] }, { start: b('b'), end: b('d'), seqs: [2] }])).toThrow(InvalidArgumentError);
    expect(() => FragmentSet.fromFragments([{ start: b('a'), end: b('a'), seqs: [1] }])).toThrow(InvalidArgumentError);
    expect(() => FragmentSet.fromFragments([{ start: b('a'), end: b('b'), seqs: [1, 2] }])).toThrow(InvalidArgumentError);
    expect(() => FragmentSet.fromFragments([{ start: b('a'), end: b('b'), seqs: [] }])).toThrow(InvalidArgumentError);
  });

  it('bounds are the first start and the last end', () => {
    const set = FragmentSet.fromTombstones([t('m', 'p', 1), t('b', 'd', 2)]);
    expect(set.bounds()).toEqual({ start: b('b'), end: b('p') });
    expect(FragmentSet.EMPTY.bounds()).toBeUndefined();
  });
});
