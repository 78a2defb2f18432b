/**
 * compactRange over a range deleted by one range tombstone (written on the engine's internal write
 * path: DB.write still refuses it) reclaims the covered data's space, inline and in the compaction
 * worker (the worker's runner reads the tombstones from the input tables itself), and a snapshot
 * taken before the delete keeps the covered data through the compaction; stats() counts the
 * tombstones in memtables and tables.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, NodeFileSystem, WriteBatch } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';

const key = (i: number): string => `k${String(i).padStart(5, '0')}`;

async function deleteRange(db: DB, start: string, end: string): Promise<void> {
  const b = new WriteBatch().deleteRange(start, end);
  await db.engine.writes.submit(b.encodedOps().slice(), b.length, b.byteLength, true);
}

function tableBytes(db: DB): number {
  return db.stats().levels.reduce((n, l) => n + l.bytes, 0);
}

async function fill(db: DB, n: number): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    const b = new WriteBatch();
    for (let j = i; j < Math.min(n, i + 500); j++) b.put(key(j), 'v'.repeat(100));
    await db.write(b);
  }
}

describe('compactRange with range tombstones', () => {
  for (const executor of ['inline', 'worker'] as const) {
    it(`reclaims the space of a deleted range (${executor})`, async () => {
      const dir = await tempDir(`compact-range-dels-${executor}-`);
      const fs = new NodeFileSystem();
      const db = await DB.open(dir, { fs, compactionExecutor: executor, targetFileSize: 64 * 1024 });
      try {
        await fill(db, 4000);
        await db.flush();
        await db.compactRange();
        const before = tableBytes(db);
        await deleteRange(db, key(500), key(3500));
        expect(db.stats().rangeDeletions).toEqual({ memtables: 1, tableEntries: 0, tables: 0 });
        await db.flush();
        expect(db.stats().rangeDeletions).toEqual({ memtables: 0, tableEntries: 1, tables: 1 });
        await db.compactRange();
        expect(db.stats().rangeDeletions).toEqual({ memtables: 0, tableEntries: 0, tables: 0 });
        const after = tableBytes(db);
        // 3000 of 4000 values gone: at most about a quarter of the space is left.
        expect(after).toBeLessThan(before * 0.35);
        expect(await db.get(key(499))).toBeDefined();
        expect(await db.get(key(500))).toBeUndefined();
        expect(await db.get(key(3499))).toBeUndefined();
        expect(await db.get(key(3500))).toBeDefined();
      } finally {
        await db.close();
      }
    });
  }

  it('keeps the covered data a snapshot older than the tombstone still reads', async () => {
    const db = await DB.open('/db', { fs: new MemFileSystem(), compactionExecutor: 'inline' });
    await fill(db, 1000);
    await db.flush();
    const snap = db.snapshot();
    await deleteRange(db, key(0), key(1000));
    await db.flush();
    await db.compactRange();
    expect((await db.get(key(10), { snapshot: snap }))?.toString()).toBe('v'.repeat(100));
    const held = tableBytes(db);
    // The snapshot keeps the tombstone at the bottom, and the covered data with it.
    expect(db.stats().rangeDeletions.tables).toBe(1);
    snap.release();
    await db.compactRange();
    expect(await db.get(key(10))).toBeUndefined();
    expect(tableBytes(db)).toBeLessThan(held / 10);
    await db.close();
  });
});
