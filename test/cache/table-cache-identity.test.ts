/**
 * The table cache hands out a reader only after checking it against the MANIFEST's record of the
 * table (size, unique id), once per open: whether acquire() opened it, or warm() opened it ahead
 * without the record (then the first acquire checks). A mismatch is ERR_CORRUPTION and the reader
 * is dropped, so no later acquire finds it; a table without an id fails an entry that has one.
 */
import { describe, expect, it } from 'vitest';
import { makeInternalKey, ValueKind, internalKeyComparator, internalKeyToUserKey } from '../../src/base/internal-key.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { TableCache } from '../../src/cache/table-cache.js';
import { tableFileName } from '../../src/manifest/file-names.js';
import type { TableIdentity } from '../../src/manifest/table-identity.js';
import { TableWriter } from '../../sstable/table-writer.js';

const DIR = '/db';

async function writeTable(fs: MemFileSystem, fileNumber: number, uniqueId: Uint8Array | undefined): Promise<TableIdentity> {
  const file = await fs.openWritable(tableFileName(DIR, fileNumber));
  const w = new TableWriter(file, {
    blockSize: 4096, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 0, comparator: internalKeyComparator,
    filterKeyTransform: internalKeyToUserKey, keysAreInternal: true, ...(uniqueId ? { uniqueId } : {}),
  });
  const a = w.add(makeInternalKey(new TextEncoder().encode('k'), 1, ValueKind.Put), new TextEncoder().encode('v'));
  if (a) await a;
  const r = await w.finish();
  await file.close();
  return { fileNumber, fileSize: r.fileSize, ...(uniqueId ? { uniqueId } : {}) };
}

const id = (n: number): Uint8Array => new Uint8Array(16).fill(n);

async function setup(): Promise<{ fs: MemFileSystem; cache: TableCache }> {
  const fs = new MemFileSystem();
  await fs.mkdir(DIR, { recursive: true });
  return { fs, cache: new TableCache(fs, DIR, { blockCache: undefined, maxOpenFiles: 10, syncReads: false }) };
}

async function rejection(p: unknown): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection, the acquire succeeded');
}

describe('table cache identity check', () => {
  it('acquire refuses a reader whose unique id differs, and keeps refusing it', async () => {
    const { fs, cache } = await setup();
    const real = await writeTable(fs, 5, id(1));
    const wrong: TableIdentity = { ...real, uniqueId: id(2) };
    for (let i = 0; i < 2; i++) {
      const e = await rejection(cache.acquire(wrong));
      expect(e.code).toBe('ERR_CORRUPTION');
      expect(e.message).toMatch(/\/db\/000005\.sst.*not the table the MANIFEST lists as 000005: the MANIFEST expects unique id 0202.*, the file has 0101/);
    }
    expect(cache.openCount).toBe(0);
    const h = await cache.acquire(real);
    h.release();
    await cache.close();
  });

  it('a reader opened by warm() is checked at its first acquire, and dropped on a mismatch', async () => {
    const { fs, cache } = await setup();
    const real = await writeTable(fs, 7, id(3));
    await cache.warm([7]);
    expect(cache.openCount).toBe(1);
    const e = await rejection((async () => cache.acquire({ ...real, uniqueId: id(4) }))());
    expect(e.code).toBe('ERR_CORRUPTION');
    expect(cache.openCount).toBe(0);
    // After a warm, a matching acquire passes (and is not checked again: same reader, sync).
    await cache.warm([7]);
    const h1 = cache.acquire(real);
    expect(h1 instanceof Promise).toBe(false);
    (h1 as { release(): void }).release();
    await cache.close();
  });

  it('size is checked before the table is parsed; an id-less table fails an entry with an id; no id recorded means size only', async () => {
    const { fs, cache } = await setup();
    const plain = await writeTable(fs, 9, undefined);
    let e = await rejection(cache.acquire({ ...plain, fileSize: plain.fileSize + 1 }));
    expect(e.message).toMatch(/not the table the MANIFEST lists as 000009: the MANIFEST records \d+ bytes, the file has \d+/);
    e = await rejection(cache.acquire({ ...plain, uniqueId: id(5) }));
    expect(e.message).toMatch(/expects unique id 0505\w+, the file has none/);
    const h = await cache.acquire(plain);
    h.release();
    // A table with an id under an entry without one (an older build's MANIFEST) opens.
    const withId = await writeTable(fs, 10, id(6));
    const h2 = await cache.acquire({ fileNumber: withId.fileNumber, fileSize: withId.fileSize });
    h2.release();
    await cache.close();
  });
});
