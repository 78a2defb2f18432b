/**
 * The backup engine on a MemFileSystem: a backup taken while writers run is one point in time (a
 * prefix of the commit order covering every write acknowledged before backup() was called);
 * incremental backups copy only new tables; progress reports; AbortSignal; purge and delete remove
 * a shared table only when no remaining backup lists it.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackupEngine, DB, MemFileSystem, type BackupProgress } from '../../src/index.js';
import { decodeBackupMeta } from '../../src/backup/backup-meta.js';
import { diffStates, readAll, rejectsWith } from '../support/db-check.js';
import { prefixAtSequence, startWriters } from '../support/concurrent-writers.js';
import { withSeed } from '../support/rng.js';

/** Every shared-table name (`shared/...`) listed by some backup in `dir`. */
async function referenced(fs: MemFileSystem, dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const id of await fs.list(path.join(dir, 'meta'))) {
    const file = path.join(dir, 'meta', id);
    for (const f of decodeBackupMeta(await fs.readFile(file), file).files) out.add(`shared/${tableName(f.file)}`);
  }
  return out;
}

function tableName(f: { fileNumber: number; crc32c: number; fileSize: number }): string {
  return `${String(f.fileNumber).padStart(6, '0')}_${f.crc32c.toString(16).padStart(8, '0')}_${f.fileSize}.sst`;
}

async function sharedFiles(fs: MemFileSystem, dir: string): Promise<Set<string>> {
  return new Set((await fs.list(path.join(dir, 'shared'))).map((n) => `shared/${n}`));
}

describe('BackupEngine', () => {
  it('a backup taken while writers run restores to exactly one prefix of the commit order', async () => {
    await withSeed('backup-prefix', async (rng) => {
      for (let round = 0; round < 2; round++) {
        const fs = new MemFileSystem();
        // Small memtables: flushes and compactions run while the backup copies.
        const db = await DB.open('/db', { fs, writeBufferSize: 8 * 1024, blockSize: 512 });
        const writers = startWriters(db, rng, { writers: 3, keys: 150 });
        await writers.waitFor(300 + rng.int(400));
        const ackedBefore = writers.log.length;
        const info = await db.backup('/bk');
        const after = writers.log.length;
        await writers.waitFor(after + 50);
        await writers.stop();
        await db.close();

        const engine = await BackupEngine.open('/bk', { fs });
        const restored = await engine.restore('latest', '/r');
        expect(restored.restoredSequence).toBe(info.sequence);
        const r = await DB.open('/r', { fs });
        const state = await readAll(r);
        expect(r.stats().sequence).toBe(info.sequence);
        await r.close();
        const p = prefixAtSequence(writers.log, info.sequence);
        expect(p, `sequence ${info.sequence} is not a write boundary`).toBeGreaterThanOrEqual(ackedBefore);
        const want = writers.log.stateAfter(p);
        expect(state.size === want.size && diffStates(state, want) === '', diffStates(state, want)).toBe(true);
        // The prefix is the only explanation (writers share keys and values are unique).
        expect(writers.log.matchingPrefixes(state)).toContain(p);
      }
    });
  });

  it('an incremental backup copies about the new data only', async () => {
    await withSeed('incremental', async (rng) => {
      const fs = new MemFileSystem();
      // No compaction: it would rewrite old tables under new names.
      const db = await DB.open('/db', { fs, writeBufferSize: 1024 * 1024, level0CompactionTrigger: 100, level0SlowdownTrigger: 200, level0StopTrigger: 300 });
      // Random values: lz4 must not shrink them, so bytes copied measure data written.
      const value = (): Uint8Array => rng.bytes(1000);
      for (let i = 0; i < 2000; i++) await db.put(`k${String(i).padStart(6, '0')}`, value());
      await db.flush();
      const first = await db.backup('/bk');
      for (let i = 0; i < 20; i++) await db.put(`n${String(i).padStart(6, '0')}`, value());
      const second = await db.backup('/bk');
      // 20 new values of 1 KB (~20 KB) against ~2 MB.
      expect(first.bytesCopied).toBeGreaterThan(2_000_000);
      expect(second.bytesCopied).toBeGreaterThan(0);
      expect(second.bytesCopied).toBeLessThan(30_000);
      expect(second.files).toBe(first.files + 1);
      // After a flush, the next backup copies the one new table and no old one.
      await db.flush();
      const before = await sharedFiles(fs, '/bk');
      const third = await db.backup('/bk');
      const added = [...await sharedFiles(fs, '/bk')].filter((n) => !before.has(n));
      expect(added).toHaveLength(1);
      expect(third.bytesCopied).toBeLessThan(30_000);
      await db.close();
      const engine = await BackupEngine.open('/bk', { fs });
      for (const b of await engine.list()) await engine.verify(b.id);
    });
  });

  it('reports sane progress for backup, verify and restore', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs, writeBufferSize: 32 * 1024, level0CompactionTrigger: 50, level0SlowdownTrigger: 60, level0StopTrigger: 70 });
    for (let i = 0; i < 600; i++) await db.put(`k${String(i).padStart(5, '0')}`, 'x'.repeat(300));
    const seen: BackupProgress[] = [];
    const info = await db.backup('/bk', { onProgress: (p) => seen.push({ ...p }) });
    await db.close();
    const engine = await BackupEngine.open('/bk', { fs });
    await engine.verify(info.id, { onProgress: (p) => seen.push({ ...p }) });
    await engine.restore(info.id, '/r', { onProgress: (p) => seen.push({ ...p }) });
    for (const phase of ['copy', 'verify', 'restore'] as const) {
      const ps = seen.filter((p) => p.phase === phase);
      expect(ps.length, phase).toBeGreaterThan(1);
      ps.forEach((p, i) => {
        expect(p.filesDone).toBe(i + 1);
        expect(p.filesDone).toBeLessThanOrEqual(p.filesTotal);
        expect(p.bytesDone).toBeLessThanOrEqual(p.bytesTotal);
        if (i > 0) expect(p.bytesDone).toBeGreaterThan(ps[i - 1]!.bytesDone);
        expect(p.bytesTotal).toBe(ps[0]!.bytesTotal);
      });
      const last = ps[ps.length - 1]!;
      expect([last.filesDone, last.bytesDone]).toEqual([last.filesTotal, last.bytesTotal]);
    }
    expect(seen.filter((p) => p.phase === 'verify').at(-1)!.bytesTotal).toBe(info.bytes);
  });

  it('an AbortSignal stops a backup with ERR_ABORTED and leaves no listed backup; the next backup cleans up', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs, writeBufferSize: 16 * 1024, level0CompactionTrigger: 50, level0SlowdownTrigger: 60, level0StopTrigger: 70 });
    for (let i = 0; i < 400; i++) await db.put(`k${String(i).padStart(5, '0')}`, 'y'.repeat(300));
    await db.flush();
    const already = new AbortController();
    already.abort();
    await rejectsWith(() => db.backup('/bk', { signal: already.signal }), 'ERR_ABORTED', 'backup with an aborted signal');
    const midway = new AbortController();
    await rejectsWith(() => db.backup('/bk', { signal: midway.signal, onProgress: () => midway.abort() }), 'ERR_ABORTED', 'backup aborted midway');
    const engine = await BackupEngine.open('/bk', { fs });
    expect(await engine.list()).toEqual([]);
    expect((await sharedFiles(fs, '/bk')).size).toBeGreaterThan(0); // the aborted copy's tables
    const ok = await db.backup('/bk');
    expect(ok.id).toBe(1);
    expect(await sharedFiles(fs, '/bk')).toEqual(await referenced(fs, '/bk'));
    // A restore aborted midway leaves a target that does not open.
    const stop = new AbortController();
    await rejectsWith(() => engine.restore(1, '/r', { signal: stop.signal, onProgress: () => stop.abort() }), 'ERR_ABORTED', 'restore aborted');
    await db.close();
    await rejectsWith(() => DB.open('/r', { fs }), 'ERR_INVALID_ARGUMENT', 'open of a half-restored target');
  });

  it('delete(id) and purge({ keepLast }) remove a shared table only when no remaining backup uses it', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs, writeBufferSize: 16 * 1024 });
    const states: Map<string, string>[] = [];
    for (let b = 0; b < 5; b++) {
      for (let i = 0; i < 150; i++) await db.put(`k${String((b * 97 + i) % 400).padStart(4, '0')}`, `b${b}-${i}-`.repeat(20));
      if (b % 2 === 0) await db.flush();
      await db.backup('/bk');
      states.push(await readAll(db));
    }
    await db.close();
    const engine = await BackupEngine.open('/bk', { fs });
    const check = async (ids: number[]): Promise<void> => {
      expect((await engine.list()).map((b) => b.id)).toEqual(ids);
      expect(await sharedFiles(fs, '/bk')).toEqual(await referenced(fs, '/bk'));
      for (const id of ids) {
        await engine.verify(id);
        const target = `/r-${id}-${ids.length}`;
        await engine.restore(id, target);
        const r = await DB.open(target, { fs });
        expect(await readAll(r)).toEqual(states[id - 1]);
        await r.close();
      }
    };
    const allBefore = await sharedFiles(fs, '/bk');
    await engine.delete(2);
    await check([1, 3, 4, 5]);
    expect((await sharedFiles(fs, '/bk')).size).toBeLessThan(allBefore.size); // 2's memtable table went
    await rejectsWith(() => engine.delete(2), 'ERR_INVALID_ARGUMENT', 'delete of a deleted backup');
    expect(await engine.purge({ keepLast: 2 })).toEqual([1, 3]);
    await check([4, 5]);
    await rejectsWith(() => engine.purge({ keepLast: -1 }), 'ERR_INVALID_ARGUMENT', 'purge keepLast -1');
    expect(await engine.purge({ keepLast: 0 })).toEqual([4, 5]);
    expect((await sharedFiles(fs, '/bk')).size).toBe(0);
    await rejectsWith(() => engine.restore('latest', '/none'), 'ERR_INVALID_ARGUMENT', 'restore latest of nothing');
  });
});
