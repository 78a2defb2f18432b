/**
 * Iterator lifetime and obsolete-file deletion: an iterator lets go of its Version, table iterators
 * and registry entry when it is exhausted (either direction, limit, nextv), when a read fails and on
 * close; the files only it kept are deleted then, without waiting for a flush. An iterator abandoned
 * mid-way pins until closed; a backup pin follows the same rule; the abstract-level adapter keeps
 * abstract-level's seek-after-end. Each test has its own MemFileSystem (or temp dir for Level).
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, type MemFileSystem } from '../../src/index.js';
import { StrataLevel } from '../../src/level-adapter/index.js';
import { makeBackupSource } from '../../src/engine/backup-source.js';
import { type Rng, withSeed } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';
import { openMem, overwrite, rejectsWith, throwsWith } from '../support/db-check.js';

const DIR = '/db';

async function tablesOnDisk(fs: MemFileSystem): Promise<number[]> {
  return (await fs.list(DIR)).filter((n) => n.endsWith('.sst')).map((n) => Number.parseInt(n, 10)).sort((a, b) => a - b);
}

function liveTables(db: DB): number[] {
  const out: number[] = [];
  db.engine.versions.current().forEachFile((f) => out.push(f.fileNumber));
  return out.sort((a, b) => a - b);
}

/** Waits for the deletion pass a release scheduled (none on a build without one: the checks then see it). */
async function settled(db: DB): Promise<void> {
  await db.engine.fileGc.whenIdle();
}

function expectNothingPinned(db: DB): void {
  expect(db.engine.iterators.size, 'open iterators in the registry').toBe(0);
  expect(db.engine.versions.current().refCount, 'references to the current Version').toBe(1);
  expect(db.engine.versions.liveFiles(), 'files of live Versions').toEqual(new Set(liveTables(db)));
}

async function writeRound(db: DB, rng: Rng, round: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const k = `k${String(rng.int(2000)).padStart(5, '0')}`;
    await db.put(k, `r${round}-${rng.int(1e9)}`);
  }
}

describe('iterators let go at the end', () => {
  it('30 full scans with compactions between: tables on disk are the live ones, without a flush', async () => {
    await withSeed('30 scans', async (rng) => {
      const { db, fs } = await openMem({ writeBufferSize: 32 * 1024 });
      for (let round = 0; round < 30; round++) {
        await writeRound(db, rng, round, 100);
        const it = db.iterator({ reverse: round % 2 === 1 });
        const first = await it.next(); // the source is built: this iterator now pins today's tables
        expect(first.done).toBe(false);
        await writeRound(db, rng, round, 50);
        await db.compactRange(); // replaces every table the iterator holds
        let n = 1;
        for await (const _ of it) n++; // runs to the end: JavaScript never calls return() here
        expect(n).toBeGreaterThan(50);
      }
      const flushes = db.stats().flushes.count;
      await settled(db);
      expect(db.stats().flushes.count).toBe(flushes);
      const live = liveTables(db);
      expect(live.length).toBeGreaterThan(0);
      expect(await tablesOnDisk(fs)).toEqual(live);
      expectNothingPinned(db);
      await db.close();
    });
  });

  it('1,000 exhausted iterators (forward, reverse, limit, bounds, nextv, keys, values): none open, no Version pinned', async () => {
    await withSeed('1000 iterators', async (rng) => {
      const { db, fs } = await openMem({ writeBufferSize: 16 * 1024 });
      await writeRound(db, rng, 0, 300);
      await db.flush();
      for (let i = 0; i < 1000; i++) {
        const lo = `k${String(rng.int(2000)).padStart(5, '0')}`;
        switch (i % 7) {
          case 0: for await (const _ of db.iterator()) { /* to the end */ } break;
          case 1: for await (const _ of db.iterator({ reverse: true })) { /* to the end */ } break;
          case 2: for await (const _ of db.keys({ limit: 3 })) { /* limit reached */ } break;
          case 3: for await (const _ of db.values({ limit: 2, reverse: true, lte: lo })) { /* limit, reverse */ } break;
          case 4: for await (const _ of db.iterator({ gte: lo, lt: `${lo}~` })) { /* bounds */ } break;
          case 5: {
            const it = db.keys({ gt: lo });
            while ((await it.nextv(64)).length === 64) { /* a short batch is the end */ }
            break;
          }
          default: for await (const _ of db.keys({ limit: 0 })) { /* nothing at all */ }
        }
        // New Versions now and then: an iterator still holding an old one would keep its tables.
        if (i % 100 === 99) {
          await writeRound(db, rng, i, 100);
          await db.flush();
        }
      }
      await settled(db);
      expectNothingPinned(db);
      expect(db.engine.versions.liveVersionCount).toBe(1);
      expect(await tablesOnDisk(fs)).toEqual(liveTables(db));
      await db.close();
    });
  });

  it('after the end: next() stays done, nextv() gives [], seek() is ERR_CLOSED, close() twice is harmless', async () => {
    const { db } = await openMem();
    for (const k of ['a', 'b', 'c']) await db.put(k, k);
    const it = db.keys();
    expect((await it.nextv(10)).map(String)).toEqual(['a', 'b', 'c']);
    expect(db.engine.iterators.size).toBe(0); // a short batch already let go
    expect((await it.next()).done).toBe(true);
    expect(await it.nextv(5)).toEqual([]);
    throwsWith(() => it.seek(Buffer.from('a')), 'ERR_CLOSED', 'seek after the end');
    await it.close();
    await it.close();
    await rejectsWith(() => it.next(), 'ERR_CLOSED', 'next after close');
    expectNothingPinned(db);
    await db.close();
  });

  it('an iterator abandoned mid-way pins its tables until return()/close(); break closes it', async () => {
    await withSeed('abandoned', async (rng) => {
      const { db, fs } = await openMem({ writeBufferSize: 32 * 1024 });
      await writeRound(db, rng, 0, 200);
      await db.flush();
      const held = liveTables(db);
      const it = db.iterator();
      expect((await it.next()).done).toBe(false);
      const broken = db.iterator({ reverse: true });
      for await (const _ of broken) break; // for await calls return() on break
      await writeRound(db, rng, 1, 200);
      await db.compactRange();
      await settled(db);
      const onDisk = await tablesOnDisk(fs);
      for (const n of held) expect(onDisk, `table ${n} pinned by the open iterator`).toContain(n);
      expect(db.engine.iterators.size).toBe(1);
      const flushes = db.stats().flushes.count;
      await it.return();
      await settled(db);
      expect(db.stats().flushes.count).toBe(flushes);
      expect(await tablesOnDisk(fs)).toEqual(liveTables(db));
      expectNothingPinned(db);
      await db.close();
    });
  });

  it('a failed read releases the iterator and keeps reporting the failure', async () => {
    const { db, fs } = await openMem({ cacheSize: 0, compression: 'none' });
    for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(4, '0')}`, 'v'.repeat(100));
    await db.flush();
    const [table] = liveTables(db);
    const file = `${DIR}/${String(table).padStart(6, '0')}.sst`;
    const bytes = (await fs.readFile(file)).slice();
    bytes[20]! ^= 0x55; // inside the first data block: its checksum fails when it is read
    await overwrite(fs, file, bytes);
    const it = db.iterator();
    const first = await rejectsWith(() => it.next(), 'ERR_CORRUPTION', 'reading a damaged block');
    expect(db.engine.iterators.size).toBe(0);
    expect(await rejectsWith(() => it.next(), 'ERR_CORRUPTION', 'next after the failure')).toBe(first);
    await it.close();
    expectNothingPinned(db);
    await db.close();
  });

  it('a transaction\'s exhausted iterators let go too', async () => {
    await withSeed('tx iterators', async (rng) => {
      const { db, fs } = await openMem({ writeBufferSize: 32 * 1024 });
      await writeRound(db, rng, 0, 200);
      await db.flush();
      const tx = db.beginTransaction();
      await tx.put('k00000', 'mine');
      const early = tx.iterator();
      expect((await early.next()).value?.[1].toString()).toBe('mine');
      await writeRound(db, rng, 1, 200);
      await db.compactRange();
      for await (const _ of early) { /* to the end */ }
      for await (const _ of tx.keys({ reverse: true })) { /* to the end */ }
      for await (const _ of tx.values({ limit: 5 })) { /* limit */ }
      await settled(db);
      expectNothingPinned(db);
      expect(await tablesOnDisk(fs)).toEqual(liveTables(db));
      tx.rollback();
      await db.close();
    });
  });

  it('a backup or checkpoint pin keeps its tables until released, then they go without a flush', async () => {
    await withSeed('backup pin', async (rng) => {
      const { db, fs } = await openMem({ writeBufferSize: 32 * 1024 });
      await writeRound(db, rng, 0, 200);
      await db.flush();
      const held = liveTables(db);
      const pin = makeBackupSource(db.engine).pin();
      await writeRound(db, rng, 1, 200);
      await db.compactRange();
      await settled(db);
      const onDisk = await tablesOnDisk(fs);
      for (const n of held) expect(onDisk, `table ${n} pinned by the backup`).toContain(n);
      const flushes = db.stats().flushes.count;
      pin.release();
      await settled(db);
      expect(db.stats().flushes.count).toBe(flushes);
      expect(await tablesOnDisk(fs)).toEqual(liveTables(db));
      expectNothingPinned(db);
      await db.close();
    });
  });
});

describe('the abstract-level adapter keeps abstract-level semantics', () => {
  it('seek() after the natural end reads again; close() (or for await) releases', async () => {
    const level = new StrataLevel<string, string>(await tempDir());
    await level.open();
    await level.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'b', value: '2' }]);
    expect(await level.iterator().all()).toEqual([['a', '1'], ['b', '2']]); // all() closes
    const it2 = level.keys();
    expect(await it2.next()).toBe('a');
    expect(await it2.next()).toBe('b');
    expect(await it2.next()).toBeUndefined();
    it2.seek('a');
    expect(await it2.next()).toBe('a');
    expect(level.strata.engine.iterators.size).toBe(1);
    await it2.close();
    for await (const _ of level.values()) { /* to the end */ }
    expect(level.strata.engine.iterators.size).toBe(0);
    expect(level.strata.engine.versions.current().refCount).toBe(1);
    await level.close();
  });
});
