import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { equalBytes } from '../../src/base/bytes.js';
import type { InternalIterator } from '../../src/base/internal-iterator.js';
import { compareInternalKeys, KIND_FOR_SEEK, makeInternalKey, MAX_SEQUENCE, ValueKind } from '../../src/base/internal-key.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { testSeed, withSeed } from '../support/rng.js';
import { drain, hex, keyArb, kindArb, modelDump, SortedModel, valueArb, type ModelEntry } from './model.js';

const te = new TextEncoder();
const k = (s: string): Uint8Array => te.encode(s);

const targetArb = fc
  .tuple(keyArb, fc.integer({ min: 0, max: 400 }), fc.constantFrom(KIND_FOR_SEEK, 0, 1, 0x0f, 0x80))
  .map(([key, seq, kind]) => makeInternalKey(key, seq, kind));

/** Checks the iterator sits on model entry i (or is invalid when i is out of range). */
function expectAt(it: InternalIterator, model: SortedModel, i: number): void {
  const e = model.entries[i];
  if (e === undefined) {
    expect(it.valid()).toBe(false);
    return;
  }
  expect(it.valid()).toBe(true);
  expect(hex(it.key())).toBe(hex(e.ikey));
  expect(hex(it.value())).toBe(hex(e.value));
}

function build(ops: { key: Uint8Array; kind: number; value: Uint8Array }[], seqs: number[]): [MemTable, SortedModel] {
  const mt = new MemTable();
  const model = new SortedModel();
  ops.forEach((o, i) => {
    mt.add(seqs[i]!, o.kind, o.key, o.value);
    model.add(seqs[i]!, o.kind, o.key, o.value);
  });
  return [mt, model];
}

const addsArb = fc.array(fc.record({ key: keyArb, kind: kindArb, value: valueArb }), { maxLength: 120 });
/** Unique seqs in 1..400, in random order. */
const seqsArb = fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { minLength: 120, maxLength: 120 });

describe('MemTableIterator against the sorted model', () => {
  it('iterates forward and backward in internal order (fast-check)', () => {
    fc.assert(
      fc.property(addsArb, seqsArb, (ops, seqs) => {
        const [mt, model] = build(ops, seqs);
        expect(drain(mt.newIterator())).toEqual(modelDump(model));
        expect(drain(mt.newIterator(), true)).toEqual(modelDump(model, true));
      }),
      { seed: testSeed(), numRuns: 80 },
    );
  });

  it('seeks, seeks for prev and then walks both ways (fast-check)', () => {
    fc.assert(
      fc.property(addsArb, seqsArb, fc.array(fc.tuple(targetArb, fc.boolean(), fc.array(fc.boolean(), { maxLength: 8 })), { maxLength: 12 }),
        (ops, seqs, seeks) => {
          const [mt, model] = build(ops, seqs);
          const it = mt.newIterator();
          for (const [target, forPrev, moves] of seeks) {
            let i: number;
            if (forPrev) { it.seekForPrev(target); i = model.floorIndex(target); }
            else { it.seek(target); i = model.lowerBound(target); }
            expectAt(it, model, i);
            for (const forward of moves) {
              if (!it.valid()) break;
              if (forward) { it.next(); i++; } else { it.prev(); i--; }
              expectAt(it, model, i);
            }
          }
        }),
      { seed: testSeed(), numRuns: 80 },
    );
  });

  it('is empty when the memtable is', () => {
    const it = new MemTable().newIterator();
    it.seekToFirst();
    expect(it.valid()).toBe(false);
    it.seekToLast();
    expect(it.valid()).toBe(false);
    it.seek(makeInternalKey(k('a'), 1, KIND_FOR_SEEK));
    expect(it.valid()).toBe(false);
    it.seekForPrev(makeInternalKey(k('a'), 1, KIND_FOR_SEEK));
    expect(it.valid()).toBe(false);
  });

  it('seeks to targets below, above and inside the keys\' common prefix', () => {
    const mt = new MemTable();
    const model = new SortedModel();
    for (const [i, s] of ['user:0001', 'user:0002', 'user:0002x', 'user:00'].entries()) {
      mt.add(i + 1, ValueKind.Put, k(s), k(s));
      model.add(i + 1, ValueKind.Put, k(s), k(s));
    }
    const it = mt.newIterator();
    for (const t of ['', 'a', 'user', 'user:', 'user:0', 'user:00', 'user:0001', 'user:0002y', 'user:1', 'v', 'user:00\u0000']) {
      for (const seq of [0, 2, MAX_SEQUENCE]) {
        const target = makeInternalKey(k(t), seq, KIND_FOR_SEEK);
        it.seek(target);
        expectAt(it, model, model.lowerBound(target));
        it.seekForPrev(target);
        expectAt(it, model, model.floorIndex(target));
      }
    }
  });

  it('walks 2000 versions of one key in both directions and seeks into them', () => {
    const mt = new MemTable();
    const model = new SortedModel();
    for (let s = 1; s <= 2000; s++) {
      for (const key of ['a', 'hot', 'z']) {
        if (key !== 'hot' && s % 500 !== 0) continue;
        mt.add(s * 4 + key.length, ValueKind.Put, k(key), k(`${key}${s}`));
        model.add(s * 4 + key.length, ValueKind.Put, k(key), k(`${key}${s}`));
      }
    }
    expect(drain(mt.newIterator())).toEqual(modelDump(model));
    expect(drain(mt.newIterator(), true)).toEqual(modelDump(model, true));
    const it = mt.newIterator();
    for (let s = 0; s < 9000; s += 97) {
      const target = makeInternalKey(k('hot'), s, ValueKind.Put);
      it.seek(target);
      expectAt(it, model, model.lowerBound(target));
      it.seekForPrev(target);
      expectAt(it, model, model.floorIndex(target));
    }
  });
});

describe('MemTableIterator while adds continue', () => {
  type Cmd =
    | { op: 'add'; key: Uint8Array; kind: number; value: Uint8Array }
    | { op: 'seek' | 'seekForPrev'; target: Uint8Array }
    | { op: 'first' | 'last' | 'next' | 'prev' };
  const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('add' as const), key: keyArb, kind: kindArb, value: valueArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('seek' as const, 'seekForPrev' as const), target: targetArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('first' as const, 'last' as const) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('next' as const, 'prev' as const) }) },
  );

  it('never skips nor repeats an entry that existed when it was positioned (fast-check)', () => {
    fc.assert(
      fc.property(addsArb, fc.array(cmdArb, { maxLength: 150 }), seqsArb, (initial, cmds, seqPool) => {
        // Seqs come from a shuffled pool: later adds may link into the middle of a version chain.
        const seqs = [...seqPool, ...Array.from({ length: 200 }, (_, i) => 401 + i)];
        const [mt, model] = build(initial, seqs);
        let next = initial.length;
        const it = mt.newIterator();
        let atPositioning: readonly ModelEntry[] = [];
        const position = (i: number): void => {
          atPositioning = model.entries.slice();
          expectAt(it, model, i);
        };
        for (const c of cmds) {
          if (c.op === 'add') {
            const seq = seqs[next++]!;
            mt.add(seq, c.kind, c.key, c.value);
            model.add(seq, c.kind, c.key, c.value);
          } else if (c.op === 'seek') { it.seek(c.target); position(model.lowerBound(c.target)); }
          else if (c.op === 'seekForPrev') { it.seekForPrev(c.target); position(model.floorIndex(c.target)); }
          else if (c.op === 'first') { it.seekToFirst(); position(0); }
          else if (c.op === 'last') { it.seekToLast(); position(model.entries.length - 1); }
          else if (it.valid()) {
            const from = it.key().slice();
            const forward = c.op === 'next';
            if (forward) it.next(); else it.prev();
            // The nearest entry beyond `from` that existed at positioning bounds the move.
            const bound = forward
              ? atPositioning.find((e) => compareInternalKeys(e.ikey, from) > 0)
              : atPositioning.findLast((e) => compareInternalKeys(e.ikey, from) < 0);
            if (!it.valid()) {
              expect(bound).toBeUndefined();
              continue;
            }
            const to = it.key();
            const step = compareInternalKeys(to, from);
            expect(forward ? step > 0 : step < 0).toBe(true);
            if (bound) {
              const c2 = compareInternalKeys(to, bound.ikey);
              expect(forward ? c2 <= 0 : c2 >= 0).toBe(true);
            }
            const here = model.entries[model.lowerBound(to)];
            expect(here !== undefined && equalBytes(here.ikey, to) && equalBytes(here.value, it.value())).toBe(true);
          }
        }
      }),
      { seed: testSeed(), numRuns: 150 },
    );
  });

  it('finishes a scan across 40k adds that sort, merge and grow every structure', async () => {
    await withSeed('iterator-during-growth', (rng) => {
      const mt = new MemTable();
      const model = new SortedModel();
      let seq = 0;
      const keys: Uint8Array[] = [];
      const add = (key: Uint8Array): void => {
        const v = rng.bytes(rng.int(8));
        mt.add(++seq, ValueKind.Put, key, v);
        model.add(seq, ValueKind.Put, key, v);
        keys.push(key);
      };
      for (let i = 0; i < 2000; i++) add(Uint8Array.from([...k('row/'), ...rng.bytes(3)]));
      const before = modelDump(model);
      const it = mt.newIterator();
      it.seekToFirst();
      const seen: string[] = [];
      const seenKeys: Uint8Array[] = [];
      const firstKey = it.key();
      const firstHex = hex(firstKey);
      while (it.valid()) {
        seen.push(`${hex(it.key())}=${hex(it.value())}`);
        seenKeys.push(it.key().slice());
        // Meanwhile: new keys everywhere, new versions of old keys, a shrinking common prefix.
        // (Bounded: new versions ahead of the iterator are visible, so endless adds could outrun it.)
        for (let j = 0; j < 20 && mt.entries < 42_000; j++) add(rng.int(3) === 0 ? Uint8Array.from([...k('r'), ...rng.bytes(4)]) : rng.pick(keys));
        it.next();
      }
      expect(hex(firstKey)).toBe(firstHex); // views stay valid: records never move
      expect(mt.entries).toBeGreaterThan(40_000);
      const seenSet = new Set(seen);
      expect(seenSet.size).toBe(seen.length);
      for (const e of before) expect(seenSet.has(e)).toBe(true);
      for (let i = 1; i < seenKeys.length; i++) expect(compareInternalKeys(seenKeys[i - 1]!, seenKeys[i]!)).toBeLessThan(0);
      expect(drain(mt.newIterator())).toEqual(modelDump(model));
    });
  });
});
