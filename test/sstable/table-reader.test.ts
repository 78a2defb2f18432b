/**
 * Writer -> reader round trips for every codec (fast-check: block sizes 64 B..64 KiB, restart
 * intervals 1..32, empty values), then the reader's features: filters, the sync path, the block
 * cache, comparators, large values, long shared prefixes, verification.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes, equalBytes } from '../../src/base/bytes.js';
import { internalKeyComparator, internalKeyToUserKey, makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { CorruptionError, InvalidArgumentError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { LruCache } from '../../src/cache/lru-cache.js';
import { testSeed, withSeed } from '../support/rng.js';
import { join } from 'node:path';
import { NodeFileSystem } from '../../src/fs/node-fs.js';
import { tempDir } from '../support/tmpdir.js';
import { TableWriter } from '../../sstable/table-writer.js';
import { TableReader, type TableEntry } from '../../sstable/table-reader.js';
import { putFixed32 } from '../../src/base/coding.js';
import { crc32c, maskCrc } from '../../src/base/crc32c.js';
import { BlockBuilder } from '../../sstable/block-builder.js';
import { encodeFooter, putBlockHandle, type BlockHandle } from '../../sstable/format.js';
import { encodeProperties } from '../../sstable/properties.js';
import { readTableLayout } from '../../sstable/layout.js';
import type { CompressionName } from '../../sstable/compression.js';
import {
  b, dec, entriesEqual, fsWith, lowerBound, openTable, scanBackward, scanForward, sortUnique, step, writeTable, type Entry,
} from './table-helpers.js';

const CODECS: CompressionName[] = ['none', 'lz4', 'zstd'];

/** Checks point lookups, seeks and both scans against the sorted model. */
async function checkAgainstModel(r: TableReader, entries: readonly Entry[], targets: readonly Uint8Array[], exactFilter: boolean): Promise<void> {
  expect(entriesEqual(await scanForward(r.newIterator()), entries)).toBe(true);
  expect(entriesEqual(await scanBackward(r.newIterator()), entries)).toBe(true);
  const it = r.newIterator();
  for (const t of [...entries.map((e) => e[0]), ...targets]) {
    const i = lowerBound(entries, t);
    const present = i < entries.length && compareBytes(entries[i]![0], t) === 0;
    const got = await r.getAtOrAfter(t);
    if (present || exactFilter) {
      expect(got === undefined).toBe(i === entries.length);
    }
    if (got !== undefined) {
      expect(equalBytes(got.key, entries[i]![0])).toBe(true);
      expect(equalBytes(got.value, entries[i]![1])).toBe(true);
    }
    await step(it.seek(t));
    expect(it.valid()).toBe(i < entries.length);
    if (it.valid()) expect(equalBytes(it.key(), entries[i]![0])).toBe(true);
    const j = present ? i : i - 1;
    await step(it.seekForPrev(t));
    expect(it.valid()).toBe(j >= 0);
    if (it.valid()) expect(equalBytes(it.key(), entries[j]![0])).toBe(true);
  }
}

const seed = testSeed();
const entriesArb = fc.array(
  fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 300 }))),
  { maxLength: 250 },
).map((e) => sortUnique(e as Entry[]));
const blockSizeArb = fc.oneof(fc.constantFrom(64, 65536), fc.integer({ min: 64, max: 65536 }), fc.integer({ min: 64, max: 2048 }));

describe('table round trip', () => {
  for (const compression of CODECS) {
    it(`random tables with ${compression} (fast-check)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          entriesArb, blockSizeArb, fc.integer({ min: 1, max: 32 }), fc.constantFrom(0, 10),
          fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 15 }), fc.boolean(),
          async (entries, blockSize, blockRestartInterval, bloomBitsPerKey, targets, syncReads) => {
            const fs = new MemFileSystem();
            const res = await writeTable(fs, '/t.sst', entries, { blockSize, blockRestartInterval, bloomBitsPerKey, compression });
            const r = await openTable(fs, '/t.sst', { syncReads, cache: new LruCache(1 << 20) });
            expect(r.properties.numEntries).toBe(entries.length);
            expect(res.fileSize).toBe(r.fileSize);
            await checkAgainstModel(r, entries, targets, bloomBitsPerKey === 0);
            await r.verifyChecksums();
            await r.close();
          },
        ),
        { seed, numRuns: compression === 'zstd' ? 25 : 40 },
      );
    });
  }

  it('1 MiB values, compressible and not, with every codec', async () => {
    await withSeed('big-values', async (rng) => {
      const random = rng.bytes(1 << 20);
      const text = b('x'.repeat(1 << 20));
      const entries: Entry[] = [[b('a'), random], [b('b'), b('small')], [b('c'), text], [b('d'), new Uint8Array(0)]];
      for (const compression of CODECS) {
        const fs = new MemFileSystem();
        const res = await writeTable(fs, '/t.sst', entries, { blockSize: 4096, compression });
        expect(res.properties.numDataBlocks).toBe(4); // each big entry alone; 'b' and 'd' after them
        if (compression !== 'none') expect(res.fileSize).toBeLessThan((1 << 20) + (1 << 18));
        const r = await openTable(fs, '/t.sst');
        await checkAgainstModel(r, entries, [b('bb'), b('')], false);
      }
    });
  });

  it('keys sharing long prefixes', async () => {
    const prefix = 'p'.repeat(3000);
    const entries: Entry[] = [];
    for (let i = 0; i < 300; i++) entries.push([b(prefix + String(i).padStart(4, '0')), b(`v${i}`)]);
    for (const restart of [1, 16]) {
      const fs = new MemFileSystem();
      await writeTable(fs, '/t.sst', entries, { blockSize: 4096, blockRestartInterval: restart, compression: 'lz4' });
      const r = await openTable(fs, '/t.sst');
      await checkAgainstModel(r, entries, [b(prefix), b(prefix + '0150x'), b(prefix + 'z')], false);
    }
  });

  it('an empty table opens, scans empty and finds nothing', async () => {
    const fs = new MemFileSystem();
    const res = await writeTable(fs, '/t.sst', []);
    expect(res.properties.smallestKey).toBeUndefined();
    const r = await openTable(fs, '/t.sst');
    expect(await scanForward(r.newIterator())).toEqual([]);
    expect(await r.getAtOrAfter(b(''))).toBeUndefined();
    await r.verifyChecksums();
  });
});

describe('table reader features', () => {
  it('works on the real file system, with sync and async reads', async () => {
    const dir = await tempDir();
    const fs = new NodeFileSystem();
    const path = join(dir, '000001.sst');
    const entries: Entry[] = [];
    for (let i = 0; i < 3000; i++) entries.push([b(`k${String(i).padStart(5, '0')}`), b(`value ${i} `.repeat(3))]);
    const file = await fs.openWritable(path);
    const w = new TableWriter(file, { blockSize: 1024, blockRestartInterval: 8, compression: 'lz4', bloomBitsPerKey: 10 });
    for (const [k, v] of entries) w.add(k, v);
    const res = await w.finish();
    await file.sync();
    await file.close();
    for (const syncReads of [true, false]) {
      const r = await TableReader.open(await fs.openReadable(path), { fileName: path, syncReads, cache: new LruCache(1 << 20) });
      expect(r.fileSize).toBe(res.fileSize);
      await checkAgainstModel(r, entries, [b('k01500x'), b('zz')], false);
      await r.close();
      await r.close();
    }
  });

  it('filters on the transformed key (internal keys stripped to user keys)', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 500; i++) {
      const user = b(`user${String(i).padStart(4, '0')}`);
      entries.push([makeInternalKey(user, 1000 + i, ValueKind.Put), b(`v${i}`)]);
      entries.push([makeInternalKey(user, 10 + i, i % 3 === 0 ? ValueKind.Delete : ValueKind.Put), b(`old${i}`)]);
    }
    const fs = new MemFileSystem();
    const res = await writeTable(fs, '/t.sst', entries, {
      comparator: internalKeyComparator, filterKeyTransform: internalKeyToUserKey, keysAreInternal: true, blockSize: 512,
    });
    expect(res.properties.numDeletions).toBe(167);
    expect([res.properties.smallestSeq, res.properties.largestSeq]).toEqual([10, 1499]);
    expect(res.properties.comparatorName).toBe('strata.InternalKeyComparator');
    const r = await openTable(fs, '/t.sst', { comparator: internalKeyComparator, filterKeyTransform: internalKeyToUserKey });
    // A lookup at a snapshot finds the newest visible version.
    const got = await r.getAtOrAfter(makeInternalKey(b('user0042'), 500, 0xff));
    expect(dec.decode(got!.value)).toBe('old42');
    let found = 0;
    for (let i = 0; i < 2000; i++) {
      const t = makeInternalKey(b(`absent${i}`), 2 ** 40, 0xff);
      if (await r.getAtOrAfter(t) !== undefined) found++;
    }
    expect(r.filterChecks).toBe(2001);
    expect(r.filterNegatives).toBe(2000 - found);
    expect(found).toBeLessThan(60); // ~1% false positives at 10 bits/key
    // The explicit filter key overrides the transform.
    expect(await r.getAtOrAfter(makeInternalKey(b('user0042'), 500, 0xff), b('nope'))).toBeUndefined();
  });

  it('exposes a reserved range-deletion block when a table has one (hand-assembled table)', async () => {
    const parts: Uint8Array[] = [];
    let offset = 0;
    const put = (raw: Uint8Array): BlockHandle => {
      const out = new Uint8Array(raw.length + 5);
      out.set(raw);
      putFixed32(out, raw.length + 1, maskCrc(crc32c(out.subarray(0, raw.length + 1))));
      parts.push(out);
      const h = { offset, size: raw.length };
      offset += out.length;
      return h;
    };
    const block = (pairs: Array<[Uint8Array, Uint8Array]>, interval = 1): Uint8Array => {
      const bb = new BlockBuilder(interval);
      for (const [k, v] of pairs) bb.add(k, v);
      return bb.finish().slice();
    };
    const handleBytes = (h: BlockHandle): Uint8Array => { const x = new Uint8Array(20); return x.slice(0, putBlockHandle(x, 0, h)); };
    // Blocks in an unusual order: readers must follow handles, not assume the layout.
    const rangeDel = put(block([[b('b'), b('d')]]));
    const data = put(block([[b('a'), b('1')], [b('c'), b('3')]], 16));
    const index = put(block([[b('c'), handleBytes(data)]]));
    const props = put(encodeProperties({
      formatVersion: 1, comparatorName: 'strata.BytewiseComparator', numEntries: 2, numDeletions: 0, numRangeDeletions: 1,
      rawKeyBytes: 2, rawValueBytes: 2, dataSize: data.size + 5, numDataBlocks: 1, indexSize: index.size + 5, filterSize: 0,
      smallestKey: b('a'), largestKey: b('c'), smallestSeq: undefined, largestSeq: undefined, compression: 'none',
      filterPolicy: '', bloomBitsPerKey: 0, creationTimeMs: 0, blockSize: 4096, blockRestartInterval: 16,
    }));
    const meta = put(block([[b('strata.properties'), handleBytes(props)], [b('strata.range_del'), handleBytes(rangeDel)], [b('zz.unknown'), handleBytes(data)]]));
    parts.push(encodeFooter({ metaindex: meta, index, formatVersion: 1 }));
    const bytes = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
    let at = 0;
    for (const x of parts) { bytes.set(x, at); at += x.length; }
    const r = await openTable(await fsWith(bytes), '/t.sst');
    expect(r.properties.numRangeDeletions).toBe(1);
    const it = r.newRangeDelIterator()!;
    it.seekToFirst();
    expect([dec.decode(it.key()), dec.decode(it.value())]).toEqual(['b', 'd']);
    expect((await scanForward(r.newIterator())).map(([k]) => dec.decode(k))).toEqual(['a', 'c']);
    await r.verifyChecksums();
    const layout = await readTableLayout(r);
    expect(layout.blocks.map((x) => x.kind)).toEqual(['range_del', 'data', 'unknown-meta', 'index', 'properties', 'metaindex', 'footer']);
  });

  it('refuses a table written with another comparator', async () => {
    const fs = new MemFileSystem();
    await writeTable(fs, '/t.sst', [[b('a'), b('1')]]);
    await expect(openTable(fs, '/t.sst', { comparator: internalKeyComparator })).rejects.toThrow(InvalidArgumentError);
    await expect(openTable(fs, '/t.sst', { comparator: internalKeyComparator })).rejects.toThrow(/strata.BytewiseComparator/);
  });

  it('serves warm gets from the cache, synchronously, and charges real bytes', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 2000; i++) entries.push([b(`k${String(i).padStart(5, '0')}`), b('v'.repeat(50))]);
    const fs = new MemFileSystem();
    const res = await writeTable(fs, '/t.sst', entries, { compression: 'lz4' });
    const cache = new LruCache(10 << 20);
    const r = await openTable(fs, '/t.sst', { cache, syncReads: true });
    for (const [k] of entries) expect(r.getAtOrAfter(k)).not.toBeInstanceOf(Promise);
    expect(cache.misses).toBe(res.properties.numDataBlocks);
    expect(cache.hits).toBe(2000 - res.properties.numDataBlocks);
    const raw = res.properties.numDataBlocks * 4000;
    expect(cache.usage).toBeGreaterThan(raw);
    expect(cache.usage).toBeLessThan(raw * 1.3 + res.properties.numDataBlocks * 400);
    await r.close();
    expect(cache.usage).toBe(0);
  });

  it('zstd blocks need the async path until cached', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 100; i++) entries.push([b(`k${i}`), b('abc'.repeat(30))]);
    const fs = new MemFileSystem();
    await writeTable(fs, '/t.sst', sortUnique(entries), { compression: 'zstd', blockSize: 256 });
    const r = await openTable(fs, '/t.sst', { cache: new LruCache(1 << 20), syncReads: true });
    const p = r.getAtOrAfter(b('k5'));
    expect(p).toBeInstanceOf(Promise);
    expect(dec.decode((await p)!.key)).toBe('k5');
    // Cached now: the same get answers without waiting.
    const s = r.getAtOrAfter(b('k5'));
    expect(s).not.toBeInstanceOf(Promise);
    expect(dec.decode((s as TableEntry).key)).toBe('k5');
  });

  it('a key view answers like a copy when synchronous, and a waiting answer is still a fresh copy', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 300; i++) entries.push([b(`key${String(i * 7).padStart(6, '0')}`), b(`value${i}`)]);
    const fs = new MemFileSystem();
    await writeTable(fs, '/t.sst', entries, { compression: 'zstd', blockSize: 512 });
    const r = await openTable(fs, '/t.sst', { cache: new LruCache(1 << 20), syncReads: true });
    // Not cached: zstd waits, and two lookups waiting at once each get their own key.
    const [p1, p2] = [r.getAtOrAfter(b('key000007'), undefined, true), r.getAtOrAfter(b('key002002'), undefined, true)];
    expect(p1).toBeInstanceOf(Promise);
    const [a1, a2] = [await p1, await p2];
    expect([dec.decode(a1!.key), dec.decode(a2!.key)]).toEqual(['key000007', 'key002002']);
    for (let i = 0; i < 300; i++) await r.getAtOrAfter(entries[i]![0]);
    // Cached: views answer at once, the same as copies, for present and absent targets.
    for (const t of [...entries.map((e) => e[0]), b('key000001'), b('key002093'), b('a'), b('key')]) {
      const copy = r.getAtOrAfter(t) as TableEntry | undefined;
      const view = r.getAtOrAfter(t, undefined, true);
      expect(view).not.toBeInstanceOf(Promise);
      const v = view as TableEntry | undefined;
      expect(v === undefined).toBe(copy === undefined);
      if (v && copy) expect([equalBytes(v.key, copy.key), equalBytes(v.value, copy.value)]).toEqual([true, true]);
    }
    expect(r.getAtOrAfter(b('zzz'), undefined, true)).toBeUndefined();
    await r.close();
  });

  it('verifyChecksums names the damaged block even with verification off for reads', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 200; i++) entries.push([b(`k${String(i).padStart(4, '0')}`), b(`value${i}`)]);
    const fs = new MemFileSystem();
    await writeTable(fs, '/t.sst', entries, { blockSize: 256 });
    const bytes = await fs.readFile('/t.sst');
    bytes[300] = bytes[300]! ^ 0x01;
    const f = await fs.openWritable('/t.sst');
    f.append(bytes);
    const r = await openTable(fs, '/t.sst', { verifyChecksums: false });
    const err = await r.verifyChecksums().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).file).toBe('/t.sst');
    expect((err as CorruptionError).offset).toBeLessThanOrEqual(300);
    expect((err as CorruptionError).message).toMatch(/checksum/);
  });
});
