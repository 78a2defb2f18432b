/**
 * Properties block: round trip, optional fields, forward compatibility (unknown names), and every
 * way a hostile block can be malformed.
 */
import { describe, expect, it } from 'vitest';
import { CorruptionError } from '../../src/errors.js';
import { BlockBuilder } from '../../sstable/block-builder.js';
import { Block, BlockIterator } from '../../sstable/block-reader.js';
import { compareByteRanges } from '../../src/base/bytes.js';
import { decodeProperties, encodeProperties, type TableProperties } from '../../sstable/properties.js';
import { b } from './table-helpers.js';

const props: TableProperties = {
  formatVersion: 1, comparatorName: 'strata.InternalKeyComparator', numEntries: 3, numDeletions: 1,
  numRangeDeletions: 0, rawKeyBytes: 30, rawValueBytes: 2 ** 40, dataSize: 100, numDataBlocks: 1,
  indexSize: 20, filterSize: 13, smallestKey: b('a\u0000'), largestKey: b('zz'), smallestSeq: 5,
  largestSeq: 2 ** 50, compression: 'zstd', filterPolicy: 'strata.bloom.v1', bloomBitsPerKey: 10,
  creationTimeMs: 1_700_000_000_000, blockSize: 4096, blockRestartInterval: 16,
};

const decode = (bytes: Uint8Array): TableProperties => decodeProperties(new Block(bytes, 'p.sst', 77));

/** A properties block from name/value pairs given as strings or bytes (sorted by the caller). */
function rawBlock(pairs: Array<[string, Uint8Array]>): Uint8Array {
  const builder = new BlockBuilder(1);
  for (const [k, v] of pairs) builder.add(b(k), v);
  return builder.finish().slice();
}

/** The encoded pairs of `props`, for editing. */
function pairsOf(p: TableProperties): Array<[string, Uint8Array]> {
  const it = new BlockIterator(compareByteRanges, new Block(encodeProperties(p), 'p', 0));
  const out: Array<[string, Uint8Array]> = [];
  for (it.seekToFirst(); it.valid(); it.next()) out.push([new TextDecoder().decode(it.key()), it.value().slice()]);
  return out;
}

describe('properties', () => {
  it('round-trips a unique id; absent means no entry; an empty or over-long one is corruption', () => {
    const withId = { ...props, uniqueId: Uint8Array.from({ length: 16 }, (_, i) => 255 - i) };
    expect(decode(encodeProperties(withId))).toEqual(withId);
    expect(pairsOf(props).some(([k]) => k === 'unique_id')).toBe(false);
    expect('uniqueId' in decode(encodeProperties(props))).toBe(false);
    for (const bad of [new Uint8Array(0), new Uint8Array(65)]) {
      const pairs = pairsOf(props);
      pairs.push(['unique_id', bad]);
      expect(() => decode(rawBlock(pairs))).toThrow(/p\.sst.*offset 77.*unique_id of \d+ bytes/);
    }
  });

  it('round-trips every field, including large numbers and binary keys', () => {
    expect(decode(encodeProperties(props))).toEqual(props);
  });

  it('round-trips an empty table without keys or sequence numbers', () => {
    const empty = { ...props, numEntries: 0, smallestKey: undefined, largestKey: undefined, smallestSeq: undefined, largestSeq: undefined };
    expect(decode(encodeProperties(empty))).toEqual(empty);
  });

  it('ignores unknown names (later versions may add properties)', () => {
    const pairs = pairsOf(props);
    pairs.push(['zzz.future', b('anything')]);
    expect(decode(rawBlock(pairs))).toEqual(props);
  });

  it('refuses a missing required property', () => {
    const pairs = pairsOf(props).filter(([k]) => k !== 'entries');
    expect(() => decode(rawBlock(pairs))).toThrow(/missing entries/);
  });

  it('refuses names out of order or repeated', () => {
    const pairs = pairsOf(props);
    const swapped = [pairs[1]!, pairs[0]!, ...pairs.slice(2)];
    expect(() => decode(rawBlock(swapped))).toThrow(/out of order/);
    const repeated = [pairs[0]!, pairs[0]!, ...pairs.slice(1)];
    expect(() => decode(rawBlock(repeated))).toThrow(/out of order/);
  });

  it('refuses malformed numbers, strings and key/entry inconsistencies', () => {
    const edit = (name: string, value: Uint8Array | undefined): Uint8Array =>
      rawBlock(pairsOf(props).flatMap(([k, v]): Array<[string, Uint8Array]> => (k === name ? (value ? [[k, value]] : []) : [[k, v]])));
    expect(() => decode(edit('entries', new Uint8Array([0x80])))).toThrow(/entries: bad number/);
    expect(() => decode(edit('entries', new Uint8Array([0x01, 0x01])))).toThrow(/entries: bad number/);
    expect(() => decode(edit('comparator', new Uint8Array([0xff, 0xfe])))).toThrow(/not UTF-8/);
    expect(() => decode(edit('compression', b('snappy')))).toThrow(/unknown compression/);
    expect(() => decode(edit('key.largest', undefined))).toThrow(/smallest\/largest/);
    expect(() => decode(edit('seq.largest', undefined))).toThrow(/seq/);
    try {
      decode(edit('entries', new Uint8Array([0x80])));
    } catch (e) {
      expect(e).toBeInstanceOf(CorruptionError);
      expect((e as CorruptionError).offset).toBe(77);
    }
  });
});
