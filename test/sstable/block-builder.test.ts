/**
 * BlockBuilder against BlockIterator: every restart interval, forward and backward iteration, seeks
 * against a sorted array, prefix sharing on the wire, and builder reuse.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareByteRanges, compareBytes } from '../../src/base/bytes.js';
import { testSeed } from '../support/rng.js';
import { BlockBuilder } from '../../sstable/block-builder.js';
import { Block, BlockIterator } from '../../sstable/block-reader.js';
import { b, dec, hex, lowerBound, sortUnique, type Entry } from './table-helpers.js';

function build(entries: readonly Entry[], interval: number): Block {
  const builder = new BlockBuilder(interval, 16);
  for (const [k, v] of entries) builder.add(k, v);
  return new Block(builder.finish().slice(), 'test.sst', 0);
}

function collect(it: BlockIterator, backward: boolean): Entry[] {
  const out: Entry[] = [];
  if (backward) {
    for (it.seekToLast(); it.valid(); it.prev()) out.push([it.key().slice(), it.value().slice()]);
    return out.reverse();
  }
  for (it.seekToFirst(); it.valid(); it.next()) out.push([it.key().slice(), it.value().slice()]);
  return out;
}

const seed = testSeed();
const entriesArb = fc.array(
  fc.tuple(fc.uint8Array({ maxLength: 24 }), fc.uint8Array({ maxLength: 40 })),
  { maxLength: 120 },
).map((e) => sortUnique(e as Entry[]));

describe('BlockBuilder + BlockIterator', () => {
  it('round-trips random entries at every restart interval (fast-check)', () => {
    fc.assert(
      fc.property(entriesArb, fc.integer({ min: 1, max: 32 }), fc.array(fc.uint8Array({ maxLength: 24 }), { maxLength: 20 }), (entries, interval, targets) => {
        const block = build(entries, interval);
        const it = new BlockIterator(compareByteRanges, block);
        expect(collect(it, false)).toEqual(entries);
        expect(collect(it, true)).toEqual(entries);
        for (const t of [...targets, ...entries.map((e) => e[0])]) {
          const i = lowerBound(entries, t);
          it.seek(t);
          expect(it.valid()).toBe(i < entries.length);
          if (i < entries.length) expect(it.key()).toEqual(entries[i]![0]);
          // seekForPrev: last key <= t
          const j = i < entries.length && compareBytes(entries[i]![0], t) === 0 ? i : i - 1;
          it.seekForPrev(t);
          expect(it.valid()).toBe(j >= 0);
          if (j >= 0) expect(it.key()).toEqual(entries[j]![0]);
        }
      }),
      { seed, numRuns: 150 },
    );
  });

  it('moves between next and prev from the middle', () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 100; i++) entries.push([b(`k${String(i).padStart(3, '0')}`), b(`v${i}`)]);
    for (const interval of [1, 3, 16]) {
      const it = new BlockIterator(compareByteRanges, build(entries, interval));
      it.seek(b('k050'));
      it.prev();
      expect(dec.decode(it.key())).toBe('k049');
      it.next();
      it.next();
      expect(dec.decode(it.key())).toBe('k051');
      it.seekToFirst();
      it.prev();
      expect(it.valid()).toBe(false);
      it.seekToLast();
      it.next();
      expect(it.valid()).toBe(false);
    }
  });

  it('stores the shared prefix once (LevelDB entry layout)', () => {
    const block = build([[b('apple'), b('red')], [b('apricot'), b('orange')]], 16);
    // 00 05 03 "apple" "red" | 02 05 06 "ricot" "orange" | restarts [0] | count 1
    expect(hex(block.data)).toBe(
      '000503' + hex(b('applered')) + '020506' + hex(b('ricotorange')) + '00000000' + '01000000',
    );
  });

  it('an empty block is one restart point and iterates as empty', () => {
    const builder = new BlockBuilder(16);
    const bytes = builder.finish();
    expect(hex(bytes)).toBe('0000000001000000');
    const it = new BlockIterator(compareByteRanges, new Block(bytes.slice(), 'e', 0));
    it.seekToFirst();
    expect(it.valid()).toBe(false);
    it.seekToLast();
    expect(it.valid()).toBe(false);
    it.seek(b('x'));
    expect(it.valid()).toBe(false);
  });

  it('is reusable after reset and copies the caller buffers', () => {
    const builder = new BlockBuilder(2);
    const key = b('aaa');
    const value = b('111');
    builder.add(key, value);
    key[0] = 0x62; // 'b': the builder must not see the change
    value[0] = 0x32;
    builder.add(key, value);
    const first = builder.finish().slice();
    builder.reset();
    expect(builder.isEmpty).toBe(true);
    builder.add(b('zzz'), b(''));
    const second = new Block(builder.finish().slice(), 's', 0);
    const it = new BlockIterator(compareByteRanges, new Block(first, 'f', 0));
    expect(collect(it, false).map(([k, v]) => `${dec.decode(k)}=${dec.decode(v)}`)).toEqual(['aaa=111', 'baa=211']);
    it.reset(second);
    expect(collect(it, false).map(([k]) => dec.decode(k))).toEqual(['zzz']);
  });

  it('estimatedSize matches the finished size', () => {
    const builder = new BlockBuilder(3);
    for (let i = 0; i < 10; i++) {
      builder.add(b(`key${i}`), new Uint8Array(i * 30));
      const est = builder.estimatedSize;
      const copy = new BlockBuilder(3);
      for (let j = 0; j <= i; j++) copy.add(b(`key${j}`), new Uint8Array(j * 30));
      expect(copy.finish().length).toBe(est);
    }
  });

  it('handles long keys, long values and varint lengths', () => {
    const prefix = new Uint8Array(1000).fill(0x61);
    const entries: Entry[] = [];
    for (let i = 0; i < 20; i++) {
      const k = new Uint8Array(1002);
      k.set(prefix);
      k[1000] = 0x30 + Math.floor(i / 10);
      k[1001] = 0x30 + (i % 10);
      entries.push([k, new Uint8Array(300 + i).fill(i)]);
    }
    for (const interval of [1, 4, 32]) {
      const block = build(entries, interval);
      expect(collect(new BlockIterator(compareByteRanges, block), true)).toEqual(entries);
    }
  });

  it('rejects a restart interval below 1', () => {
    expect(() => new BlockBuilder(0)).toThrow(/blockRestartInterval/);
  });
});
