/**
 * ConflictTracker (src/mvcc/conflict-tracker.ts) with range deletes, and the RangeSet they are kept in
 * (range-set.ts): a range delete [s, e) is a write of every key in it. Point writes inside, outside
 * and at the bounds (start inclusive, end exclusive); ranges against ranges (overlap, adjacent);
 * iterated ranges with open, inclusive and exclusive bounds; commits at or before the snapshot not
 * counted; trimming at the oldest open snapshot. A fast-check property compares every check with a
 * brute-force model over a small key space (seeded from SEED, printed by fast-check on failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { InternalError } from '../../src/errors.js';
import { ConflictTracker, type KeyRange } from '../../src/mvcc/conflict-tracker.js';
import { KeySetBuilder, keyHash52, keySetOfOps, type KeySet } from '../../src/mvcc/key-set.js';
import { RangeSet } from '../../src/mvcc/range-set.js';
import { WriteBatch } from '../../src/wal/write-batch.js';
import { testSeed } from '../support/rng.js';

const te = new TextEncoder();
const b = (s: string): Uint8Array => te.encode(s);
const str = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : new TextDecoder().decode(u));
const fail = (offset: number, detail: string): never => { throw new InternalError(`${offset}: ${detail}`); };

/** The write set of a batch (the way the write path builds it for plain writes). */
function writeSet(build: (w: WriteBatch) => void): KeySet {
  const w = new WriteBatch();
  build(w);
  return keySetOfOps(w.encodedOps(), w.length, fail);
}

/** A tracker with one transaction open at snapshot 10 and the given commits recorded at 11, 12, ... */
function trackerWith(...commits: KeySet[]): ConflictTracker {
  const t = new ConflictTracker();
  t.open(10);
  commits.forEach((c, i) => t.record(11 + i, c));
  return t;
}

const half = (lo: string, hi: string): KeyRange => ({ lo: b(lo), loInclusive: true, hi: b(hi), hiInclusive: false });

describe('keySetOfOps with range deletes', () => {
  it('keeps a range delete out of the keys and in the ranges (its start is not a written key)', () => {
    const set = writeSet((w) => w.put('x', '1').deleteRange('c', 'f').delete('a').deleteRange('e', 'h').deleteRange('m', 'n'));
    expect([...Array(set.count).keys()].map((i) => str(set.key(i)))).toEqual(['a', 'x']);
    expect(set.ranges?.count).toBe(2);
    expect([str(set.ranges!.start(0)), str(set.ranges!.end(0)), str(set.ranges!.start(1)), str(set.ranges!.end(1))]).toEqual(['c', 'h', 'm', 'n']);
    expect(writeSet((w) => w.put('k', 'v')).ranges).toBeUndefined();
  });
});

describe('a range delete committed after the snapshot', () => {
  const t = trackerWith(writeSet((w) => w.deleteRange('c', 'f')));

  it('covers point writes from its start (inclusive) to its end (exclusive)', () => {
    const inside = (k: string): boolean => t.keyDeletedAfter(b(k), 10);
    expect(['c', 'c\0', 'd', 'ezzz'].map(inside)).toEqual([true, true, true, true]);
    expect(['', 'b', 'bzzz', 'f', 'f\0', 'g'].map(inside)).toEqual([false, false, false, false, false, false]);
    const keys = (...ks: string[]): KeySet => writeSet((w) => { for (const k of ks) w.put(k, ''); });
    expect(str(t.keysDeletedAfter(keys('a', 'b', 'e', 'z'), 10))).toBe('e');
    expect(str(t.keysDeletedAfter(keys('c'), 10))).toBe('c');
    expect(t.keysDeletedAfter(keys('a', 'f', 'g'), 10)).toBeUndefined();
  });

  it('is not a write of its start key alone: a point write inside it is found, by hash too only at the start', () => {
    // The hash table knows no key of a range: only the range check can see a write of 'd'.
    expect(t.writtenAfter(keyHash52(b('d')), 10)).toBe(false);
    expect(t.writtenAfter(keyHash52(b('c')), 10)).toBe(false);
    expect(t.keyDeletedAfter(b('d'), 10)).toBe(true);
  });

  it('overlaps ranges that share a key, not ranges that only touch it', () => {
    const hit = (r: KeyRange): string | undefined => str(t.rangeWrittenAfter(r, 10));
    expect(hit(half('a', 'd'))).toBe('c');
    expect(hit(half('d', 'e'))).toBe('d');
    expect(hit(half('e', 'z'))).toBe('e');
    expect(hit(half('a', 'c'))).toBeUndefined(); // [a, c) ends where [c, f) starts
    expect(hit(half('f', 'z'))).toBeUndefined(); // [f, z) starts where [c, f) ends
    expect(hit({ lo: b('a'), loInclusive: true, hi: b('c'), hiInclusive: true })).toBe('c');
    expect(hit({ lo: b('e'), loInclusive: false, hi: undefined, hiInclusive: false })).toBe('e\0');
    expect(hit({ lo: undefined, loInclusive: false, hi: undefined, hiInclusive: false })).toBe('c');
  });

  it('counts only after the snapshot', () => {
    expect(t.rangeDeletedAfter(10)).toBe(true);
    expect(t.rangeDeletedAfter(11)).toBe(false);
    expect(t.keyDeletedAfter(b('d'), 11)).toBe(false);
    expect(t.rangeWrittenAfter(half('a', 'z'), 11)).toBeUndefined();
  });
});

describe('a transaction deleting a range', () => {
  it('meets a later point write inside it, at its start, but not at its end', () => {
    const t = trackerWith(writeSet((w) => w.put('d', '1')), writeSet((w) => w.put('f', '1')));
    expect(str(t.rangeWrittenAfter(half('c', 'f'), 10))).toBe('d');
    expect(str(t.rangeWrittenAfter(half('d', 'e'), 10))).toBe('d');
    expect(t.rangeWrittenAfter(half('a', 'd'), 10)).toBeUndefined();
    expect(t.rangeWrittenAfter(half('d\0', 'f'), 10)).toBeUndefined();
  });

  it('meets a later range delete overlapping it (commits in a batch with other writes too)', () => {
    const t = trackerWith(writeSet((w) => w.put('z', '1').deleteRange('m', 'p')));
    expect(str(t.rangeWrittenAfter(half('a', 'n'), 10))).toBe('m');
    expect(str(t.rangeWrittenAfter(half('o', 'q'), 10))).toBe('o');
    expect(t.rangeWrittenAfter(half('p', 'q'), 10)).toBeUndefined();
    expect(t.rangeWrittenAfter(half('a', 'm'), 10)).toBeUndefined();
  });
});

describe('trimming', () => {
  it('drops range commits at or below the oldest open snapshot, keeps the rest', () => {
    const t = new ConflictTracker();
    t.open(10);
    t.record(11, writeSet((w) => w.deleteRange('a', 'c')));
    t.open(11);
    t.record(12, writeSet((w) => w.deleteRange('x', 'z')));
    t.record(13, writeSet((w) => w.put('k', 'v')));
    expect(t.rememberedRangeCommits).toBe(2);
    const bytes = t.bytes;
    t.close(10); // oldest now 11: the commit at 11 can no longer conflict with anyone
    expect(t.rememberedRangeCommits).toBe(1);
    expect(t.bytes).toBeLessThan(bytes);
    expect(t.keyDeletedAfter(b('b'), 10)).toBe(false);
    expect(t.keyDeletedAfter(b('y'), 11)).toBe(true);
    t.close(11);
    expect(t.rememberedRangeCommits).toBe(0);
    expect(t.remembered).toBe(0);
    expect(t.bytes).toBe(new ConflictTracker().bytes);
  });

  it('records nothing while no transaction is open', () => {
    const t = new ConflictTracker();
    t.record(5, writeSet((w) => w.deleteRange('a', 'z')));
    expect(t.rememberedRangeCommits).toBe(0);
  });
});

// ---------------------------------------------------------------- model

const KEYS = ['', 'a', 'a\0', 'ab', 'b', 'ba', 'c', 'd'];
const keyArb = fc.constantFrom(...KEYS).map(b);
const rangeArb = fc.tuple(keyArb, keyArb).filter(([x, y]) => compareBytes(x, y) < 0);
const bound = fc.option(keyArb, { nil: undefined });
const keyRangeArb = fc.record({ lo: bound, loInclusive: fc.boolean(), hi: bound, hiInclusive: fc.boolean() });
/** Every key the model needs: the key space, plus each key's immediate successor (what an exclusive bound starts at). */
const PROBES = [...KEYS, ...KEYS.map((k) => `${k}\0`)].map(b);

const inHalf = (k: Uint8Array, [s, e]: readonly [Uint8Array, Uint8Array]): boolean => compareBytes(s, k) <= 0 && compareBytes(k, e) < 0;
function inRange(k: Uint8Array, r: KeyRange): boolean {
  if (r.lo) { const c = compareBytes(k, r.lo); if (c < 0 || (c === 0 && !r.loInclusive)) return false; }
  if (r.hi) { const c = compareBytes(k, r.hi); if (c > 0 || (c === 0 && !r.hiInclusive)) return false; }
  return true;
}

describe('model', () => {
  it('covers, firstCovered, firstOverlap and the tracker checks agree with brute force (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ points: fc.array(keyArb, { maxLength: 3 }), ranges: fc.array(rangeArb, { maxLength: 3 }) }), { minLength: 1, maxLength: 4 }),
        fc.array(keyArb, { maxLength: 4 }),
        keyRangeArb,
        fc.nat(3),
        (commits, written, read, snapAt) => {
          const t = new ConflictTracker();
          t.open(10);
          commits.forEach((c, i) => t.record(11 + i, writeSet((w) => {
            for (const k of c.points) w.put(k, '');
            for (const [s, e] of c.ranges) w.deleteRange(s, e);
          })));
          const snap = 10 + snapAt;
          const later = commits.slice(snapAt);
          const laterRanges = later.flatMap((c) => c.ranges);
          const sorted = [...written].sort(compareBytes);
          const builder = new KeySetBuilder();
          for (const k of sorted) builder.append(k);
          const keys = builder.finish();
          // point writes and reads against later range deletes
          for (const k of PROBES) expect(t.keyDeletedAfter(k, snap)).toBe(laterRanges.some((r) => inHalf(k, r)));
          const firstCovered = sorted.find((k) => laterRanges.some((r) => inHalf(k, r)));
          const got = t.keysDeletedAfter(keys, snap);
          expect(got === undefined).toBe(firstCovered === undefined);
          if (got) expect(laterRanges.some((r) => inHalf(got, r)) && sorted.some((k) => compareBytes(k, got) === 0)).toBe(true);
          // a read or deleted range against later writes of either kind
          const hit = t.rangeWrittenAfter(read, snap);
          const expected = PROBES.some((k) => inRange(k, read) && (laterRanges.some((r) => inHalf(k, r)) || later.some((c) => c.points.some((p) => compareBytes(p, k) === 0))));
          expect(hit !== undefined).toBe(expected);
          if (hit) {
            expect(inRange(hit, read)).toBe(true);
            expect(laterRanges.some((r) => inHalf(hit, r)) || later.some((c) => c.points.some((p) => compareBytes(p, hit) === 0))).toBe(true);
          }
          // the set itself: the union, disjoint and not touching
          const set = RangeSet.of(laterRanges);
          for (const k of PROBES) expect(set.covers(k)).toBe(laterRanges.some((r) => inHalf(k, r)));
          for (let i = 1; i < set.count; i++) expect(compareBytes(set.end(i - 1), set.start(i))).toBeLessThan(0);
        },
      ),
      { seed: testSeed(), numRuns: 500 },
    );
  });
});
