/**
 * db.ingest(): a seeded model test (puts, deletes and range deletes in the database, then external
 * tables over the same keys: the ingested values win, snapshots taken before see the old ones, the
 * state survives a reopen and a full compaction); where the tables go (the deepest level that fits,
 * L0 under an overlapping L0 table, above overlapping data); the memtable flush an overlap forces;
 * move; and the results. Refusals are in ingest-refusals.test.ts, crashes in ingest-crash.test.ts.
 * Each test has its own MemFileSystem.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, type Options } from '../../src/index.js';
import { writeExternalTable } from '../../sstable/index.js';
import { Model } from '../support/model.js';
import { withSeed, type Rng } from '../support/rng.js';
import { hex, readAll } from '../support/db-check.js';
import { tempDir } from '../support/tmpdir.js';

const DIR = '/db';
const key = (i: number): Uint8Array => Buffer.from(`k${String(i).padStart(5, '0')}`);

function modelMap(m: Model): Map<string, string> {
  return new Map(m.scan().map(([k, v]) => [hex(k), hex(v)]));
}

/** Sorted unique keys in [lo, hi), about `share` of them. */
function someKeys(rng: Rng, lo: number, hi: number, share: number): number[] {
  const out: number[] = [];
  for (let i = lo; i < hi; i++) if (rng.next() < share) out.push(i);
  return out;
}

async function randomWrites(db: DB, model: Model, rng: Rng, n: number, keys: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const k = key(rng.int(keys));
    if (r < 0.7) {
      const v = Buffer.from(`w${rng.int(1e6)}`);
      await db.put(k, v);
      model.put(k, v);
    } else if (r < 0.9) {
      await db.delete(k);
      model.delete(k);
    } else {
      const a = rng.int(keys);
      const b = a + 1 + rng.int(20);
      await db.deleteRange(key(a), key(b));
      model.deleteRange(key(a), key(b));
    }
    if (rng.next() < 0.01) await db.flush();
  }
}

const small: Options = { writeBufferSize: 16 << 10, targetFileSize: 8 << 10, maxBytesForLevelBase: 32 << 10, blockSize: 256, compactionExecutor: 'inline' };

describe('db.ingest', () => {
  it('model: ingested values win over every older version, snapshots before see the old state, across reopen and compaction', async () => {
    await withSeed('ingest model', async (rng) => {
      const fs = new MemFileSystem();
      let db = await DB.open(DIR, { ...small, fs });
      const model = new Model();
      const KEYS = 2000;
      for (let round = 0; round < 4; round++) {
        await randomWrites(db, model, rng, 400, KEYS);
        // 1-3 external tables over disjoint slices of the key space, overlapping what the database holds.
        const files: string[] = [];
        const parts = 1 + rng.int(3);
        const width = Math.floor(KEYS / parts);
        const before = model.clone();
        for (let p = 0; p < parts; p++) {
          const keys = someKeys(rng, p * width, (p + 1) * width - 1, 0.05 + rng.next() * 0.3);
          if (keys.length === 0) continue;
          const entries = keys.map((i) => [key(i), Buffer.from(`ingested-${round}-${i}`)] as const);
          const path = `/ext/r${round}-p${p}.sst`;
          await fs.mkdir('/ext', { recursive: true });
          await writeExternalTable(path, entries, { fs, blockSize: 128 });
          files.push(path);
          for (const [k, v] of entries) model.put(k, v);
        }
        if (files.length === 0) continue;
        const snap = db.snapshot();
        const seqBefore = db.stats().sequence;
        const r = await db.ingest(files);
        expect(r.sequence).toBe(seqBefore + 1);
        expect(db.stats().sequence).toBe(seqBefore + 1);
        expect(await readAll(db)).toEqual(modelMap(model));
        expect(await readAll(db, snap)).toEqual(modelMap(before));
        for (let i = 0; i < 50; i++) {
          const k = key(rng.int(KEYS));
          expect(hexOrUndefined(await db.get(k)), `get ${k.toString()}`).toEqual(hexOrUndefined(model.get(k)));
          expect(hexOrUndefined(await db.get(k, { snapshot: snap }))).toEqual(hexOrUndefined(before.get(k)));
        }
        snap.release();
        // Writes after the ingest are newer than it.
        await randomWrites(db, model, rng, 100, KEYS);
        expect(await readAll(db)).toEqual(modelMap(model));
        if (round % 2 === 1) {
          await db.close();
          db = await DB.open(DIR, { ...small, fs });
          expect(await readAll(db)).toEqual(modelMap(model));
        }
      }
      await db.compactRange();
      expect(await readAll(db)).toEqual(modelMap(model));
      await db.close();
      db = await DB.open(DIR, { ...small, fs });
      expect(await readAll(db)).toEqual(modelMap(model));
      await db.close();
    });
  });

  it('goes to the bottom level in an empty database, to L0 under an overlapping L0 table, and above overlapping data', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir('/ext');
    const db = await DB.open(DIR, { fs, compactionExecutor: 'inline', numLevels: 7, level0CompactionTrigger: 100, level0SlowdownTrigger: 100, level0StopTrigger: 100, idleCompactionDelayMs: 0 });
    await writeExternalTable('/ext/a.sst', [['a1', 'x'], ['a5', 'y']], { fs });
    const r1 = await db.ingest('/ext/a.sst');
    expect(r1.files.map((f) => f.level)).toEqual([6]);
    await db.put('a3', 'old');
    await db.flush(); // an L0 table inside a1..a5
    await writeExternalTable('/ext/b.sst', [['a2', 'new'], ['a3', 'new']], { fs });
    await writeExternalTable('/ext/c.sst', [['b1', 'c']], { fs });
    const r2 = await db.ingest(['/ext/c.sst', '/ext/b.sst']);
    // b overlaps the L0 table; c overlaps nothing: the bottom.
    expect(r2.files.map((f) => [f.path, f.level])).toEqual([['/ext/b.sst', 0], ['/ext/c.sst', 6]]);
    expect((await db.get('a3'))?.toString()).toBe('new');
    expect((await db.get('a1'))?.toString()).toBe('x');
    // Above L6's a1..a5 table but below nothing else: L5.
    await db.compactRange();
    await writeExternalTable('/ext/d.sst', [['a4', 'd']], { fs });
    const r3 = await db.ingest(['/ext/d.sst']);
    expect(r3.files[0]!.level).toBe(5);
    expect((await db.get('a4'))?.toString()).toBe('d');
    expect(r3.entries).toBe(1);
    await db.close();
  });

  it('in the FIFO style goes to L0 with its write time, so size and TTL drops take it as the newest', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir('/ext');
    let now = 1_000_000;
    const db = await DB.open(DIR, { fs, compactionExecutor: 'inline', compactionStyle: 'fifo', clock: () => now, idleCompactionDelayMs: 0 });
    await db.put('a', 'old');
    await db.flush();
    now += 5_000;
    await writeExternalTable('/ext/a.sst', [['b1', 'x'], ['b2', 'y']], { fs });
    const r = await db.ingest('/ext/a.sst');
    expect(r.files.map((f) => f.level)).toEqual([0]);
    const l0 = db.engine.versions.current().levels[0]!;
    const ingested = l0.find((f) => f.fileNumber === r.files[0]!.tables[0])!;
    expect(ingested.newestWriteTimeMs).toBe(now);
    expect(Math.max(...l0.map((f) => f.newestWriteTimeMs ?? 0))).toBe(now);
    expect((await db.get('b2'))?.toString()).toBe('y');
    await db.close();
  });

  it('flushes a memtable holding keys (or a range tombstone) in the range first; leaves a disjoint one alone', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir('/ext');
    const db = await DB.open(DIR, { fs, compactionExecutor: 'inline' });
    await db.put('z', 'memtable');
    const flushes = (): number => db.stats().flushes.count;
    await writeExternalTable('/ext/a.sst', [['a', '1'], ['c', '1']], { fs });
    await db.ingest('/ext/a.sst');
    expect(flushes()).toBe(0);
    await db.put('b', 'old');
    await writeExternalTable('/ext/b.sst', [['b', 'new']], { fs });
    await db.ingest('/ext/b.sst');
    expect(flushes()).toBe(1);
    expect((await db.get('b'))?.toString()).toBe('new');
    await db.deleteRange('d', 'f');
    await writeExternalTable('/ext/e.sst', [['e', 'new']], { fs });
    await db.ingest('/ext/e.sst');
    expect(flushes()).toBe(2);
    expect((await db.get('e'))?.toString()).toBe('new');
    await db.close();
  });

  it('move removes the sources once installed; empty tables add nothing; the LOG names the ingest', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir('/ext');
    const db = await DB.open(DIR, { fs, compactionExecutor: 'inline' });
    await writeExternalTable('/ext/a.sst', [['a', '1']], { fs });
    await writeExternalTable('/ext/empty.sst', [], { fs });
    const r = await db.ingest(['/ext/a.sst', '/ext/empty.sst'], { move: true });
    expect(r.files.map((f) => f.path)).toEqual(['/ext/a.sst']);
    expect(await fs.exists('/ext/a.sst')).toBe(false);
    expect(await fs.exists('/ext/empty.sst')).toBe(false);
    await writeExternalTable('/ext/empty2.sst', [], { fs });
    const seq = db.stats().sequence;
    expect(await db.ingest('/ext/empty2.sst')).toEqual({ sequence: 0, entries: 0, files: [] });
    expect(db.stats().sequence).toBe(seq);
    expect(await fs.exists('/ext/empty2.sst')).toBe(true);
    await db.close();
    const log = Buffer.from(await fs.readFile(`${DIR}/LOG`)).toString();
    expect(log).toMatch(/ingest: 1 entries from 1 file\(s\) at sequence 1 into L6:/);
  });

  it('open transactions see the ingest as a write of its key range; after a reopen the next write is newer', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir('/ext');
    const opts = { fs, compactionExecutor: 'inline', flushOnClose: false } as const;
    let db = await DB.open(DIR, opts);
    await db.put('zz', 'only in the WAL'); // the WAL holds sequence 1, never flushed
    const inRange = db.beginTransaction();
    await inRange.put('b', 'tx');
    const outside = db.beginTransaction();
    await outside.put('q', 'tx');
    await writeExternalTable('/ext/a.sst', [['a', 'ingested'], ['c', 'ingested']], { fs });
    const r = await db.ingest('/ext/a.sst');
    expect(r.sequence).toBe(2);
    await expect(inRange.commit()).rejects.toMatchObject({ code: 'ERR_TXN_CONFLICT' }); // b is inside [a, c]
    await outside.commit();
    await db.close();
    db = await DB.open(DIR, opts);
    expect(db.stats().sequence).toBe(3); // the WAL's last write
    await writeExternalTable('/ext/b.sst', [['c', 'again']], { fs });
    expect((await db.ingest('/ext/b.sst')).sequence).toBe(4);
    await db.close();
    db = await DB.open(DIR, opts);
    expect(db.stats().sequence).toBe(4); // above every WAL record: the MANIFEST's
    await db.put('c', 'after reopen');
    expect((await db.get('c'))?.toString()).toBe('after reopen');
    expect((await db.get('a'))?.toString()).toBe('ingested');
    await db.close();
  });

  it('ingested tables compact like any other, in worker threads, on the real file system', async () => {
    const dir = await tempDir();
    const db = await DB.open(`${dir}/db`, { compactionExecutor: 'worker', targetFileSize: 4 << 10 });
    for (let i = 0; i < 3000; i += 2) await db.put(key(i), `old-${i}`);
    await db.flush();
    const entries = Array.from({ length: 1500 }, (_, j) => [key(j * 2 + (j % 3 === 0 ? 0 : 1)), `new-${j}`] as const)
      .sort((a, b) => Buffer.compare(a[0], b[0]));
    await writeExternalTable(`${dir}/ext.sst`, entries);
    const r = await db.ingest(`${dir}/ext.sst`);
    expect(r.files[0]!.tables.length).toBeGreaterThan(1); // cut at targetFileSize
    const want = new Map<string, string>();
    for (let i = 0; i < 3000; i += 2) want.set(key(i).toString(), `old-${i}`);
    for (const [k, v] of entries) want.set(k.toString(), v);
    const now = async (): Promise<Map<string, string>> => {
      const m = new Map<string, string>();
      for await (const [k, v] of db.iterator()) m.set(k.toString(), v.toString());
      return m;
    };
    expect(await now()).toEqual(want);
    await db.compactRange();
    expect(db.stats().compactions.count).toBeGreaterThan(0);
    expect(await now()).toEqual(want);
    await db.verifyChecksums();
    await db.close();
  });
});

function hexOrUndefined(b: Uint8Array | undefined): string | undefined {
  return b === undefined ? undefined : hex(b);
}
