/**
 * block-fetch.ts: synchronous cache misses read into the shared scratch buffer (no fresh read buffer
 * per miss), and no block handed out, cached or still being decoded asynchronously aliases that buffer.
 */
import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/cache/lru-cache.js';
import type { ReadableFile } from '../../src/fs/file-system.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { TableReader } from '../../sstable/table-reader.js';
import type { CompressionName } from '../../sstable/compression.js';
import { withSeed, type Rng } from '../support/rng.js';
import { sortUnique, writeTable, type Entry } from './table-helpers.js';

/** Counts which read the fetcher used. */
class CountingFile implements ReadableFile {
  reads = 0;
  syncReads = 0;
  intoReads = 0;
  constructor(private readonly f: ReadableFile) {}
  get path(): string { return this.f.path; }
  get size(): number { return this.f.size; }
  read(offset: number, length: number): Promise<Uint8Array> { this.reads++; return this.f.read(offset, length); }
  readSync(offset: number, length: number): Uint8Array { this.syncReads++; return this.f.readSync(offset, length); }
  readSyncInto(offset: number, into: Uint8Array): number { this.intoReads++; return this.f.readSyncInto!(offset, into); }
  close(): Promise<void> { return this.f.close(); }
}

function entriesOf(rng: Rng, n: number, tag: string): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push([new TextEncoder().encode(`${tag}${rng.int(1e9).toString().padStart(9, '0')}`), rng.bytes(20 + rng.int(200))]);
  return sortUnique(out);
}

async function tableOf(fs: MemFileSystem, path: string, entries: Entry[], compression: CompressionName, cache: LruCache) {
  await writeTable(fs, path, entries, { compression, blockSize: 1024 });
  const file = new CountingFile(await fs.openReadable(path));
  const reader = await TableReader.open(file, { fileName: path, cache, syncReads: true });
  return { file, reader };
}

async function valueOf(reader: TableReader, key: Uint8Array): Promise<Uint8Array | undefined> {
  const e = await reader.getAtOrAfter(key);
  return e === undefined ? undefined : e.value.slice();
}

describe('block fetch: synchronous misses', () => {
  it('read into the caller buffer, not a fresh one per read', async () => {
    await withSeed('fetch-into', async (rng) => {
      const fs = new MemFileSystem();
      const entries = entriesOf(rng, 300, 'k');
      const { file, reader } = await tableOf(fs, '/a.sst', entries, 'none', new LruCache(1 << 20));
      const opened = file.syncReads;
      for (const [k, v] of entries) expect(reader.getAtOrAfter(k)).toMatchObject({ value: v });
      expect(file.intoReads).toBeGreaterThan(1);
      expect(file.syncReads).toBe(opened);
      await reader.close();
    });
  });

  for (const compression of ['none', 'lz4', 'zstd'] as const) {
    it(`hand out blocks that stay intact while other blocks are read (${compression})`, async () => {
      await withSeed(`fetch-alias-${compression}`, async (rng) => {
        const fs = new MemFileSystem();
        // A cache too small for everything, so blocks are evicted and read again while holders keep them.
        const cache = new LruCache(8 * 1024);
        const a = entriesOf(rng, 400, 'a');
        const b = entriesOf(rng, 400, 'b');
        const ta = await tableOf(fs, '/a.sst', a, compression, cache);
        const tb = await tableOf(fs, '/b.sst', b, compression, cache);
        // Start lookups on both tables without awaiting (zstd decodes meanwhile), then check them all.
        const pending: [Promise<Uint8Array | undefined>, Uint8Array][] = [];
        for (let i = 0; i < 600; i++) {
          const [t, list] = rng.int(2) === 0 ? [ta, a] : [tb, b];
          const [k, v] = list[rng.int(list.length)]!;
          pending.push([valueOf(t.reader, k), v]);
        }
        for (const [p, v] of pending) expect(await p).toEqual(v);
        await ta.reader.close();
        await tb.reader.close();
      });
    });
  }
});
