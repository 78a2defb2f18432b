/**
 * recycleLogFileNum through the engine: obsolete WALs are kept and reused for new WALs (renamed,
 * written over), and a power cut at any moment of a synced workload keeps every acknowledged write
 * while no record of a reused file's earlier life comes back (an old value reappearing over a newer
 * one, a deleted key returning, or an open refusing a WAL). Also the option's rules: validated, in
 * the OPTIONS file, refused with 'absolute' and with a WAL archive.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, type Options } from '../../src/index.js';
import { withSeed } from '../support/rng.js';
import { WalGroupEncoder } from '../../src/wal/wal-record.js';
import { WalWriter } from '../../src/wal/wal-writer.js';
import { WriteBatch } from '../../src/wal/write-batch.js';

const DIR = '/db';
const OPTIONS: Options = { writeBufferSize: 4096, recycleLogFileNum: 2, compression: 'none', compactionExecutor: 'inline' };

function logCount(log: string, needle: string): number {
  return log.split('\n').filter((l) => l.includes(needle)).length;
}

async function readLog(fs: MemFileSystem): Promise<string> {
  return Buffer.from(await fs.readFile(`${DIR}/LOG`)).toString();
}

describe('WAL recycling (recycleLogFileNum)', () => {
  it('reuses obsolete WAL files; power cuts during synced writes keep every acknowledged write and bring back nothing old', async () => {
    await withSeed('wal recycling power cuts', async (rng) => {
      const mem = new MemFileSystem();
      const db = await DB.open(DIR, { ...OPTIONS, fs: mem });
      // The model: each key's value once its write was acknowledged (undefined: deleted).
      const acked = new Map<string, string | undefined>();
      const clones: { fs: MemFileSystem; model: Map<string, string | undefined> }[] = [];
      for (let i = 0; i < 1500; i++) {
        const key = `k${rng.int(60)}`;
        if (rng.int(5) === 0) {
          await db.delete(key, { sync: true });
          acked.set(key, undefined);
        } else {
          const value = `${key}-v${i}-${'x'.repeat(rng.int(300))}`;
          await db.put(key, value, { sync: true });
          acked.set(key, value);
        }
        if (rng.int(60) === 0) {
          clones.push({ fs: mem.crashClone({ keepUnsyncedPercent: 100, rng: () => rng.next() }), model: new Map(acked) });
        }
      }
      const log = await readLog(mem);
      expect(logCount(log, 'reuses the file of WAL'), 'no WAL was reused').toBeGreaterThan(3);
      await db.close();
      clones.push({ fs: mem, model: acked });
      for (const [ci, c] of clones.entries()) {
        const re = await DB.open(DIR, { ...OPTIONS, fs: c.fs });
        for (const [key, want] of c.model) {
          const got = await re.get(key);
          expect(got?.toString(), `clone ${ci}, key ${key}`).toBe(want);
        }
        await re.close();
      }
    });
  });

  it('a reused WAL that got no write of its own does not make the WAL before it "older" (point-in-time stops there)', async () => {
    // A crash while WAL N's rollover sync was in flight and WAL N+1 (a reused file) had no write
    // yet: N may hold a hole followed by data. N is still the newest WAL holding data.
    const mem = new MemFileSystem();
    const db = await DB.open(DIR, { ...OPTIONS, writeBufferSize: 1 << 20, flushOnClose: false, fs: mem });
    for (let i = 0; i < 400; i++) await db.put(`k${String(i).padStart(4, '0')}`, 'v'.repeat(100), { sync: true });
    await db.close();
    const wals = (await mem.list(DIR)).filter((n) => n.endsWith('.log'));
    expect(wals).toHaveLength(1);
    const n = Number.parseInt(wals[0]!, 10);
    const data = await mem.readFile(`${DIR}/${wals[0]}`);
    data[40_000]! ^= 0xff; // in block 1: intact data follows in later blocks
    const w = await mem.openWritable(`${DIR}/${wals[0]}`);
    w.append(data);
    await w.sync();
    // WAL n+1: a reused file, still all earlier-use records (of log 1).
    const next = `${DIR}/${String(n + 1).padStart(6, '0')}.log`;
    const old = new WalWriter(await mem.openWritable(next), 1, undefined, true);
    const e = new WalGroupEncoder();
    for (let i = 0; i < 20; i++) {
      const b = new WriteBatch();
      b.put(`old${i}`, 'x');
      e.begin(1 + i, 0, 1);
      e.addBatch(b);
      old.appendGroup(e.finish());
    }
    await old.sync();
    await mem.syncDir(DIR);
    const re = await DB.open(DIR, { ...OPTIONS, fs: mem });
    expect((await re.get('k0000'))?.toString()).toBe('v'.repeat(100));
    expect(await re.get('old0')).toBeUndefined();
    await re.close();
  });

  it('keeps at most recycleLogFileNum files, and none with 0', async () => {
    for (const n of [0, 1, 3]) {
      const mem = new MemFileSystem();
      const db = await DB.open(DIR, { ...OPTIONS, recycleLogFileNum: n, fs: mem });
      for (let i = 0; i < 400; i++) await db.put(`k${i}`, 'v'.repeat(100), { sync: i % 10 === 0 });
      await db.flush();
      const held = (db as unknown as { engine: { walRecycler: { size: number } } }).engine.walRecycler.size;
      expect(held).toBeLessThanOrEqual(n);
      const log = await readLog(mem);
      if (n === 0) expect(logCount(log, 'reuses the file of WAL')).toBe(0);
      else expect(logCount(log, 'reuses the file of WAL')).toBeGreaterThan(0);
      await db.close();
    }
  });

  it('is validated, refused with walRecoveryMode absolute and with walArchiveDir, and recorded in OPTIONS', async () => {
    for (const bad of [-1, 1.5, 65, '2'] as unknown[]) {
      await expect(DB.open(DIR, { fs: new MemFileSystem(), recycleLogFileNum: bad as number })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    const mem = new MemFileSystem();
    await expect(DB.open(DIR, { fs: mem, recycleLogFileNum: 2, walRecoveryMode: 'absolute' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(DB.open(DIR, { fs: mem, recycleLogFileNum: 2, walArchiveDir: '/archive' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(await mem.exists(DIR)).toBe(false); // bad input changes nothing
    const db = await DB.open(DIR, { fs: mem, recycleLogFileNum: 2 });
    const name = (await mem.list(DIR)).find((n) => n.startsWith('OPTIONS-'))!;
    expect(Buffer.from(await mem.readFile(`${DIR}/${name}`)).toString()).toContain('recycleLogFileNum=2');
    await db.close();
  });
});
