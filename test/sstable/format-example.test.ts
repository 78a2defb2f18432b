/**
 * The worked example of sstable/FORMAT.md §6, byte for byte: the test builds the same table and
 * compares it with the hex dump in the document itself, so the spec cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { b, dec, fsWith, hex, openTable, scanForward, tableBytes } from './table-helpers.js';
import { internalKeyComparator } from '../../src/base/internal-key.js';
import { FragmentSet } from '../../src/rangedel/fragment-set.js';
import { decodeFragments, encodeFragments } from '../../src/rangedel/table-codec.js';
import { BlockBuilder } from '../../sstable/block-builder.js';
import { Block, BlockIterator } from '../../sstable/block-reader.js';
import { rangeCompareFor } from '../../sstable/range-compare.js';

const FORMAT_MD = new URL('../../sstable/FORMAT.md', import.meta.url);

/** The bytes of a ```hexdump block (`marker` names which): "offset  hex bytes  |ascii|" lines. */
function documentedBytes(marker = '```hexdump\n'): Uint8Array {
  const text = readFileSync(FORMAT_MD, 'utf8');
  const start = text.indexOf(marker);
  expect(start).toBeGreaterThan(0);
  const end = text.indexOf('```', start + marker.length);
  const out: number[] = [];
  for (const line of text.slice(start + marker.length, end).split('\n')) {
    const m = /^([0-9a-f]{8})  ((?:[0-9a-f]{2} ?)+?)\s*\|/.exec(line);
    if (!m) continue;
    expect(Number.parseInt(m[1]!, 16)).toBe(out.length);
    for (const h of m[2]!.trim().split(/\s+/)) out.push(Number.parseInt(h, 16));
  }
  return Uint8Array.from(out);
}

const example = (): Promise<Uint8Array> => tableBytes(
  [[b('apple'), b('red')], [b('apricot'), b('orange')], [b('banana'), b('yellow')]],
  { blockSize: 32, blockRestartInterval: 2, compression: 'none', bloomBitsPerKey: 0, creationTimeMs: 1_700_000_000_000 },
);

describe('FORMAT.md worked example', () => {
  it('partitioned (version 3, §9): matches the writer byte for byte and reads back', async () => {
    const entries = [[b('apple'), b('red')], [b('apricot'), b('orange')], [b('banana'), b('yellow')]] as const;
    const options = { blockSize: 32, blockRestartInterval: 2, compression: 'none', bloomBitsPerKey: 0, creationTimeMs: 1_700_000_000_000 } as const;
    const documented = documentedBytes('```hexdump v3\n');
    const built = await tableBytes(entries, { ...options, partitionedMetadata: true, metadataBlockSize: 1 });
    expect(documented.length).toBe(732);
    expect(hex(built)).toBe(hex(documented));
    // The data blocks are version 1's, byte for byte; only the metadata moved.
    expect(hex(built.subarray(0, 0x26))).toBe(hex(documentedBytes().subarray(0, 0x26)));
    const r = await openTable(await fsWith(documented), '/t.sst');
    expect((await scanForward(r.newIterator())).map(([k, v]) => `${dec.decode(k)}=${dec.decode(v)}`))
      .toEqual(['apple=red', 'apricot=orange', 'banana=yellow']);
    expect(r.footer).toEqual({ metaindex: { offset: 604, size: 31 }, index: { offset: 640, size: 39 }, formatVersion: 3 });
    expect(r.partitions()).toEqual([{ index: { offset: 38, size: 20 }, filter: undefined }, { index: { offset: 91, size: 19 }, filter: undefined }]);
    expect(r.dataBlockHandles()).toEqual([{ offset: 0, size: 33 }, { offset: 63, size: 23 }]);
    expect(r.properties.indexPartitions).toBe(2);
    expect(r.properties.indexPartitionBytes).toBe(49);
  });

  it('matches the table the writer builds, byte for byte', async () => {
    const documented = documentedBytes();
    const built = await example();
    expect(documented.length).toBe(626);
    expect(hex(built)).toBe(hex(documented));
  });

  it('reads back as documented', async () => {
    const r = await openTable(await fsWith(documentedBytes()), '/t.sst');
    expect((await scanForward(r.newIterator())).map(([k, v]) => `${dec.decode(k)}=${dec.decode(v)}`))
      .toEqual(['apple=red', 'apricot=orange', 'banana=yellow']);
    expect(r.footer).toEqual({ metaindex: { offset: 502, size: 31 }, index: { offset: 538, size: 35 }, formatVersion: 1 });
    expect(r.properties.creationTimeMs).toBe(1_700_000_000_000);
    expect(r.dataBlockHandles()).toEqual([{ offset: 0, size: 33 }, { offset: 38, size: 23 }]);
    expect(r.properties.uniqueId).toBeUndefined();
  });

  it('with a unique id: one more property entry, exactly as documented, and the rest unchanged', async () => {
    const text = readFileSync(FORMAT_MD, 'utf8');
    const start = text.indexOf('```hex unique_id\n');
    expect(start).toBeGreaterThan(0);
    const documented = text.slice(start + 16, text.indexOf('```', start + 16)).split('#')[0]!.trim().split(/\s+/).map((h) => Number.parseInt(h, 16));
    const id = Uint8Array.from({ length: 16 }, (_, i) => i);
    const built = await tableBytes(
      [[b('apple'), b('red')], [b('apricot'), b('orange')], [b('banana'), b('yellow')]],
      { blockSize: 32, blockRestartInterval: 2, compression: 'none', bloomBitsPerKey: 0, creationTimeMs: 1_700_000_000_000, uniqueId: id },
    );
    // The entry (28 bytes) and its restart offset (4): the properties block grows by 32 bytes.
    expect(built.length).toBe(626 + 32);
    const entry = Uint8Array.from(documented);
    expect(entry.length).toBe(28);
    expect(Buffer.from(built).indexOf(Buffer.from(entry))).toBeGreaterThan(0x42);
    // Data blocks are untouched by the id.
    expect(hex(built.subarray(0, 0x42))).toBe(hex(documentedBytes().subarray(0, 0x42)));
    const r = await openTable(await fsWith(built), '/t.sst');
    expect(r.properties.uniqueId).toEqual(id);
  });

  it('range-deletion block: the worked example, byte for byte, and back to the same fragments', () => {
    const text = readFileSync(FORMAT_MD, 'utf8');
    const start = text.indexOf('```hex range_del\n');
    expect(start).toBeGreaterThan(0);
    const body = text.slice(start + 17, text.indexOf('```', start + 17));
    const documented = Uint8Array.from(body.split('\n').flatMap((l) => l.split('#')[0]!.trim().split(/\s+/).filter(Boolean)).map((h) => Number.parseInt(h, 16)));
    const set = FragmentSet.fromTombstones([{ start: b('b'), end: b('f'), seq: 9 }, { start: b('b'), end: b('d'), seq: 5 }]);
    const builder = new BlockBuilder(1, 256);
    encodeFragments(set, (k, v) => builder.add(k, v));
    const built = builder.finish();
    expect(hex(built)).toBe(hex(documented));
    expect(built.length).toBe(55);
    const back = decodeFragments(new BlockIterator(rangeCompareFor(internalKeyComparator), new Block(built.slice(), 't.sst', 0)), 't.sst', 0);
    expect(back.fragments().map((f) => `${dec.decode(f.start)}-${dec.decode(f.end)}{${f.seqs.join(',')}}`)).toEqual(['b-d{9,5}', 'd-f{9}']);
  });
});

