/**
 * The table cache evicts CLOCK-style: a use (acquire or peek) sets a reference bit and moves
 * nothing; over maxOpenFiles, eviction walks entries in opening order, gives a referenced entry a
 * second chance and closes the first unreferenced one, never one still in use before its release.
 */
import { describe, expect, it } from 'vitest';
import { makeInternalKey, ValueKind, internalKeyComparator, internalKeyToUserKey } from '../../src/base/internal-key.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { TableCache } from '../../src/cache/table-cache.js';
import { tableFileName } from '../../src/manifest/file-names.js';
import type { TableIdentity } from '../../src/manifest/table-identity.js';
import { TableWriter } from '../../sstable/table-writer.js';

const DIR = '/db';

async function writeTable(fs: MemFileSystem, fileNumber: number): Promise<TableIdentity> {
  const file = await fs.openWritable(tableFileName(DIR, fileNumber));
  const w = new TableWriter(file, {
    blockSize: 4096, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 0, comparator: internalKeyComparator,
    filterKeyTransform: internalKeyToUserKey, keysAreInternal: true,
  });
  const a = w.add(makeInternalKey(new TextEncoder().encode(`k${fileNumber}`), 1, ValueKind.Put), new TextEncoder().encode('v'));
  if (a) await a;
  const r = await w.finish();
  await file.close();
  return { fileNumber, fileSize: r.fileSize };
}

async function setup(maxOpenFiles: number, n: number): Promise<{ cache: TableCache; t: TableIdentity[] }> {
  const fs = new MemFileSystem();
  await fs.mkdir(DIR, { recursive: true });
  const t: TableIdentity[] = [];
  for (let i = 0; i < n; i++) t.push(await writeTable(fs, i));
  return { cache: new TableCache(fs, DIR, { blockCache: undefined, maxOpenFiles, syncReads: false }), t };
}

async function use(cache: TableCache, t: TableIdentity): Promise<void> {
  (await cache.acquire(t)).release();
}

/** Which tables are open, without touching their reference bits (peek would set them). */
function openSet(cache: TableCache, t: TableIdentity[]): number[] {
  return t.filter((x) => (cache as unknown as { entries: Map<number, { reader: unknown }> }).entries.get(x.fileNumber)?.reader)
    .map((x) => x.fileNumber);
}

describe('table cache CLOCK eviction', () => {
  it('gives used tables a second chance and evicts the first unreferenced one', async () => {
    const { cache, t } = await setup(3, 6);
    for (const i of [0, 1, 2]) await use(cache, t[i]!);
    // Every table starts referenced: the pass clears them all, then the oldest goes.
    await use(cache, t[3]!);
    expect(openSet(cache, t)).toEqual([1, 2, 3]);
    // 1 used again (a bit, no move); 2 is next in line and unreferenced.
    await use(cache, t[1]!);
    await use(cache, t[4]!);
    expect(openSet(cache, t)).toEqual([1, 3, 4]);
    // 3 lost its bit in the first pass; 4 keeps the one it opened with.
    expect(cache.peek(t[4]!)).toBeDefined();
    await use(cache, t[5]!);
    expect(openSet(cache, t)).toEqual([1, 4, 5]);
    expect(cache.openCount).toBe(3);
    await cache.close();
  });

  it('peek answers only for open tables and takes no reference', async () => {
    const { cache, t } = await setup(1, 2);
    expect(cache.peek(t[0]!)).toBeUndefined();
    await use(cache, t[0]!);
    const r = cache.peek(t[0]!)!;
    expect(r.fileName).toMatch(/000000\.sst$/);
    await use(cache, t[1]!); // 0 is referenced, and so is the new 1: both lose their bits, then 0 goes
    expect(cache.openCount).toBe(1);
    expect(cache.peek(t[0]!)).toBeUndefined();
    await cache.close();
  });

  it('an evicted table stays open until its last user releases it', async () => {
    const { cache, t } = await setup(1, 2);
    const h = await cache.acquire(t[0]!);
    await use(cache, t[1]!);
    expect(cache.peek(t[0]!)).toBeUndefined();
    const e = h.reader.getAtOrAfter(makeInternalKey(new TextEncoder().encode('k0'), 9, ValueKind.Put));
    const got = e instanceof Promise ? await e : e;
    expect(new TextDecoder().decode(got!.value)).toBe('v');
    h.release();
    await cache.close();
  });
});
