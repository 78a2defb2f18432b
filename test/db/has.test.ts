/**
 * db.has / db.hasMany: the same answers as `get() !== undefined` from memtables, tables, point and
 * range tombstones and snapshots, without copying any value (counted at the read path's one copy
 * site, so the count is exact, not a timing); the bloom filter answers absent keys before any data
 * block is read; argument checks. Each test has its own MemFileSystem.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { WriteBatch } from '../../src/index.js';
import { readPathCounters } from '../../src/engine/read-path.js';
import { withSeed } from '../support/rng.js';
import { openMem, rejectsWith } from '../support/db-check.js';

const key = (i: number): string => `k${String(i).padStart(5, '0')}`;

describe('db.has / db.hasMany', () => {
  it('answers from the memtable, tables, point and range tombstones, and at a snapshot', async () => {
    const { db } = await openMem({ compactionExecutor: 'inline' });
    for (let i = 0; i < 20; i++) await db.put(key(i), `v${i}`);
    await db.put('', 'empty key');
    await db.flush();
    await db.compactRange();
    await db.delete(key(3));
    await db.flush(); // the point tombstone in L0, the value below it
    const snap = db.snapshot();
    await db.deleteRange(key(10), key(15)); // a range tombstone in the memtable over table keys
    await db.put(key(12), 'again');
    await db.put('new', '');

    expect(await db.has(key(0))).toBe(true);
    expect(await db.has(key(3))).toBe(false);
    expect(await db.has(key(11))).toBe(false);
    expect(await db.has(key(12))).toBe(true);
    expect(await db.has(key(15))).toBe(true);
    expect(await db.has('')).toBe(true);
    expect(await db.has('new')).toBe(true); // an empty value is a value
    expect(await db.has('missing')).toBe(false);
    expect(await db.has(key(11), { snapshot: snap })).toBe(true);
    expect(await db.has('new', { snapshot: snap })).toBe(false);
    expect(await db.hasMany([key(3), key(12), 'missing', key(19), Buffer.from(key(11))])).toEqual([false, true, false, true, false]);
    expect(await db.hasMany([key(11), key(3)], { snapshot: snap })).toEqual([true, false]);
    expect(await db.hasMany([])).toEqual([]);

    // The range tombstone flushed into a table still hides the keys below it.
    await db.flush();
    expect(await db.hasMany([key(10), key(12), key(14), key(15)])).toEqual([false, true, false, true]);
    snap.release();
    await db.close();
  });

  it('copies no value: the read path copy counter moves for get, never for has/hasMany', async () => {
    const { db } = await openMem({ compactionExecutor: 'inline' });
    const big = Buffer.alloc(4 << 20, 7);
    await db.put('table', big);
    await db.flush();
    await db.put('memtable', big);
    const before = readPathCounters.valueCopies;
    expect(await db.has('table')).toBe(true);
    expect(await db.has('memtable')).toBe(true);
    expect(await db.hasMany(['table', 'memtable', 'none'])).toEqual([true, true, false]);
    expect(readPathCounters.valueCopies).toBe(before);
    // The counter is the one get() goes through: two gets, two copies.
    expect((await db.get('table'))!.length).toBe(big.length);
    expect((await db.get('memtable'))!.length).toBe(big.length);
    expect(readPathCounters.valueCopies).toBe(before + 2);
    await db.close();
  });

  it('an absent key in a table is answered by its bloom filter', async () => {
    const { db } = await openMem({ compactionExecutor: 'inline', bloomBitsPerKey: 10 });
    for (let i = 0; i < 100; i++) await db.put(key(i * 2), 'v');
    await db.flush();
    const f0 = db.stats().filter;
    // Odd keys inside the table's range: only the filter (or the data block) can refuse them.
    let present = 0;
    for (let i = 0; i < 99; i++) if (await db.has(key(i * 2 + 1))) present++;
    expect(present).toBe(0);
    const f1 = db.stats().filter;
    expect(f1.checks - f0.checks).toBe(99);
    expect(f1.negatives - f0.negatives).toBeGreaterThan(90); // ~1% false positives at 10 bits per key
    await db.close();
  });

  it('agrees with get() on a seeded random history', async () => {
    await withSeed('has-vs-get', async (rng) => {
      const { db } = await openMem({ compactionExecutor: 'inline', writeBufferSize: 4096 });
      for (let step = 0; step < 600; step++) {
        const k = key(rng.int(60));
        const r = rng.int(100);
        if (r < 55) await db.put(k, rng.int(4) === 0 ? '' : `v${step}`);
        else if (r < 75) await db.delete(k);
        else if (r < 80) {
          const a = rng.int(60);
          await db.write(new WriteBatch().deleteRange(key(a), key(a + 1 + rng.int(8))));
        } else if (r < 83) await db.flush();
        else if (r < 85) await db.compactRange();
      }
      const keys = Array.from({ length: 62 }, (_, i) => key(i));
      const want = (await db.getMany(keys)).map((v) => v !== undefined);
      expect(await db.hasMany(keys)).toEqual(want);
      for (let i = 0; i < keys.length; i++) expect(await db.has(keys[i]!), keys[i]).toBe(want[i]);
      await db.close();
    });
  });

  it('bad arguments are ERR_INVALID_ARGUMENT; after close ERR_CLOSED; a released snapshot is refused', async () => {
    const { db } = await openMem();
    /* eslint-disable @typescript-eslint/no-explicit-any -- the point is to pass what the types forbid */
    await rejectsWith(() => db.has(1 as any), 'ERR_INVALID_ARGUMENT', 'has(1)');
    await rejectsWith(() => db.has('a', { snapshto: 1 } as any), 'ERR_INVALID_ARGUMENT', 'has unknown option');
    await rejectsWith(() => db.has('a', { signal: {} } as any), 'ERR_INVALID_ARGUMENT', 'has bad signal');
    await rejectsWith(() => db.hasMany('a' as any), 'ERR_INVALID_ARGUMENT', 'hasMany(string)');
    await rejectsWith(() => db.hasMany(['a', null] as any), 'ERR_INVALID_ARGUMENT', 'hasMany([a, null])');
    await rejectsWith(() => db.hasMany(['a'], { fillCache: true } as any), 'ERR_INVALID_ARGUMENT', 'hasMany unknown option');
    /* eslint-enable @typescript-eslint/no-explicit-any */
    const snap = db.snapshot();
    snap.release();
    await rejectsWith(() => db.has('a', { snapshot: snap }), 'ERR_INVALID_ARGUMENT', 'has released snapshot');
    await db.close();
    await rejectsWith(() => db.has('a'), 'ERR_CLOSED', 'has after close');
    await rejectsWith(() => db.hasMany(['a']), 'ERR_CLOSED', 'hasMany after close');
  });
});
