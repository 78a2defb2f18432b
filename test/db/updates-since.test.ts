/**
 * db.getUpdatesSince(): the committed batches read back from the live and archived WALs. A follower
 * that replays them into a second database equals the primary (seeded workload with flushes and WAL
 * rollovers, with and without a WAL archive); a sequence whose WAL is gone is ERR_INVALID_ARGUMENT;
 * the WALs an iterator needs stay on disk while it reads (pinned) and go once it is closed; encrypted
 * WALs decrypt; a reused (recycled) WAL yields none of its earlier life's records; the iterator ends
 * at the sequence published when it was created; argument checks, close and abort.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DB, MemFileSystem, WriteBatch, staticKeyProvider, type Options, type WalUpdate,
} from '../../src/index.js';
import { withSeed, type Rng } from '../support/rng.js';

const DIR = '/db';
const BASE: Options = { compression: 'none', compactionExecutor: 'inline' };

async function collect(it: AsyncIterable<WalUpdate>): Promise<WalUpdate[]> {
  const out: WalUpdate[] = [];
  for await (const u of it) out.push(u);
  return out;
}

async function entries(db: DB): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of db.iterator()) out.push([k.toString('hex'), v.toString('hex')]);
  return out;
}

/** Applies updates to the follower as one write each; returns the next sequence to ask for. */
async function apply(follower: DB, updates: WalUpdate[], next: number): Promise<number> {
  for (const u of updates) {
    expect(u.sequence).toBe(next);
    const b = new WriteBatch();
    for (const op of u.ops) {
      if (op.type === 'put') b.put(op.key, op.value);
      else if (op.type === 'del') b.delete(op.key);
      else b.deleteRange(op.key, op.end);
    }
    await follower.write(b);
    next = u.sequence + u.ops.length;
  }
  return next;
}

async function randomWrite(db: DB, rng: Rng): Promise<void> {
  const key = (): string => `k${String(rng.int(80)).padStart(3, '0')}`;
  const roll = rng.int(10);
  if (roll < 5) await db.put(key(), `v${rng.int(1e6)}-${'x'.repeat(rng.int(200))}`);
  else if (roll < 7) await db.delete(key());
  else if (roll < 8) {
    const a = key();
    const b = key();
    if (a !== b) await db.deleteRange(a < b ? a : b, a < b ? b : a);
  } else {
    const batch = new WriteBatch();
    for (let i = 1 + rng.int(5); i > 0; i--) {
      if (rng.int(4) === 0) batch.delete(key());
      else batch.put(key(), `b${rng.int(1e6)}`);
    }
    await db.write(batch);
  }
}

describe('db.getUpdatesSince', () => {
  it('a follower replaying the log equals the primary (flushes and WAL rollovers between reads, no archive)', async () => {
    await withSeed('updates follower, live WALs', async (rng) => {
      const fs = new MemFileSystem();
      // A memtable large enough that only the explicit flushes roll the WAL: without an archive, a
      // WAL flushed before the follower read it would be gone (the error test covers that).
      const primary = await DB.open(DIR, { ...BASE, fs, writeBufferSize: 1 << 20 });
      const follower = await DB.open('/follower', { ...BASE, fs });
      let next = 1;
      for (let round = 0; round < 25; round++) {
        for (let i = rng.int(40); i > 0; i--) await randomWrite(primary, rng);
        next = await apply(follower, await collect(primary.getUpdatesSince(next)), next);
        if (rng.int(3) === 0) await primary.flush();
      }
      expect(next - 1).toBe(primary.stats().sequence);
      expect(follower.stats().sequence).toBe(primary.stats().sequence);
      expect(await entries(follower)).toEqual(await entries(primary));
      await follower.close();
      await primary.close();
    });
  });

  it('a follower replaying the log equals the primary, reading the archived WALs of many rollovers', async () => {
    await withSeed('updates follower, archive', async (rng) => {
      const fs = new MemFileSystem();
      const primary = await DB.open(DIR, { ...BASE, fs, writeBufferSize: 4096, walArchiveDir: '/archive' });
      const follower = await DB.open('/follower', { ...BASE, fs });
      let next = 1;
      for (let round = 0; round < 6; round++) {
        for (let i = 30 + rng.int(60); i > 0; i--) await randomWrite(primary, rng);
        if (rng.int(2) === 0) await primary.flush();
        // Some rounds the follower does not read: the next read spans several archived WALs.
        if (rng.int(3) !== 0) next = await apply(follower, await collect(primary.getUpdatesSince(next)), next);
      }
      next = await apply(follower, await collect(primary.getUpdatesSince(next)), next);
      expect(primary.stats().flushes.count).toBeGreaterThan(3);
      expect(follower.stats().sequence).toBe(primary.stats().sequence);
      expect(await entries(follower)).toEqual(await entries(primary));
      // After a reopen the live WALs are gone (flushed at close): the archive still answers from 1.
      await primary.close();
      const reopened = await DB.open(DIR, { ...BASE, fs, walArchiveDir: '/archive' });
      const all = await collect(reopened.getUpdatesSince(0));
      expect(all[0]!.sequence).toBe(1);
      const last = all[all.length - 1]!;
      expect(last.sequence + last.ops.length - 1).toBe(reopened.stats().sequence);
      await reopened.close();
      await follower.close();
    });
  });

  it('a sequence whose WAL was flushed and deleted (no archive) is ERR_INVALID_ARGUMENT; later ones still read', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { ...BASE, fs });
    for (let i = 0; i < 10; i++) await db.put(`a${i}`, 'x');
    await db.flush();
    await db.put('b', 'y');
    await expect(collect(db.getUpdatesSince(3))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/sequence 3 is not in the log/),
    });
    const rest = await collect(db.getUpdatesSince(11));
    expect(rest.map((u) => [u.sequence, u.ops])).toEqual([[11, [{ type: 'put', key: Buffer.from('b'), value: Buffer.from('y') }]]]);
    await db.close();
    // Flushed at close, no archive: nothing is left to read.
    const again = await DB.open(DIR, { ...BASE, fs });
    await expect(collect(again.getUpdatesSince(11))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    // Past the end is not an error: nothing has happened there yet.
    expect(await collect(again.getUpdatesSince(12))).toEqual([]);
    await again.close();
  });

  it('keeps the WALs it needs on disk while it reads (a flush cannot delete them) and lets them go at close', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { ...BASE, fs });
    for (let i = 0; i < 20; i++) await db.put(`k${i}`, `v${i}`);
    const walsBefore = (await fs.list(DIR)).filter((n) => n.endsWith('.log'));
    expect(walsBefore).toHaveLength(1);
    const it = db.getUpdatesSince(1);
    // Flushes roll the WAL and make the old one obsolete; the pin holds it until the iterator is done.
    await db.flush();
    await db.put('later', 'x');
    await db.flush();
    await db.engine.deleteObsoleteFiles();
    expect(await fs.list(DIR)).toContain(walsBefore[0]);
    const got = await collect(it);
    expect(got.map((u) => u.sequence)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await db.engine.deleteObsoleteFiles();
    expect(await fs.list(DIR)).not.toContain(walsBefore[0]);
    await db.close();
  });

  it('keeps a pinned archived WAL past the archive retention limits until the reader is done', async () => {
    const fs = new MemFileSystem();
    // A limit of about one WAL: each rollover trims the archive down to the newest WAL or so.
    const options: Options = { ...BASE, fs, walArchiveDir: '/archive', walArchiveSizeLimit: 200 };
    const before = await DB.open(DIR, options);
    await before.put('a', '1');
    await before.close(); // flushed, archived, and the live WAL deleted: only the archived copy is left
    const db = await DB.open(DIR, options);
    const first = (await fs.list('/archive'))[0]!;
    expect(await fs.list(DIR)).not.toContain(`${first.split('-')[0]}.log`);
    const it = db.getUpdatesSince(1);
    for (let i = 0; i < 3; i++) {
      await db.put(`b${i}`, 'v'.repeat(150));
      await db.flush();
    }
    expect((await collect(it)).map((u) => u.sequence)).toEqual([1]);
    await db.put('c', 'v'.repeat(150));
    await db.close(); // archives the last WAL, and retention runs again with nothing pinned
    expect(await fs.list('/archive')).not.toContain(first);
  });

  it('reads encrypted WALs (live and archived)', async () => {
    const fs = new MemFileSystem();
    const keyProvider = staticKeyProvider({ k1: randomBytes(32) }, 'k1');
    const db = await DB.open(DIR, { ...BASE, fs, walArchiveDir: '/archive', encryption: { keyProvider } });
    await db.put('secret-key', 'secret-value');
    await db.flush();
    await db.write(new WriteBatch().put('a', '1').delete('b').deleteRange('c', 'd'));
    const wal = (await fs.list(DIR)).find((n) => n.endsWith('.log'))!;
    expect(Buffer.from(await fs.readFile(`${DIR}/${wal}`)).includes('deleteRange')).toBe(false);
    const got = await collect(db.getUpdatesSince(1));
    expect(got).toEqual([
      { sequence: 1, commitTime: expect.any(Number), ops: [{ type: 'put', key: Buffer.from('secret-key'), value: Buffer.from('secret-value') }] },
      { sequence: 2, commitTime: expect.any(Number), ops: [
        { type: 'put', key: Buffer.from('a'), value: Buffer.from('1') },
        { type: 'del', key: Buffer.from('b') },
        { type: 'deleteRange', key: Buffer.from('c'), end: Buffer.from('d') },
      ] },
    ]);
    await db.close();
  });

  it('a reused (recycled) WAL yields only its own batches, never its earlier life\'s records', async () => {
    await withSeed('updates recycled WAL', async (rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open(DIR, { ...BASE, fs, writeBufferSize: 64 << 10, recycleLogFileNum: 2 });
      const written = new Map<number, string>();
      const put = async (k: string, v: string): Promise<void> => {
        await db.put(k, v);
        written.set(db.stats().sequence, v);
      };
      // Long WALs first, so a reused file's old records run far past the new ones.
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 150; i++) await put(`k${rng.int(50)}`, `old${round}-${'x'.repeat(200)}`);
        await db.flush();
      }
      const log = await fs.readFile(`${DIR}/LOG`);
      expect(Buffer.from(log).toString()).toMatch(/reuses the file of WAL/);
      const from = db.stats().sequence + 1;
      for (let i = 0; i < 5; i++) await put(`n${i}`, `new${i}`);
      const got = await collect(db.getUpdatesSince(from));
      expect(got.map((u) => [u.sequence, (u.ops[0] as { value: Buffer }).value.toString()]))
        .toEqual([0, 1, 2, 3, 4].map((i) => [from + i, `new${i}`]));
      expect(written.get(from + 4)).toBe('new4');
      await db.close();
    });
  });

  it('ends at the sequence published when it was created; close, abort and argument checks', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { ...BASE, fs });
    await db.put('a', '1');
    const it = db.getUpdatesSince(1);
    await db.put('b', '2');
    expect((await collect(it)).map((u) => u.sequence)).toEqual([1]);
    expect((await collect(db.getUpdatesSince(1))).map((u) => u.sequence)).toEqual([1, 2]);
    expect(await collect(db.getUpdatesSince(3))).toEqual([]);

    for (const bad of [-1, 1.5, Number.NaN, '1', undefined]) {
      expect(() => db.getUpdatesSince(bad as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
    expect(() => db.getUpdatesSince(1, { limit: 3 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => db.getUpdatesSince(1, { signal: AbortSignal.abort() })).toThrow(expect.objectContaining({ code: 'ERR_ABORTED' }));
    const ac = new AbortController();
    const aborted = db.getUpdatesSince(1, { signal: ac.signal });
    ac.abort();
    await expect(aborted.next()).rejects.toMatchObject({ code: 'ERR_ABORTED' });

    {
      await using disposed = db.getUpdatesSince(1);
      expect((await disposed.next()).value?.sequence).toBe(1);
    }
    const open = db.getUpdatesSince(1);
    await db.close();
    await expect(open.next()).resolves.toEqual({ done: true, value: undefined });
    expect(() => db.getUpdatesSince(1)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});
