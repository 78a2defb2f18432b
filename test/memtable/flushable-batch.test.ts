/**
 * FlushableBatch (src/memtable/flushable-batch.ts) against the sorted model: random batches of puts
 * and deletes with repeated keys (each op its own seq), point gets at every snapshot, forward and
 * backward iteration, seeks and seeks for prev with walks both ways. Also: a batch holding a range
 * delete is refused, a batch in key order needs no sort, and get() hands back views of the batch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KIND_FOR_SEEK, makeInternalKey, MAX_SEQUENCE, ValueKind } from '../../src/base/internal-key.js';
import type { InternalIterator } from '../../src/base/internal-iterator.js';
import { FlushableBatch, indexOps } from '../../src/memtable/flushable-batch.js';
import { WriteBatch } from '../../src/wal/write-batch.js';
import { testSeed } from '../support/rng.js';
import { drain, hex, keyArb, modelDump, SortedModel, valueArb } from './model.js';

const te = new TextEncoder();
const k = (s: string): Uint8Array => te.encode(s);
const fail = (offset: number, detail: string): never => { throw new Error(`malformed at ${offset}: ${detail}`); };

interface Op { key: Uint8Array; kind: number; value: Uint8Array }

const opArb: fc.Arbitrary<Op> = fc.record({
  key: keyArb, kind: fc.constantFrom(ValueKind.Put, ValueKind.Put, ValueKind.Delete), value: valueArb,
});
const opsArb = fc.array(opArb, { minLength: 1, maxLength: 150 });
const targetArb = fc
  .tuple(keyArb, fc.integer({ min: 0, max: 1200 }), fc.constantFrom(KIND_FOR_SEEK, 0, 1, 0x80))
  .map(([key, seq, kind]) => makeInternalKey(key, seq, kind));

function build(ops: readonly Op[], firstSeq: number): [FlushableBatch, SortedModel] {
  const b = new WriteBatch();
  const model = new SortedModel();
  ops.forEach((o, i) => {
    if (o.kind === ValueKind.Put) b.put(o.key, o.value);
    else b.delete(o.key);
    model.add(firstSeq + i, o.kind, o.key, o.kind === ValueKind.Put ? o.value : new Uint8Array(0));
  });
  const bytes = Uint8Array.from(b.encodedOps());
  const offsets = indexOps(bytes, ops.length, fail);
  if (!offsets) throw new Error('no range delete was added');
  return [new FlushableBatch(bytes, offsets, firstSeq), model];
}

function expectAt(it: InternalIterator, model: SortedModel, i: number): void {
  const e = model.entries[i];
  if (e === undefined) { expect(it.valid()).toBe(false); return; }
  expect(it.valid()).toBe(true);
  expect(hex(it.key())).toBe(hex(e.ikey));
  expect(hex(it.value())).toBe(hex(e.value));
}

describe('FlushableBatch against the sorted model', () => {
  it('get() at every snapshot finds what the model finds (fast-check)', () => {
    fc.assert(fc.property(opsArb, fc.integer({ min: 1, max: 1000 }), fc.array(keyArb, { maxLength: 10 }), (ops, firstSeq, extra) => {
      const [fb, model] = build(ops, firstSeq);
      expect(fb.entries).toBe(ops.length);
      expect(fb.firstSeq).toBe(firstSeq);
      expect(fb.lastSeq).toBe(firstSeq + ops.length - 1);
      const keys = [...ops.map((o) => o.key), ...extra];
      for (let snap = firstSeq - 1; snap <= fb.lastSeq + 1; snap++) {
        for (const key of keys) {
          const want = model.get(key, snap);
          const kind = fb.get(key, snap);
          if (!want) { expect(kind).toBe(-1); continue; }
          expect(kind).toBe(want.kind);
          expect(fb.lastSeqFound()).toBe(want.seq);
          expect(hex(fb.lastValue())).toBe(hex(want.value));
        }
      }
    }), { seed: testSeed(), numRuns: 60 });
  });

  it('iterates forward and backward in internal order (fast-check)', () => {
    fc.assert(fc.property(opsArb, fc.integer({ min: 1, max: 1000 }), (ops, firstSeq) => {
      const [fb, model] = build(ops, firstSeq);
      expect(drain(fb.newIterator())).toEqual(modelDump(model));
      expect(drain(fb.newIterator(), true)).toEqual(modelDump(model, true));
    }), { seed: testSeed(), numRuns: 100 });
  });

  it('seeks, seeks for prev and then walks both ways (fast-check)', () => {
    fc.assert(fc.property(opsArb, fc.integer({ min: 1, max: 1000 }),
      fc.array(fc.tuple(targetArb, fc.boolean(), fc.array(fc.boolean(), { maxLength: 8 })), { maxLength: 12 }),
      (ops, firstSeq, seeks) => {
        const [fb, model] = build(ops, firstSeq);
        const it = fb.newIterator();
        for (const [target, forPrev, moves] of seeks) {
          let i: number;
          if (forPrev) { void it.seekForPrev(target); i = model.floorIndex(target); }
          else { void it.seek(target); i = model.lowerBound(target); }
          expectAt(it, model, i);
          for (const forward of moves) {
            if (!it.valid()) break;
            if (forward) { void it.next(); i++; } else { void it.prev(); i--; }
            expectAt(it, model, i);
          }
        }
      }), { seed: testSeed(), numRuns: 100 });
  });

  it('keys stay valid after the iterator moves on (as MemTable\'s views do)', () => {
    const [fb] = build([{ key: k('a'), kind: ValueKind.Put, value: k('1') }, { key: k('b'), kind: ValueKind.Put, value: k('2') }], 7);
    const it = fb.newIterator();
    void it.seekToFirst();
    const first = it.key();
    void it.next();
    expect(hex(first)).toBe(hex(makeInternalKey(k('a'), 7, ValueKind.Put)));
    expect(hex(it.key())).toBe(hex(makeInternalKey(k('b'), 8, ValueKind.Put)));
  });

  it('a batch holding a range delete is not made flushable', () => {
    const b = new WriteBatch().put('a', '1').deleteRange('b', 'c').put('d', '2');
    expect(indexOps(b.encodedOps(), b.length, fail)).toBeUndefined();
  });

  it('serves a batch of keys written in order and one written in reverse alike', () => {
    for (const reverse of [false, true]) {
      const n = 5000;
      const ops: Op[] = [];
      for (let i = 0; i < n; i++) {
        const j = reverse ? n - 1 - i : i;
        ops.push({ key: k(`key${String(j).padStart(6, '0')}`), kind: ValueKind.Put, value: k(`v${j}`) });
      }
      const [fb, model] = build(ops, 100);
      expect(drain(fb.newIterator())).toEqual(modelDump(model));
      expect(fb.get(k('key002500'), MAX_SEQUENCE)).toBe(ValueKind.Put);
      expect(new TextDecoder().decode(fb.lastValue())).toBe('v2500');
      expect(fb.get(k('key0025'), MAX_SEQUENCE)).toBe(-1);
      expect(fb.rangeDeletions).toBe(0);
      expect(fb.rangeDelFragments().isEmpty).toBe(true);
      expect(fb.ownStretches(MAX_SEQUENCE)).toBeUndefined();
      expect(fb.approximateMemoryUsage()).toBeGreaterThanOrEqual(n * 8);
    }
  });
});
