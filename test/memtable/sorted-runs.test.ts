import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { ValueKind } from '../../src/base/internal-key.js';
import { keyPrefix } from '../../src/memtable/entries.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { emptyRunSet, pushRun, rankOf, rebase, sortBatch, type Run, type RunSet } from '../../src/memtable/sorted-runs.js';
import { testSeed } from '../support/rng.js';
import { hex } from './model.js';

/** Keys that tie on long stretches: a shared stem, runs of 0x00 (padding look-alikes), 0xff. */
const tieKeyArb = fc
  .tuple(
    fc.constantFrom('', 'ab', 'abcdefgh', 'abcdefghijklmnop'),
    fc.array(fc.constantFrom(0x00, 0x01, 0x7f, 0xff), { maxLength: 10 }),
  )
  .map(([stem, tail]) => Uint8Array.from([...Buffer.from(stem), ...tail]));

/** A memtable holding each key once, so that entry id i is the group of keys[i]. */
function groupsOf(keys: Uint8Array[]): MemTable {
  const mt = new MemTable();
  keys.forEach((key, i) => mt.add(i + 1, ValueKind.Put, key, new Uint8Array(0)));
  return mt;
}

function keysOf(keys: Uint8Array[], run: Run): string[] {
  return Array.from(run.ids, (g) => hex(keys[g]!));
}

const sortedHex = (keys: Uint8Array[]): string[] => keys.slice().sort(compareBytes).map(hex);
const uniqueKeys = (arb: fc.Arbitrary<Uint8Array>, max: number) =>
  fc.uniqueArray(arb, { maxLength: max, selector: (k) => hex(k) });

describe('sortBatch', () => {
  it('orders keys that tie on 4, 8 and 16 bytes and differ only in length (fast-check)', () => {
    fc.assert(
      fc.property(uniqueKeys(tieKeyArb, 400), (keys) => {
        const mt = groupsOf(keys);
        const run = sortBatch(mt, Int32Array.from(keys, (_, i) => i), 0);
        expect(keysOf(keys, run)).toEqual(sortedHex(keys));
        // The prefix words beside each id are the key's first 8 bytes, zero padded.
        run.ids.forEach((g, i) => {
          const key = keys[g]!;
          expect([run.pfx[2 * i], run.pfx[2 * i + 1]]).toEqual([keyPrefix(key, 0, key.length), keyPrefix(key, 4, key.length - 4)]);
        });
      }),
      { seed: testSeed(), numRuns: 60 },
    );
  });

  it('sorts from a common prefix depth and refuses a duplicate key', () => {
    const keys = ['user:0009', 'user:00010', 'user:', 'user:0001\u0000', 'user:0001'].map((s) => Buffer.from(s));
    const mt = groupsOf(keys);
    const run = sortBatch(mt, Int32Array.from(keys, (_, i) => i), 5);
    expect(keysOf(keys, run)).toEqual(sortedHex(keys));
    // Two groups with one key is a broken invariant, reported rather than looping.
    const dup = groupsOf([]);
    for (let i = 0; i < 40; i++) dup.add(i + 1, ValueKind.Put, Buffer.from(`k${i % 20}`), new Uint8Array(0));
    const twice = Int32Array.from({ length: 40 }, (_, i) => i % 20);
    expect(() => sortBatch(dup, twice, 0)).toThrow(/two key groups hold one key/);
  });
});

describe('pushRun, rankOf and rebase', () => {
  it('keep runs sorted, disjoint and geometric, and rank like a linear count (fast-check)', () => {
    fc.assert(
      fc.property(uniqueKeys(tieKeyArb, 300), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (keys, cuts) => {
        const mt = groupsOf(keys);
        let set: RunSet = emptyRunSet(0);
        let at = 0;
        for (const c of cuts) {
          if (at >= keys.length) break;
          const end = Math.min(keys.length, at + c);
          set = pushRun(mt, set, sortBatch(mt, Int32Array.from({ length: end - at }, (_, i) => at + i), 0));
          at = end;
        }
        const all: string[] = [];
        set.runs.forEach((run, r) => {
          const ks = keysOf(keys, run);
          expect(ks).toEqual(ks.slice().sort((a, b) => compareBytes(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'))));
          all.push(...ks);
          const next = set.runs[r + 1];
          if (next) expect(run.ids.length).toBeGreaterThan(2 * next.ids.length);
        });
        expect(all.sort()).toEqual(keys.slice(0, at).map(hex).sort());
        for (const probe of keys.slice(0, 20)) {
          for (const run of set.runs) {
            const below = Array.from(run.ids).filter((g) => compareBytes(keys[g]!, probe) < 0).length;
            const atOrBelow = Array.from(run.ids).filter((g) => compareBytes(keys[g]!, probe) <= 0).length;
            const hi = keyPrefix(probe, 0, probe.length);
            const lo = keyPrefix(probe, 4, probe.length - 4);
            expect(rankOf(mt, run, 0, probe, probe.length, hi, lo, false)).toBe(below);
            expect(rankOf(mt, run, 0, probe, probe.length, hi, lo, true)).toBe(atOrBelow);
          }
        }
      }),
      { seed: testSeed(), numRuns: 60 },
    );
  });

  it('ranks every key and every gap of a 1000-group run exactly (fence boundaries included)', () => {
    for (const stem of ['', 'same']) {
      // Distinct first words (the fences decide) or one shared first word (they cannot).
      const keys = Array.from({ length: 1000 }, (_, i) => Buffer.from([...Buffer.from(stem), (i >> 7) & 0xff, (i << 1) & 0xff]));
      const mt = groupsOf(keys);
      const run = sortBatch(mt, Int32Array.from(keys, (_, i) => i), 0);
      const probes = [Buffer.alloc(0), ...keys, ...keys.map((k) => Buffer.concat([k, Buffer.of(0)])), Buffer.of(0xff, 0xff, 0xff, 0xff, 0xff)];
      for (const probe of probes) {
        const hi = keyPrefix(probe, 0, probe.length);
        const lo = keyPrefix(probe, 4, probe.length - 4);
        const below = keys.filter((k) => compareBytes(k, probe) < 0).length;
        expect(rankOf(mt, run, 0, probe, probe.length, hi, lo, false)).toBe(below);
        expect(rankOf(mt, run, 0, probe, probe.length, hi, lo, true)).toBe(below + (keys.some((k) => compareBytes(k, probe) === 0) ? 1 : 0));
      }
    }
  });

  it('rebase recomputes prefixes at the new depth and keeps the order', () => {
    const keys = ['pre:b', 'pre:a', 'pre:c'].map((s) => Buffer.from(s));
    const mt = groupsOf(keys);
    const set = pushRun(mt, emptyRunSet(4), sortBatch(mt, Int32Array.of(0, 1, 2), 4));
    expect(Array.from(set.runs[0]!.pfx)).toEqual([0x61000000, 0, 0x62000000, 0, 0x63000000, 0]);
    const shallower = rebase(mt, set, 0);
    expect(shallower.depth).toBe(0);
    expect(Array.from(shallower.runs[0]!.ids)).toEqual([1, 0, 2]);
    expect(shallower.runs[0]!.pfx[0]).toBe(keyPrefix(Buffer.from('pre:'), 0, 4));
  });
});
