/**
 * Covered stretches chained across several sets (stretches.ts) and a memtable's own stretches that
 * stop at re-entered keys (src/memtable/reentered-keys.ts), against brute force over a small key
 * universe: every key a stretch spans is covered, and a stretch cannot be extended (its end, and the
 * key just below its start, are not covered). Seeded.
 */
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { FragmentSet } from '../../src/rangedel/fragment-set.js';
import { immediateSuccessor, type RangeTombstone } from '../../src/rangedel/range-tombstone.js';
import { setStretches, stretchEnd, stretchStart, type Stretches } from '../../src/rangedel/stretches.js';
import { ReenteredKeys } from '../../src/memtable/reentered-keys.js';
import { withSeed, type Rng } from '../support/rng.js';

const LETTERS = 20;
const letter = (i: number): Uint8Array => Uint8Array.of(0x61 + i);
/** Every letter and its immediate successor: the keys on both sides of each tombstone boundary. */
const UNIVERSE = Array.from({ length: LETTERS + 1 }, (_, i) => [letter(i), immediateSuccessor(letter(i))]).flat();
const show = (k: Uint8Array | undefined): string => (k === undefined ? '-' : [...k].map((b) => (b === 0 ? '\\0' : String.fromCharCode(b))).join(''));

function tombstones(rng: Rng, n: number, maxSeq: number): RangeTombstone[] {
  return Array.from({ length: n }, () => {
    const a = rng.int(LETTERS);
    const b = a + 1 + rng.int(Math.min(6, LETTERS - a));
    return { start: letter(a), end: letter(b), seq: 1 + rng.int(maxSeq) };
  });
}

const covers = (t: RangeTombstone, k: Uint8Array): boolean => compareBytes(t.start, k) <= 0 && compareBytes(k, t.end) < 0;

describe('stretches', () => {
  it('chained across sets and a memtable\'s own rule, they are covered and maximal (model)', async () => {
    await withSeed('stretches', (rng) => {
      for (let round = 0; round < 300; round++) {
        const readSeq = 1 + rng.int(40);
        const aboveSeq = rng.int(30);
        const sets = Array.from({ length: 1 + rng.int(3) }, () => tombstones(rng, rng.int(5), 40));
        const own = tombstones(rng, rng.int(4), 40);
        const reentered = new ReenteredKeys();
        for (const t of own) reentered.addTombstone(t.start, t.end, true);
        const marked = new Set<number>();
        for (let i = rng.int(4); i > 0; i--) {
          const x = rng.int(LETTERS);
          reentered.noteAdd(letter(x));
          // Only a key inside an own tombstone counts as re-entered.
          if (own.some((t) => covers(t, letter(x)))) marked.add(0x61 + x);
        }
        const sources: Stretches[] = sets.map((ts) => setStretches(FragmentSet.fromTombstones(ts), readSeq, aboveSeq));
        const withOwn = rng.next() < 0.7 && own.length > 0;
        if (withOwn) sources.push(reentered.stretches(FragmentSet.fromTombstones(own), readSeq));
        const covered = (k: Uint8Array): boolean =>
          sets.some((ts) => ts.some((t) => t.seq <= readSeq && t.seq > aboveSeq && covers(t, k))) ||
          (withOwn && !(k.length === 1 && marked.has(k[0]!)) && own.some((t) => t.seq <= readSeq && covers(t, k)));
        for (let i = 0; i < UNIVERSE.length; i++) {
          const k = UNIVERSE[i]!;
          const end = stretchEnd(sources, k);
          const start = stretchStart(sources, k);
          const what = `round ${round} key ${show(k)}: end ${show(end)} start ${show(start)}`;
          if (!covered(k)) {
            expect(end, what).toBeUndefined();
            expect(start, what).toBeUndefined();
            continue;
          }
          expect(end, what).toBeDefined();
          expect(start, what).toBeDefined();
          for (const u of UNIVERSE) {
            if (compareBytes(u, k) >= 0 && compareBytes(u, end!) < 0) expect(covered(u), `${what}: ${show(u)} inside`).toBe(true);
            if (compareBytes(u, start!) >= 0 && compareBytes(u, k) <= 0) expect(covered(u), `${what}: ${show(u)} inside`).toBe(true);
          }
          expect(covered(end!), `${what}: the end is covered`).toBe(false);
          const below = UNIVERSE.filter((u) => compareBytes(u, start!) < 0).at(-1);
          if (below) expect(covered(below), `${what}: ${show(below)} below the start is covered`).toBe(false);
        }
      }
    });
  });

  it('thousands of re-entered keys (tail, runs and their merges) stop a jump exactly at the first one (model)', async () => {
    await withSeed('reentered keys', (rng) => {
      const k = (i: number): Uint8Array => new TextEncoder().encode(`k${String(i).padStart(6, '0')}`);
      const r = new ReenteredKeys();
      r.addTombstone(k(0), k(100_000), true);
      const set = FragmentSet.fromTombstones([{ start: k(0), end: k(100_000), seq: 1 }]);
      const marked: number[] = [];
      for (let i = 0; i < 5000; i++) {
        const x = rng.int(100_000);
        marked.push(x);
        r.noteAdd(k(x));
        if (i % 700 === 0 || i === 4999) {
          const sorted = [...new Set(marked)].sort((a, b) => a - b);
          const st = r.stretches(set, 5);
          for (let q = 0; q < 50; q++) {
            const at = rng.int(100_000);
            const next = sorted.find((m) => m >= at);
            const want = next === at ? '-' : show(next === undefined ? k(100_000) : k(next));
            expect(show(st.endFrom(k(at))), `after ${i + 1} adds, from ${at}`).toBe(want);
          }
        }
      }
      expect(r.count).toBe(new Set(marked).size);
    });
  });

  it('a tombstone arriving after a newer version turns the memtable\'s own rule off', () => {
    const r = new ReenteredKeys();
    r.addTombstone(letter(0), letter(5), true);
    const set = FragmentSet.fromTombstones([{ start: letter(0), end: letter(5), seq: 3 }]);
    expect(show(r.stretches(set, 10).endFrom(letter(1)))).toBe('f');
    r.addTombstone(letter(7), letter(9), false);
    expect(r.isExact).toBe(false);
    expect(r.stretches(set, 10).endFrom(letter(1))).toBeUndefined();
  });
});
