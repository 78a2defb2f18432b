/**
 * db.approximateSize(start, end) (src/engine/approximate-size.ts): accuracy against the real bytes a
 * range's entries take on disk (seeded data, uncompressed tables so bytes are proportional), the
 * memtables' share, and that it reads table indexes only: no block-cache lookup (every data block
 * read goes through the cache), even when the tables are opened by the call itself.
 */
import { describe, expect, it } from 'vitest';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { DB } from '../../src/index.js';
import { withSeed, type Rng } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';
import { rejectsWith } from '../support/db-check.js';

const N = 6000;
const BLOCK = 4096;
const key = (i: number): string => `key${String(i).padStart(6, '0')}`;

/** N keys with seeded values of 50..650 bytes; returns each entry's encoded size (key + trailer + value). */
async function fill(db: DB, rng: Rng): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < N; i++) {
    const v = rng.bytes(50 + rng.int(600));
    await db.put(key(i), v);
    sizes.push(key(i).length + 8 + v.length);
  }
  return sizes;
}

async function tableBytesOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const n of await fsp.readdir(dir)) if (n.endsWith('.sst')) total += (await fsp.stat(path.join(dir, n))).size;
  return total;
}

describe('db.approximateSize', () => {
  it('matches the real bytes of a range within a data block at each bound plus 1%', async () => {
    await withSeed('approximate-size accuracy', async (rng) => {
      const dir = await tempDir();
      const opts = { compression: 'none' as const, blockSize: BLOCK, targetFileSize: 256 * 1024, writeBufferSize: 1 << 20 };
      let db = await DB.open(dir, opts);
      const sizes = await fill(db, rng);
      await db.compactRange();
      await db.close();
      const onDisk = await tableBytesOnDisk(dir);
      const entryTotal = sizes.reduce((a, b) => a + b, 0);
      db = await DB.open(dir, opts);
      const tables = db.stats().levels.reduce((a, l) => a + l.files, 0);
      expect(tables).toBeGreaterThan(3); // several tables, so ranges straddle some and cover others
      expect(await db.approximateSize(key(0), key(N))).toBe(onDisk);
      for (let t = 0; t < 40; t++) {
        const a = rng.int(N);
        const b = a + 1 + rng.int(N - a);
        let bytes = 0;
        for (let i = a; i < b; i++) bytes += sizes[i]!;
        // The real share of the range: its entries' part of the table bytes (block and index overhead
        // spread evenly, which uncompressed tables of similar entries make true).
        const real = (bytes / entryTotal) * onDisk;
        const est = await db.approximateSize(key(a), key(b));
        const tolerance = 0.01 * real + 2 * BLOCK; // one block at each bound
        expect(Math.abs(est - real), `[${key(a)}, ${key(b)}): estimate ${est}, real ${Math.round(real)}`).toBeLessThanOrEqual(tolerance);
      }
      expect(await db.approximateSize('a', 'b')).toBe(0);
      expect(await db.approximateSize('z', 'zz')).toBe(0);
      await db.close();
    });
  });

  it('reads no data block: the block cache sees no lookup, also when the call opens the tables', async () => {
    await withSeed('approximate-size no data reads', async (rng) => {
      const dir = await tempDir();
      // Format-1 tables: their index is in memory, so a cache lookup can only be a data block. (A
      // partitioned table's index partitions come through the cache as well: approximateSize reads
      // those, still no data block.)
      const opts = { compression: 'none' as const, targetFileSize: 128 * 1024, writeBufferSize: 1 << 20, partitionedMetadata: false };
      let db = await DB.open(dir, opts);
      await fill(db, rng);
      await db.compactRange();
      await db.close();
      // maxOpenFiles 20 and no warm-up wait: some tables open inside approximateSize itself.
      db = await DB.open(dir, { ...opts, maxOpenFiles: 20 });
      const lookups = (): number => db.stats().cache.hits + db.stats().cache.misses;
      const before = lookups();
      for (let t = 0; t < 20; t++) {
        const a = rng.int(N);
        await db.approximateSize(key(a), key(a + 1 + rng.int(N - a)));
      }
      expect(lookups()).toBe(before);
      // The counter does see data block reads: one get is one lookup.
      await db.get(key(rng.int(N)));
      expect(lookups()).toBe(before + 1);
      await db.close();
    });
  });

  it('counts the memtables: the encoded entries in the range, before any flush', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir);
    await db.put('a1', 'x'.repeat(100));
    await db.put('a2', 'y'.repeat(200));
    await db.put('b1', 'z'.repeat(300));
    await db.put('a1', 'w'.repeat(50)); // a second version of a1: both are in the memtable
    expect(await db.approximateSize('a', 'b')).toBe((2 + 8 + 100) + (2 + 8 + 200) + (2 + 8 + 50));
    expect(await db.approximateSize('b', 'c')).toBe(2 + 8 + 300);
    expect(await db.approximateSize('a2', 'b1')).toBe(2 + 8 + 200); // end is exclusive
    await db.flush();
    const flushed = await db.approximateSize('a', 'c');
    expect(flushed).toBe(await tableBytesOnDisk(dir)); // one table, wholly inside
    await db.close();
  });

  it('checks its arguments; start >= end is 0; after close ERR_CLOSED', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir);
    await db.put('k', 'v');
    await rejectsWith(() => db.approximateSize(undefined as unknown as string, 'z'), 'ERR_INVALID_ARGUMENT', 'start undefined');
    await rejectsWith(() => db.approximateSize('a', 42 as unknown as string), 'ERR_INVALID_ARGUMENT', 'end 42');
    expect(await db.approximateSize('z', 'a')).toBe(0);
    expect(await db.approximateSize('k', 'k')).toBe(0);
    expect(await db.approximateSize(new Uint8Array([0x6b]), 'l')).toBe(1 + 8 + 1);
    await db.close();
    await rejectsWith(() => db.approximateSize('a', 'z'), 'ERR_CLOSED', 'after close');
  });
});
