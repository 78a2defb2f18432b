/**
 * Partitioned metadata (format versions 3 and 4, sstable/partitioned-index.ts): tables written with
 * tiny partitions answer every get, seek and scan (both directions) exactly as the sorted model does,
 * read through the block cache (syncReads) or with every partition loaded at open, with each codec
 * (zstd's blocks are written out of their add() turn); the filter
 * partitions rule out absent keys; prefix checks across partitions; and the reader holds only the
 * top-level index in memory.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { LruCache } from '../../src/cache/lru-cache.js';
import { internalKeyComparator, internalKeyToUserKey, makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { TableFormatVersion } from '../../sstable/format.js';
import type { CompressionName } from '../../sstable/compression.js';
import { BLOCK_TRAILER_SIZE } from '../../sstable/format.js';
import { formatTableLayout, readTableLayout } from '../../sstable/layout.js';
import {
  b, entriesEqual, lowerBound, openTable, scanBackward, scanForward, sortUnique, step, writeTable, type Entry,
} from './table-helpers.js';

const entryArb = fc.tuple(
  fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 5000 }).map((i) => b(`key${String(i).padStart(6, '0')}`))),
  fc.uint8Array({ maxLength: 40 }),
);

async function check(entries: Entry[], metadataBlockSize: number, syncReads: boolean, targets: Uint8Array[], compression: CompressionName): Promise<void> {
  const fs = new MemFileSystem();
  const model = sortUnique(entries);
  const r = await writeTable(fs, '/t.sst', model, { blockSize: 64, partitionedMetadata: true, metadataBlockSize, compression });
  expect(r.properties.formatVersion).toBe(TableFormatVersion.V3_PARTITIONED);
  const reader = await openTable(fs, '/t.sst', { syncReads, cache: new LruCache(1 << 20) });
  expect(entriesEqual(await scanForward(reader.newIterator()), model)).toBe(true);
  expect(entriesEqual(await scanBackward(reader.newIterator()), model)).toBe(true);
  for (const t of targets) {
    const i = lowerBound(model, t);
    const got = await reader.getAtOrAfter(t);
    if (i === model.length) { expect(got).toBeUndefined(); continue; }
    // A filter may rule out t when no key equals it: then nothing, else the model's entry.
    if (got === undefined) { expect(Buffer.compare(model[i]![0], t)).not.toBe(0); continue; }
    expect(Buffer.compare(got.key, model[i]![0])).toBe(0);
    const it = reader.newIterator();
    await step(it.seek(t));
    expect(it.valid()).toBe(true);
    expect(Buffer.compare(it.key(), model[i]![0])).toBe(0);
  }
  await reader.close();
}

describe('partitioned tables', () => {
  it('read like the model, through the cache and loaded at open', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(entryArb, { maxLength: 400 }), fc.integer({ min: 1, max: 200 }), fc.boolean(), fc.array(entryArb.map((e) => e[0]), { maxLength: 30 }),
      fc.constantFrom<CompressionName>('none', 'lz4', 'zstd'),
      async (entries, mbs, syncReads, targets, compression) => {
        await check(entries as Entry[], mbs, syncReads, [...targets, ...entries.slice(0, 20).map((e) => e[0])], compression);
      },
    ), { numRuns: 60 });
  });

  it('keeps only the top-level index in memory, and its filter partitions say no to absent keys', async () => {
    const fs = new MemFileSystem();
    const entries: Entry[] = Array.from({ length: 50000 }, (_, i) => [b(`key${String(i * 2).padStart(8, '0')}`), b(`v${i}`)]);
    const plain = await writeTable(fs, '/plain.sst', entries, { blockSize: 512 });
    const part = await writeTable(fs, '/part.sst', entries, { blockSize: 512, partitionedMetadata: true });
    expect(part.properties.indexPartitions).toBeGreaterThan(1);
    const rp = await openTable(fs, '/plain.sst', { syncReads: true, cache: new LruCache(1 << 20) });
    const rq = await openTable(fs, '/part.sst', { syncReads: true, cache: new LruCache(1 << 20) });
    expect(rq.memoryBytes()).toBeLessThan(rp.memoryBytes() / 10);
    expect(plain.properties.numDataBlocks).toBe(part.properties.numDataBlocks);
    for (let i = 0; i < 2000; i++) {
      const absent = b(`key${String(i * 20 + 1).padStart(8, '0')}`);
      await rq.getAtOrAfter(absent);
      const present = b(`key${String(i * 20).padStart(8, '0')}`);
      expect((await rq.getAtOrAfter(present))?.value).toEqual(b(`v${i * 10}`));
    }
    expect(rq.filterChecks).toBe(4000);
    expect(rq.filterNegatives).toBeGreaterThan(1900);
    await rq.verifyChecksums();
    expect(rq.dataBlockHandles().length).toBe(part.properties.numDataBlocks);
    await rp.close();
    await rq.close();
  });

  it('answers prefix probes whose keys span many partitions, and rules out absent ones', async () => {
    const fs = new MemFileSystem();
    const entries: Entry[] = [];
    for (const p of ['ab', 'ad', 'af', 'ax']) for (let i = 0; i < 500; i++) entries.push([b(`${p}${String(i).padStart(5, '0')}`), b('v')]);
    const r = await writeTable(fs, '/p.sst', entries, { blockSize: 128, partitionedMetadata: true, metadataBlockSize: 64, prefixLength: 2 });
    expect(r.properties.indexPartitions).toBeGreaterThanOrEqual(20);
    for (const syncReads of [true, false]) {
      const t = await openTable(fs, '/p.sst', { syncReads, cache: new LruCache(1 << 20) });
      for (const p of ['ab', 'ad', 'af', 'ax']) expect(t.mayContainPrefix(b(p))).toBe(true);
      let negatives = 0;
      for (const p of ['aa', 'ac', 'ae', 'ag', 'aw', 'ay', 'b0', '0a']) if (!t.mayContainPrefix(b(p))) negatives++;
      expect(negatives).toBeGreaterThanOrEqual(6);
      await t.close();
    }
  });

  it('lays out as data blocks, partitions, meta blocks, the top-level index and the footer, tiling the file', async () => {
    const fs = new MemFileSystem();
    const entries: Entry[] = Array.from({ length: 3000 }, (_, i) => [b(`k${String(i).padStart(6, '0')}`), b(`value ${i}`)]);
    const r = await writeTable(fs, '/l.sst', entries, { blockSize: 256, partitionedMetadata: true, metadataBlockSize: 256, compression: 'lz4' });
    const t = await openTable(fs, '/l.sst');
    const layout = await readTableLayout(t);
    const count = (k: string): number => layout.blocks.filter((x) => x.kind === k).length;
    expect(count('index_partition')).toBe(r.properties.indexPartitions);
    expect(count('filter_partition')).toBe(r.properties.indexPartitions);
    expect(count('data')).toBe(r.properties.numDataBlocks);
    expect(count('filter')).toBe(0);
    let at = 0;
    for (const x of layout.blocks) {
      expect(x.offset).toBe(at);
      at = x.offset + x.storedSize + (x.kind === 'footer' ? 0 : BLOCK_TRAILER_SIZE);
    }
    expect(at).toBe(r.fileSize);
    expect(formatTableLayout(layout)).toMatch(/index_partition/);
    await t.close();
  });

  it('answers prefix probes on an engine table (internal keys, the trailer-stripping transform) across partitions', async () => {
    // The top level holds internal keys, which a bare prefix cannot seek: partitions are found by the
    // filter keys of their last keys. Keys of one user-key prefix span many partitions here.
    const fs = new MemFileSystem();
    const entries: Entry[] = [];
    let seq = 1;
    for (const p of ['ab', 'ad', 'af', 'ax']) {
      for (let i = 0; i < 300; i++) entries.push([makeInternalKey(b(`${p}${String(i).padStart(4, '0')}`), seq++, ValueKind.Put), b('v')]);
    }
    const options = { comparator: internalKeyComparator, filterKeyTransform: internalKeyToUserKey, keysAreInternal: true };
    const r = await writeTable(fs, '/e.sst', entries, { ...options, blockSize: 128, partitionedMetadata: true, metadataBlockSize: 64, prefixLength: 2 });
    expect(r.properties.indexPartitions).toBeGreaterThanOrEqual(10);
    for (const syncReads of [true, false]) {
      const t = await openTable(fs, '/e.sst', { ...options, syncReads, cache: new LruCache(1 << 20) });
      for (const p of ['ab', 'ad', 'af', 'ax', 'ab0', 'ax02']) expect(t.mayContainPrefix(b(p)), p).toBe(true);
      let negatives = 0;
      for (const p of ['aa', 'ac', 'ae', 'ag', 'aw', 'ay', 'b0', '0a']) if (!t.mayContainPrefix(b(p))) negatives++;
      expect(negatives).toBeGreaterThanOrEqual(6);
      await t.close();
    }
  });
});
