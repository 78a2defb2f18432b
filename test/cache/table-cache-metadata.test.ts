/**
 * The table cache's memory: memoryBytes() is a running count of what open readers hold (index,
 * filter, range deletions), a reader evicted while in use still counts until its last user lets go,
 * and metadataBudget bounds it as maxOpenFiles bounds the count (same CLOCK eviction, one reader kept).
 */
import { describe, expect, it } from 'vitest';
import { makeInternalKey, ValueKind, internalKeyComparator, internalKeyToUserKey } from '../../src/base/internal-key.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { TableCache } from '../../src/cache/table-cache.js';
import { tableFileName } from '../../src/manifest/file-names.js';
import type { TableIdentity } from '../../src/manifest/table-identity.js';
import { TableWriter } from '../../sstable/table-writer.js';

const DIR = '/db';

/** A table of 200 keys with a bloom filter: a few KiB of index and filter once open. */
async function writeTable(fs: MemFileSystem, fileNumber: number): Promise<TableIdentity> {
  const file = await fs.openWritable(tableFileName(DIR, fileNumber));
  const w = new TableWriter(file, {
    blockSize: 256, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 10, comparator: internalKeyComparator,
    filterKeyTransform: internalKeyToUserKey, keysAreInternal: true,
  });
  for (let i = 0; i < 200; i++) {
    const a = w.add(makeInternalKey(new TextEncoder().encode(`t${fileNumber}-k${String(i).padStart(4, '0')}`), 1, ValueKind.Put), new Uint8Array(20));
    if (a) await a;
  }
  const r = await w.finish();
  await file.close();
  return { fileNumber, fileSize: r.fileSize };
}

async function setup(n: number, metadataBudget: (oneReader: number) => number): Promise<{ cache: TableCache; t: TableIdentity[]; one: number }> {
  const fs = new MemFileSystem();
  await fs.mkdir(DIR, { recursive: true });
  const t: TableIdentity[] = [];
  for (let i = 0; i < n; i++) t.push(await writeTable(fs, i));
  const probe = new TableCache(fs, DIR, { blockCache: undefined, maxOpenFiles: -1, syncReads: false });
  const h = await probe.acquire(t[0]!);
  const one = h.reader.memoryBytes();
  h.release();
  expect(probe.memoryBytes()).toBe(one);
  await probe.close();
  expect(probe.memoryBytes()).toBe(0);
  return { cache: new TableCache(fs, DIR, { blockCache: undefined, maxOpenFiles: -1, syncReads: false, metadataBudget: metadataBudget(one) }), t, one };
}

describe('table cache memory', () => {
  it('counts what open readers hold and closes the least recently used past metadataBudget', async () => {
    const { cache, t, one } = await setup(6, (b) => Math.floor(2.5 * b));
    expect(one).toBeGreaterThan(1024);
    for (const x of t) (await cache.acquire(x)).release();
    expect(cache.openCount).toBe(2);
    expect(cache.memoryBytes()).toBe(2 * one);
    expect(cache.memoryBytes()).toBeLessThanOrEqual(2.5 * one);
    await cache.close();
    expect(cache.memoryBytes()).toBe(0);
  });

  it('a reader evicted while in use counts until it is released', async () => {
    const { cache, t, one } = await setup(3, (b) => Math.floor(1.5 * b));
    const held = await cache.acquire(t[0]!);
    (await cache.acquire(t[1]!)).release();
    (await cache.acquire(t[2]!)).release();
    // t[0] was evicted from the map but its reader is still in use: its memory is still held.
    expect(cache.peek(t[0]!)).toBeUndefined();
    expect(cache.memoryBytes()).toBe(2 * one);
    held.release();
    expect(cache.memoryBytes()).toBe(one);
    await cache.close();
  });

  it('keeps one reader open even when it alone is over the budget', async () => {
    const { cache, t, one } = await setup(2, () => 1);
    (await cache.acquire(t[0]!)).release();
    expect(cache.openCount).toBe(1);
    (await cache.acquire(t[1]!)).release();
    expect(cache.openCount).toBe(1);
    expect(cache.memoryBytes()).toBe(one);
    await cache.close();
  });
});
