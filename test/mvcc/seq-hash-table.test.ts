/**
 * SeqHashTable (src/mvcc/seq-hash-table.ts) against a Map model: random sets, deletes and
 * conditional deletes over a small pool of hashes (so keys repeat, probe runs form and deletions
 * shift entries back across them), with the table's load and size invariants checked after every
 * step; plus grow-then-shrink at scale. fast-check runs are seeded from SEED and print it on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqHashTable } from '../../src/mvcc/seq-hash-table.js';
import { testSeed, withSeed } from '../support/rng.js';

/** Structured hashes too: 0, the 52-bit maximum, small integers, values differing only above bit 32. */
const hashArb = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 2 ** 52 - 1, 2 ** 52, 2 ** 32, 2 ** 33, 2 ** 32 + 1, 7 * 2 ** 40),
  fc.nat(64),
  fc.integer({ min: 0, max: 2 ** 52 }),
);

type Op = { op: 'set'; h: number; seq: number } | { op: 'delete'; h: number } | { op: 'deleteIf'; h: number; seq: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), h: hashArb, seq: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), h: hashArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deleteIf' as const), h: hashArb, seq: fc.nat(5) }) },
);

function checkInvariants(t: SeqHashTable, model: Map<number, number>, probes: Iterable<number>): void {
  expect(t.size).toBe(model.size);
  const cap = t.capacity;
  expect(Number.isInteger(Math.log2(cap)) && cap >= 16).toBe(true);
  expect(2 * t.size).toBeLessThanOrEqual(cap); // at most half full
  expect(cap === 16 || 8 * t.size >= cap).toBe(true); // never mostly empty (it shrinks)
  expect(t.bytes).toBe(16 * cap);
  for (const h of probes) {
    expect(t.get(h)).toBe(model.get(h));
    expect(t.has(h)).toBe(model.has(h));
  }
  const seen = new Map<number, number>();
  t.forEach((h, s) => { expect(seen.has(h)).toBe(false); seen.set(h, s); });
  expect(seen).toEqual(model);
}

describe('SeqHashTable', () => {
  it('answers like a Map through sets, deletes (backward shift), grows and shrinks (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
        const t = new SeqHashTable();
        const model = new Map<number, number>();
        const touched = new Set<number>();
        for (const o of ops) {
          touched.add(o.h);
          if (o.op === 'set') { t.set(o.h, o.seq); model.set(o.h, o.seq); }
          else if (o.op === 'delete') expect(t.delete(o.h)).toBe(model.delete(o.h));
          else {
            const want = model.get(o.h) === o.seq;
            if (want) model.delete(o.h);
            expect(t.deleteIf(o.h, o.seq)).toBe(want);
          }
          checkInvariants(t, model, touched);
        }
      }),
      { seed: testSeed(), numRuns: 150 },
    );
  });

  it('keeps every entry findable while deleting from dense probe runs in random order', async () => {
    await withSeed('seq-hash-table dense deletes', (rng) => {
      for (let round = 0; round < 20; round++) {
        const t = new SeqHashTable();
        const model = new Map<number, number>();
        // fill to just under the growth point of a 64-slot table: long runs, many wrapped around
        while (model.size < 31) {
          const h = rng.int(1 << 30) * 4096 + rng.int(4096);
          t.set(h, model.size);
          model.set(h, model.size);
        }
        expect(t.capacity).toBe(64);
        const order = [...model.keys()].sort(() => rng.next() - 0.5);
        for (const h of order) {
          expect(t.delete(h)).toBe(true);
          model.delete(h);
          for (const [k, s] of model) expect(t.get(k)).toBe(s);
          expect(t.get(h)).toBeUndefined();
        }
        expect(t.size).toBe(0);
        expect(t.capacity).toBe(16);
      }
    });
  });

  it('grows to 2^18 slots for 100,000 entries and gives the memory back once they are deleted', () => {
    const t = new SeqHashTable();
    const hashOf = (i: number): number => (i * 2654435761) % 2 ** 52;
    for (let i = 0; i < 100_000; i++) t.set(hashOf(i), i);
    expect(t.size).toBe(100_000);
    expect(t.capacity).toBe(2 ** 18);
    expect(t.bytes).toBe(16 * 2 ** 18); // 16 B per slot, ~42 B per entry at this load
    for (let i = 0; i < 100_000; i += 7) expect(t.get(hashOf(i))).toBe(i);
    for (let i = 0; i < 100_000; i++) expect(t.deleteIf(hashOf(i), i === 5 ? -1 : i)).toBe(i !== 5);
    expect(t.size).toBe(1);
    expect(t.get(hashOf(5))).toBe(5);
    expect(t.capacity).toBe(16);
  });
});
