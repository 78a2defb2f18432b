/**
 * Point-in-time restore: a base backup plus the WAL archive (walArchiveDir, many WAL rollovers, a
 * reopen in between), over puts, deletes, batches and range deletes (in the backup's tables and the
 * archived WALs). Restoring to random sequence numbers and random times must equal the model
 * replayed to that point, whole batches only (toSequence N keeps the batches whose last sequence is
 * <= N; toTime T the batches committed at or before T, with an injected clock so commit times are
 * known). A target beyond the archive, or before the backup, is ERR_INVALID_ARGUMENT; a gap in the
 * archive refuses a restore that needs the missing WAL and leaves a target that does not open.
 * The replayed tables are written with the restored database's options (RestoreOptions.dbOptions:
 * table options and clock), the defaults without them; bad dbOptions are refused before anything.
 */
import { Buffer } from 'node:buffer';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackupEngine, DB, DEFAULT_OPTIONS, MemFileSystem, WriteBatch, inspect, type Options } from '../../src/index.js';
import { CommitLog, diffStates, hex, readAll, rejectsWith, type LoggedOp } from '../support/db-check.js';
import { withSeed, type Rng } from '../support/rng.js';
import { replayWal } from '../../src/wal/wal-replay.js';

interface Committed { lastSeq: number; timeMs: number }

interface History {
  fs: MemFileSystem;
  log: CommitLog;
  /** Per write of the log: its last sequence number and commit time. */
  meta: Committed[];
  backupSequence: number;
  backupWrites: number;
}

const ARCHIVE = '/bk/wal-archive';

/** Sequential writes (each its own WAL record), a backup in the middle, a reopen, then close. */
async function makeHistory(rng: Rng): Promise<History> {
  const fs = new MemFileSystem();
  let now = 1_700_000_000_000;
  const open = (): Promise<DB> => DB.open('/db', { fs, writeBufferSize: 16 * 1024, walArchiveDir: ARCHIVE, clock: () => now });
  let db = await open();
  const log = new CommitLog();
  const meta: Committed[] = [];
  let seq = 0;
  let backupSequence = -1;
  let backupWrites = -1;
  for (let i = 0; i < 600; i++) {
    now += 1 + rng.int(3) * 500; // some commits share a millisecond
    const key = (): Buffer => Buffer.from(`k${String(rng.int(120)).padStart(4, '0')}`);
    const ops: LoggedOp[] = [];
    const roll = rng.int(10);
    if (roll < 6) {
      const k = key();
      const v = Buffer.from(`v${i}-`.repeat(10 + rng.int(60)));
      await db.put(k, v);
      ops.push({ key: hex(k), value: hex(v) });
    } else if (roll < 8) {
      const k = key();
      await db.delete(k);
      ops.push({ key: hex(k), value: undefined });
    } else if (roll === 9 && i % 2 === 0) {
      // A range delete, with a put inside its range after it in the same batch half the time.
      const [a, z] = [key(), key()].sort(Buffer.compare) as [Buffer, Buffer];
      const end = Buffer.concat([z, Buffer.from([0])]);
      const b = new WriteBatch().deleteRange(a, end);
      ops.push({ key: hex(a), value: undefined, end: hex(end) });
      if (rng.int(2) === 0) {
        const v = Buffer.from(`r${i}`);
        b.put(a, v);
        ops.push({ key: hex(a), value: hex(v) });
      }
      await db.write(b);
    } else {
      const b = new WriteBatch();
      for (let j = 0, n = 2 + rng.int(4); j < n; j++) {
        const k = key();
        const v = Buffer.from(`b${i}.${j}`);
        b.put(k, v);
        ops.push({ key: hex(k), value: hex(v) });
      }
      await db.write(b);
    }
    seq += ops.length;
    log.commit({ ops, sync: false });
    meta.push({ lastSeq: seq, timeMs: now });
    if (i === 200) {
      const info = await db.backup('/bk');
      expect(info.sequence).toBe(seq);
      backupSequence = seq;
      backupWrites = i + 1;
    }
    if (i === 400) {
      await db.close();
      db = await open();
    }
  }
  await db.close(); // archives the last WAL
  expect((await fs.list(ARCHIVE)).length).toBeGreaterThan(5);
  return { fs, log, meta, backupSequence, backupWrites };
}

/** The writes a restore to (toSequence, toTime) must keep: those <= the backup, then a prefix. */
function expectedPrefix(h: History, toSequence: number | undefined, toTime: number | undefined): number {
  let n = h.backupWrites;
  while (n < h.meta.length) {
    const m = h.meta[n]!;
    if ((toSequence !== undefined && m.lastSeq > toSequence) || (toTime !== undefined && m.timeMs > toTime)) break;
    n++;
  }
  return n;
}

async function restoreAndCheck(h: History, engine: BackupEngine, target: string,
  to: { toSequence?: number; toTime?: number | Date }): Promise<void> {
  const toTime = to.toTime instanceof Date ? to.toTime.getTime() : to.toTime;
  const n = expectedPrefix(h, to.toSequence, toTime);
  const wantSeq = n === 0 ? 0 : h.meta[n - 1]!.lastSeq;
  const r = await engine.restore(1, target, to);
  expect(r.restoredSequence).toBe(wantSeq);
  const db = await DB.open(target, { fs: h.fs });
  try {
    const state = await readAll(db);
    const want = h.log.stateAfter(n);
    expect(diffStates(state, want), `restore to ${JSON.stringify(to)}`).toBe('');
    expect(state.size).toBe(want.size);
    expect(db.stats().sequence).toBe(wantSeq);
    // The restored database takes new writes after the restored point.
    await db.put('after-restore', 'x');
    expect(db.stats().sequence).toBe(wantSeq + 1);
  } finally {
    await db.close();
  }
}

describe('point-in-time restore', () => {
  it('to random batch boundaries and times equals the model replayed to that point', async () => {
    await withSeed('pitr', async (rng) => {
      const h = await makeHistory(rng);
      const engine = await BackupEngine.open('/bk', { fs: h.fs });
      const last = h.meta[h.meta.length - 1]!;
      const after = (): Committed => h.meta[h.backupWrites + rng.int(h.meta.length - h.backupWrites)]!;
      const seqs = [h.backupSequence, last.lastSeq];
      for (let i = 0; i < 6; i++) seqs.push(after().lastSeq);
      for (const [i, s] of seqs.entries()) await restoreAndCheck(h, engine, `/seq-${i}`, { toSequence: s });
      const t0 = h.meta[h.backupWrites - 1]!.timeMs;
      // Before the backup's own commits (nothing replayed), the ends, and random commit times (+0/+1 ms).
      const times = [t0 - 10_000, last.timeMs + 10_000];
      for (let i = 0; i < 4; i++) times.push(after().timeMs + rng.int(2));
      for (const [i, t] of times.entries()) await restoreAndCheck(h, engine, `/time-${i}`, { toTime: i % 2 ? new Date(t) : t });
    });
  });

  it('to a sequence inside a batch (or past a toTime bound) keeps the batches that end at or before the point', async () => {
    await withSeed('pitr-mid-batch', async (rng) => {
      const h = await makeHistory(rng);
      const engine = await BackupEngine.open('/bk', { fs: h.fs });
      // Batches after the backup with 2+ operations: stop at each one's first or middle sequence.
      const inside: number[] = [];
      for (let i = h.backupWrites; i < h.meta.length; i++) {
        const first = h.meta[i - 1]!.lastSeq + 1;
        if (h.meta[i]!.lastSeq > first) inside.push(first + rng.int(h.meta[i]!.lastSeq - first));
      }
      expect(inside.length).toBeGreaterThan(3);
      for (let i = 0; i < 3; i++) await restoreAndCheck(h, engine, `/inside-${i}`, { toSequence: rng.pick(inside) });
      // The same rule when both bounds are given and the time comes first: the earlier bound wins.
      const mid = h.meta[h.backupWrites + 100]!;
      await restoreAndCheck(h, engine, '/both', { toSequence: mid.lastSeq + 50, toTime: mid.timeMs });
    });
  });

  it('across a power cut: the WAL live at the cut is archived at reopen, and replay runs through it', async () => {
    await withSeed('pitr-power-cut', async (rng) => {
      const fs = new MemFileSystem();
      const options = { writeBufferSize: 16 * 1024, walArchiveDir: ARCHIVE };
      const db = await DB.open('/db', { fs, ...options });
      const value = (i: number): string => `v${i}-`.repeat(5 + rng.int(40));
      for (let i = 0; i < 300; i++) {
        await db.put(`k${rng.int(80)}`, value(i), { sync: rng.int(3) === 0 });
        if (i === 100) await db.backup('/bk');
      }
      // The cut: unsynced WAL bytes partly survive, so the live WAL may end in a torn record.
      const crashed = fs.crashClone({ keepUnsyncedPercent: 100, rng: rng.next });
      await db.close();
      const db2 = await DB.open('/db', { fs: crashed, ...options });
      const atReopen = await readAll(db2);
      const reopenSeq = db2.stats().sequence;
      for (let i = 0; i < 200; i++) await db2.put(`k${rng.int(80)}`, value(1000 + i));
      const final = await readAll(db2);
      const finalSeq = db2.stats().sequence;
      await db2.close();
      const engine = await BackupEngine.open('/bk', { fs: crashed });
      for (const [target, seq, want] of [['/at-reopen', reopenSeq, atReopen], ['/final', finalSeq, final]] as const) {
        const r = await engine.restore(1, target, { toSequence: seq });
        expect(r.restoredSequence).toBe(seq);
        const back = await DB.open(target, { fs: crashed });
        const state = await readAll(back);
        await back.close();
        expect(diffStates(state, want), target).toBe('');
        expect(state.size).toBe(want.size);
      }
    });
  });

  it('a rolled-over WAL is synced before its archive copy is all there is: writes never synced by a put survive a power cut in the archive', async () => {
    const fs = new MemFileSystem();
    const options = { walArchiveDir: ARCHIVE, compactionExecutor: 'inline' as const };
    const db = await DB.open('/db', { fs, ...options });
    await db.put('base', 'synced', { sync: true });
    await db.backup('/bk');
    for (let i = 0; i < 50; i++) await db.put(`k${i}`, `v${i}`); // never synced by a write
    await db.flush(); // rolls the WAL (archived), writes the table, deletes the WAL
    const want = await readAll(db);
    const seq = db.stats().sequence;
    // The power cut keeps only what was synced: the table, and the archive copy if it was synced.
    const crashed = fs.crashClone({ keepUnsyncedPercent: 0 });
    await db.close();
    const engine = await BackupEngine.open('/bk', { fs: crashed });
    const r = await engine.restore(1, '/restored', { toSequence: seq });
    expect(r.restoredSequence).toBe(seq);
    const back = await DB.open('/restored', { fs: crashed });
    expect(diffStates(await readAll(back), want)).toBe('');
    await back.close();
  });

  it('a power cut that tears the newest WAL reopens at the last sequence it kept: the archive replays through with no gap', async () => {
    const fs = new MemFileSystem();
    const options = { walArchiveDir: ARCHIVE, compactionExecutor: 'inline' as const };
    const db = await DB.open('/db', { fs, ...options });
    await db.put('base', 'synced', { sync: true });
    await db.backup('/bk');
    for (let i = 0; i < 20; i++) await db.put(`a${i}`, `v${i}`, { sync: true });
    await db.flush();
    const kept = db.stats().sequence;
    for (let i = 0; i < 5; i++) await db.put(`lost${i}`, 'never synced');
    // A MANIFEST edit while they are published but unsynced (a compaction's, or an older memtable's
    // flush, would do the same): it must not record their sequences as durable.
    await db.engine.versions.logAndApply({});
    const crashed = fs.crashClone({ keepUnsyncedPercent: 0 });
    await db.close();
    const db2 = await DB.open('/db', { fs: crashed, ...options });
    expect(db2.stats().sequence).toBe(kept); // the lost writes' numbers are given out again
    await db2.put('after', 'the cut', { sync: true });
    const want = await readAll(db2);
    const finalSeq = db2.stats().sequence;
    await db2.close();
    const engine = await BackupEngine.open('/bk', { fs: crashed });
    const r = await engine.restore(1, '/restored', { toSequence: finalSeq });
    expect(r.restoredSequence).toBe(finalSeq);
    const back = await DB.open('/restored', { fs: crashed });
    expect(diffStates(await readAll(back), want)).toBe('');
    await back.close();
  });

  it('refuses a target beyond the archive, before the backup, or across a gap in the archive', async () => {
    await withSeed('pitr-refusals', async (rng) => {
      const h = await makeHistory(rng);
      const engine = await BackupEngine.open('/bk', { fs: h.fs });
      const last = h.meta[h.meta.length - 1]!.lastSeq;
      await rejectsWith(() => engine.restore(1, '/beyond', { toSequence: last + 1 }), 'ERR_INVALID_ARGUMENT', 'beyond the archive');
      await rejectsWith(() => DB.open('/beyond', { fs: h.fs }), 'ERR_INVALID_ARGUMENT', 'open after a refused restore');
      await rejectsWith(() => engine.restore(1, '/before', { toSequence: h.backupSequence - 1 }), 'ERR_INVALID_ARGUMENT', 'before the backup');
      await rejectsWith(() => engine.restore(1, '/nan', { toSequence: Number.NaN }), 'ERR_INVALID_ARGUMENT', 'toSequence NaN');
      await rejectsWith(() => engine.restore(1, '/bad-time', { toTime: new Date('nonsense') }), 'ERR_INVALID_ARGUMENT', 'toTime invalid date');

      // Remove an archived WAL that holds writes after the backup.
      const archived = (await h.fs.list(ARCHIVE)).sort();
      const victimIndex = Math.floor(archived.length * 0.75);
      const victim = archived[victimIndex]!;
      const victimStart = await firstSequenceOf(h, archived, victimIndex);
      const firstAfterGap = await firstSequenceOf(h, archived, victimIndex + 1);
      expect(firstAfterGap).toBeLessThan(Infinity);
      await h.fs.remove(path.join(ARCHIVE, victim));
      const e = await rejectsWith(() => engine.restore(1, '/gap', { toSequence: last }), 'ERR_INVALID_ARGUMENT', 'restore across a gap');
      expect(e.message).toMatch(/gap/);
      await rejectsWith(() => DB.open('/gap', { fs: h.fs }), 'ERR_INVALID_ARGUMENT', 'open of the target of a refused restore');
      // A point before the gap is still recoverable.
      expect(victimStart).toBeGreaterThan(h.backupSequence + 1);
      await restoreAndCheck(h, engine, '/before-gap', { toSequence: victimStart - 1 });
      // ... and the restore stops refusing at the gap itself, not later.
      await rejectsWith(() => engine.restore(1, '/at-gap', { toSequence: firstAfterGap }), 'ERR_INVALID_ARGUMENT', 'restore to just past the gap');
    });
  });
});

/** The properties of the tables a restore into `target` wrote itself (those the backup does not list). */
async function replayedTableProperties(fs: MemFileSystem, target: string, backupFiles: Set<string>) {
  const out = [];
  for (const name of (await fs.list(target)).filter((n) => n.endsWith('.sst') && !backupFiles.has(n)).sort()) {
    const reader = await inspect.openTable(path.join(target, name), { fs });
    out.push(reader.properties);
    await reader.close();
  }
  return out;
}

describe('point-in-time restore writes its tables with the restored database\'s options', () => {
  it('blockSize, restart interval, filter, level-0 codec and clock from dbOptions; the defaults without', async () => {
    await withSeed('pitr-options', async (rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open('/db', { fs, walArchiveDir: ARCHIVE, compression: 'none' });
      for (let i = 0; i < 50; i++) await db.put(`k${rng.int(40)}`, `v${i}`.repeat(20));
      await db.backup('/bk');
      for (let i = 0; i < 300; i++) await db.put(`k${rng.int(200)}`, `w${i}`.repeat(20));
      const last = db.stats().sequence;
      await db.close();
      const engine = await BackupEngine.open('/bk', { fs });
      const backupFiles = new Set((await fs.list('/bk/shared')).map((n) => n.slice(0, 6) + '.sst'));

      const dbOptions: Options = {
        blockSize: 512, blockRestartInterval: 3, bloomBitsPerKey: 7, compression: 'lz4',
        compressionPerLevel: ['zstd', 'none'], zstdLevel: 5, clock: () => 1_234_567_890_000,
      };
      await engine.restore(1, '/custom', { toSequence: last, dbOptions });
      const custom = await replayedTableProperties(fs, '/custom', backupFiles);
      expect(custom.length).toBeGreaterThan(0);
      for (const p of custom) {
        expect(p.numDataBlocks).toBeGreaterThan(1);
        expect([p.blockSize, p.blockRestartInterval, p.bloomBitsPerKey, p.compression, p.creationTimeMs])
          .toEqual([512, 3, 7, 'zstd', 1_234_567_890_000]);
      }

      const before = Date.now();
      await engine.restore(1, '/default', { toSequence: last });
      const dflt = await replayedTableProperties(fs, '/default', backupFiles);
      expect(dflt.length).toBeGreaterThan(0);
      for (const p of dflt) {
        expect([p.blockSize, p.blockRestartInterval, p.bloomBitsPerKey, p.compression])
          .toEqual([DEFAULT_OPTIONS.blockSize, DEFAULT_OPTIONS.blockRestartInterval, DEFAULT_OPTIONS.bloomBitsPerKey, DEFAULT_OPTIONS.compression]);
        expect(p.creationTimeMs).toBeGreaterThanOrEqual(before);
      }

      // The replayed memtable is cut at the restored database's writeBufferSize, like any memtable.
      await engine.restore(1, '/small-buffers', { toSequence: last, dbOptions: { writeBufferSize: 8 * 1024 } });
      const small = await replayedTableProperties(fs, '/small-buffers', backupFiles);
      expect(small.length, 'tables replayed with an 8 KiB writeBufferSize').toBeGreaterThan(custom.length);
      const back = await DB.open('/small-buffers', { fs, writeBufferSize: 8 * 1024 });
      expect(back.stats().sequence).toBe(last);
      await back.close();

      for (const [target, bad] of [['/bad-block', { blockSize: 1 }], ['/bad-codec', { compression: 'snappy' }], ['/bad-name', { blokSize: 512 }]] as const) {
        await rejectsWith(() => engine.restore(1, target, { toSequence: last, dbOptions: bad as Options }), 'ERR_INVALID_ARGUMENT', JSON.stringify(bad));
        expect(await fs.exists(target), target).toBe(false);
      }
      // Each restored database opens, with the options it was restored for or with none.
      for (const [target, o] of [['/custom', dbOptions], ['/default', {}]] as const) {
        const back = await DB.open(target, { fs, ...o });
        expect(back.stats().sequence).toBe(last);
        await back.close();
      }
    });
  });
});

/** The first sequence number in archived WAL `index` of `names` (Infinity for an empty WAL). */
async function firstSequenceOf(h: History, names: string[], index: number): Promise<number> {
  const name = names[index];
  if (name === undefined) return Infinity;
  let first = Infinity;
  await replayWal(h.fs, path.join(ARCHIVE, name), {
    mode: 'absolute', isNewest: false,
    onBatch: (b) => { first = Math.min(first, b.firstSeq); },
  });
  return first;
}
