import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { equalBytes } from '../../src/base/bytes.js';
import { ValueKind, MAX_SEQUENCE } from '../../src/base/internal-key.js';
import { MemTable, memtableFull, MISS } from '../../src/memtable/memtable.js';
import { WriteBatch } from '../../src/wal/write-batch.js';
import { makeRng, testSeed, withSeed } from '../support/rng.js';
import { drain, keyArb, kindArb, modelDump, SortedModel, valueArb } from './model.js';

const te = new TextEncoder();
const k = (s: string): Uint8Array => te.encode(s);

/** Adds as ops with unique seqs: in order, or shuffled (the memtable must not rely on the order). */
const opsArb = fc
  .record({
    ops: fc.array(fc.tuple(keyArb, kindArb, valueArb), { maxLength: 150 }),
    shuffle: fc.boolean(),
    base: fc.constantFrom(0, 2 ** 40, MAX_SEQUENCE - 1000),
    perm: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 150, maxLength: 150 }),
  })
  .map(({ ops, shuffle, base, perm }) => {
    const seqs = ops.map((_, i) => base + i + 1);
    if (shuffle) seqs.sort((a, b) => perm[a - base - 1]! - perm[b - base - 1]!);
    return ops.map(([key, kind, value], i) => ({ seq: seqs[i]!, key, kind, value }));
  });

describe('MemTable.get', () => {
  it('answers like the sorted model at every snapshot (fast-check)', () => {
    const seed = testSeed();
    fc.assert(
      fc.property(opsArb, fc.array(keyArb, { maxLength: 10 }), (ops, extraKeys) => {
        const mt = new MemTable();
        const model = new SortedModel();
        for (const o of ops) {
          mt.add(o.seq, o.kind, o.key, o.value);
          model.add(o.seq, o.kind, o.key, o.value);
        }
        const snaps = [0, ...ops.map((o) => o.seq), ...ops.map((o) => o.seq - 1), MAX_SEQUENCE];
        for (const key of [...ops.map((o) => o.key), ...extraKeys]) {
          for (const snap of snaps) {
            const want = model.get(key, snap);
            const got = mt.get(key, snap);
            if (want === undefined) expect(got).toBe(MISS);
            else {
              expect(got).toBe(want.kind);
              expect(equalBytes(mt.lastValue(), want.value)).toBe(true);
            }
          }
        }
        expect(mt.entries).toBe(ops.length);
      }),
      { seed, numRuns: 60 },
    );
  });

  it('finds each of 2000 versions of one key at its own snapshot', () => {
    const mt = new MemTable();
    for (let s = 1; s <= 2000; s++) mt.add(s * 2, s % 7 === 0 ? ValueKind.Delete : ValueKind.Put, k('hot'), k(`v${s}`));
    expect(mt.get(k('hot'), 1)).toBe(MISS);
    for (let s = 1; s <= 2000; s++) {
      const kind = s % 7 === 0 ? ValueKind.Delete : ValueKind.Put;
      expect(mt.get(k('hot'), s * 2)).toBe(kind);
      expect(mt.get(k('hot'), s * 2 + 1)).toBe(kind);
      if (kind === ValueKind.Put) expect(Buffer.from(mt.lastValue()).toString()).toBe(`v${s}`);
    }
    expect(mt.get(k('hot2'), 10_000)).toBe(MISS);
    expect(mt.get(k('ho'), 10_000)).toBe(MISS);
  });

  it('keeps empty keys, empty values and keys that are prefixes of each other apart', () => {
    const mt = new MemTable();
    mt.add(1, ValueKind.Put, new Uint8Array(0), k('empty-key'));
    mt.add(2, ValueKind.Put, k('a'), new Uint8Array(0));
    mt.add(3, ValueKind.Put, k('ab'), k('ab'));
    mt.add(4, ValueKind.Delete, k('abc'), new Uint8Array(0));
    mt.add(5, ValueKind.Put, Uint8Array.of(0x61, 0), k('a\\0'));
    expect(mt.get(new Uint8Array(0), 9)).toBe(ValueKind.Put);
    expect(Buffer.from(mt.lastValue()).toString()).toBe('empty-key');
    expect(mt.get(k('a'), 9)).toBe(ValueKind.Put);
    expect(mt.lastValue().length).toBe(0);
    expect(mt.get(k('abc'), 9)).toBe(ValueKind.Delete);
    expect(mt.get(Uint8Array.of(0x61, 0), 9)).toBe(ValueKind.Put);
    expect(Buffer.from(mt.lastValue()).toString()).toBe('a\\0');
    expect(mt.get(k('abcd'), 9)).toBe(MISS);
  });

  it('copies the caller\'s buffers', () => {
    const mt = new MemTable();
    const key = k('key');
    const value = k('value');
    mt.add(1, ValueKind.Put, key, value);
    key.fill(0);
    value.fill(0);
    expect(mt.get(k('key'), 1)).toBe(ValueKind.Put);
    expect(Buffer.from(mt.lastValue()).toString()).toBe('value');
  });

  it('copies a reused Buffer key, the first one included (Buffer.slice would share its memory)', () => {
    const mt = new MemTable();
    const model = new SortedModel();
    const key = Buffer.alloc(12);
    for (let i = 0; i < 300; i++) {
      key.write(`key:${String(i * 7919 % 300).padStart(8, '0')}`);
      mt.add(i + 1, ValueKind.Put, key, key);
      model.add(i + 1, ValueKind.Put, key, key);
      if (i % 50 === 0) mt.newIterator().seekToFirst(); // sorts what is pending, at the common prefix
    }
    key.fill(0xff);
    expect(drain(mt.newIterator())).toEqual(modelDump(model));
  });

  it('refuses lastValue() before any hit', () => {
    const mt = new MemTable();
    expect(() => mt.lastValue()).toThrow(expect.objectContaining({ code: 'ERR_INTERNAL' }));
  });

  it('tracks entries, firstSeq and lastSeq', () => {
    const mt = new MemTable();
    expect([mt.entries, mt.firstSeq, mt.lastSeq]).toEqual([0, 0, 0]);
    mt.add(10, ValueKind.Put, k('b'), k('1'));
    mt.add(12, ValueKind.Put, k('a'), k('2'));
    mt.add(11, ValueKind.Delete, k('b'), k(''));
    expect([mt.entries, mt.firstSeq, mt.lastSeq]).toEqual([3, 10, 12]);
  });
});

describe('MemTable at scale', () => {
  it('matches the model across sorted batches, merges and a shrinking common prefix', async () => {
    await withSeed('memtable-scale', (rng) => {
      const mt = new MemTable();
      const model = new SortedModel();
      const n = 30_000; // several 8192-group batches, so runs are sorted and merged
      const keys: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        // The common prefix starts as "tenant/0001/" and shrinks twice along the way.
        const stem = i < 12_000 ? 'tenant/0001/' : i < 25_000 ? 'tenant/0' : 't';
        const key = rng.int(4) === 0 && keys.length > 0 ? rng.pick(keys) : Uint8Array.from([...k(stem), ...rng.bytes(rng.int(6))]);
        keys.push(key);
        const value = rng.bytes(rng.int(20));
        mt.add(i + 1, ValueKind.Put, key, value);
        model.add(i + 1, ValueKind.Put, key, value);
        if (i % 4999 === 0) expect(drain(mt.newIterator())).toEqual(modelDump(model));
      }
      expect(drain(mt.newIterator())).toEqual(modelDump(model));
      expect(drain(mt.newIterator(), true)).toEqual(modelDump(model, true));
      for (let i = 0; i < 3000; i++) {
        const key = rng.pick(keys);
        const snap = rng.int(n + 2);
        const want = model.get(key, snap);
        expect(mt.get(key, snap)).toBe(want === undefined ? MISS : want.kind);
        if (want) expect(equalBytes(mt.lastValue(), want.value)).toBe(true);
      }
    });
  });
});

describe('MemTable memory', () => {
  it('stores a 10 MiB value once, in its own chunk', () => {
    const mt = new MemTable();
    const big = makeRng(7).bytes(1024).subarray(0, 1024);
    const value = new Uint8Array(10 * 2 ** 20);
    for (let i = 0; i < value.length; i += big.length) value.set(big, i);
    const before = mt.approximateMemoryUsage();
    mt.add(1, ValueKind.Put, k('big'), value);
    mt.add(2, ValueKind.Put, k('small'), k('x'));
    const grown = mt.approximateMemoryUsage() - before;
    expect(grown).toBeGreaterThanOrEqual(value.length);
    expect(grown).toBeLessThan(value.length + 64 * 1024);
    expect(mt.get(k('big'), 2)).toBe(ValueKind.Put);
    expect(equalBytes(mt.lastValue(), value)).toBe(true);
    const it = mt.newIterator();
    it.seekToFirst();
    expect(equalBytes(it.value(), value)).toBe(true);
  });

  it('grows with the data, starts small and never shrinks', () => {
    const mt = new MemTable();
    const empty = mt.approximateMemoryUsage();
    expect(empty).toBeLessThan(8 * 1024);
    const rng = makeRng(3);
    let last = empty;
    let raw = 0;
    for (let i = 0; i < 50_000; i++) {
      const key = rng.bytes(16);
      const value = rng.bytes(100);
      mt.add(i + 1, ValueKind.Put, key, value);
      raw += key.length + value.length + 8;
      const now = mt.approximateMemoryUsage();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
    expect(last).toBeGreaterThan(raw);
    // Index overhead on 16-byte keys and 100-byte values stays below the raw bytes themselves.
    expect(last).toBeLessThan(2 * raw);
  });
});

describe('MemTable range tombstones', () => {
  const str = (u: Uint8Array): string => new TextDecoder().decode(u);
  const frags = (m: MemTable): string[] =>
    m.rangeDelFragments().fragments().map((f) => `${str(f.start)}-${str(f.end)}{${f.seqs.join(',')}}`);
  const fail = (off: number, detail: string): never => { throw new Error(`${off}: ${detail}`); };

  it('addOps keeps a batch range delete beside the entries, not as one, at its own sequence', () => {
    const m = new MemTable();
    const b = new WriteBatch().put('a', '1').deleteRange('b', 'f').put('g', '2').deleteRange('d', 'k');
    const ops = b.encodedOps();
    expect(m.addOps(ops, 0, ops.length, b.length, 10, fail)).toBe(14);
    expect(m.rangeDeletions).toBe(2);
    expect(m.entries).toBe(4);
    expect(drain(m.newIterator()).length).toBe(2); // only the puts are entries
    expect(m.get(k('c'), 100)).toBe(MISS); // the point structure knows nothing of ranges
    expect(frags(m)).toEqual(['b-d{11}', 'd-f{13,11}', 'f-k{13}']);
    expect(m.rangeDelFragments().maxCoveringSeq(k('e'), 12)).toBe(11);
    expect([m.firstSeq, m.lastSeq]).toEqual([10, 13]);
  });

  it('a memtable of tombstones only is not empty and has their sequence range', () => {
    const m = new MemTable();
    m.add(7, ValueKind.RangeDelete, k('a'), k('b'));
    m.add(5, ValueKind.RangeDelete, k('x'), k('y'));
    expect(m.entries).toBe(2);
    expect(m.rangeDeletions).toBe(2);
    expect(drain(m.newIterator())).toEqual([]);
    expect([m.firstSeq, m.lastSeq]).toEqual([5, 7]);
    m.add(9, ValueKind.Put, k('m'), k('v'));
    expect([m.firstSeq, m.lastSeq]).toEqual([5, 9]);
  });

  it('copies the keys it keeps (the caller reuses its buffers)', () => {
    const m = new MemTable();
    const start = k('aa');
    const end = k('cc');
    m.add(1, ValueKind.RangeDelete, start, end);
    start.fill(0x7a);
    end.fill(0x7a);
    expect(frags(m)).toEqual(['aa-cc{1}']);
  });

  it('counts tombstones in memory usage, so they fill a memtable', () => {
    const m = new MemTable();
    const before = m.approximateMemoryUsage();
    const big = new Uint8Array(10_000).fill(0x62);
    m.add(1, ValueKind.RangeDelete, k('a'), big);
    expect(m.approximateMemoryUsage()).toBeGreaterThanOrEqual(before + 10_001);
    expect(memtableFull(m, { writeBufferSize: before + 10_000 })).toBe(true);
    expect(m.rangeDelFragments().length).toBe(1); // held as a tombstone, not as an entry
  });

  it('share() carries the tombstones to a view (a flush worker)', () => {
    const m = new MemTable();
    m.add(1, ValueKind.Put, k('a'), k('1'));
    m.add(2, ValueKind.RangeDelete, k('b'), k('e'));
    m.add(3, ValueKind.RangeDelete, k('c'), k('z'));
    const shared = structuredClone(m.share());
    const view = new MemTable(shared);
    expect(frags(view)).toEqual(frags(m));
    expect(view.entries).toBe(3);
    expect([view.firstSeq, view.lastSeq]).toEqual([1, 3]);
  });

  it('the fragments are rebuilt when a tombstone arrives after they were read', () => {
    const m = new MemTable();
    m.add(1, ValueKind.RangeDelete, k('a'), k('c'));
    expect(frags(m)).toEqual(['a-c{1}']);
    m.add(2, ValueKind.RangeDelete, k('b'), k('d'));
    expect(frags(m)).toEqual(['a-b{1}', 'b-c{2,1}', 'c-d{2}']);
  });
});

