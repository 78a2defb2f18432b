/**
 * The life of a WAL after it rolls over, and at close:
 * - it is archived before anything may delete it, even when its memtable's flush finishes first
 *   (before the fix the flush deleted it while the archive copy was still to be made: a gap in the
 *   archive, and point-in-time restore across it refused);
 * - close() rejects when the MANIFEST write of its final flush fails (the data is safe in the WAL,
 *   but the caller must hear it), and the next open has every write;
 * - an open and close without a write leaves no empty WAL behind.
 */
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { DB, MemFileSystem } from '../../src/index.js';
import { FaultFileSystem, failKind, none } from '../../src/fs/fault-fs.js';
import { HoldFileSystem, turns } from '../support/hold-fs.js';

const DIR = '/db';
const ARCHIVE = '/archive';

async function logsIn(fs: MemFileSystem, dir: string): Promise<string[]> {
  return (await fs.list(dir)).filter((n) => n.endsWith('.log'));
}

describe('WAL life cycle', () => {
  it('a rolled-over WAL is archived before its flush may delete it', async () => {
    const mem = new MemFileSystem();
    const hold = new HoldFileSystem(mem, (kind, p) => kind === 'mkdir' && p === ARCHIVE);
    const db = await DB.open(DIR, { fs: hold, compactionExecutor: 'inline', walArchiveDir: ARCHIVE });
    const walsAtStart = await logsIn(mem, DIR);
    expect(walsAtStart).toHaveLength(1);
    await db.put('k', 'v');
    const flushing = db.flush();
    await hold.reached; // the archive of the rolled-over WAL is parked; its memtable's flush goes on
    await Promise.race([flushing, turns(200)]);
    hold.release();
    await flushing;
    await db.close();
    const archived = await mem.list(ARCHIVE);
    const walNumber = Number.parseInt(walsAtStart[0]!, 10);
    const entry = archived.find((n) => Number.parseInt(n, 10) === walNumber);
    expect(entry, `archive holds ${archived.join(', ')}`).toBeDefined();
    expect((await mem.stat(path.join(ARCHIVE, entry!))).size).toBeGreaterThan(0);
    // And once archived, the live copy is gone: nothing needs it.
    expect(await logsIn(mem, DIR)).not.toContain(walsAtStart[0]);
  });

  it('close() rejects when the MANIFEST write of its final flush fails, and loses nothing', async () => {
    const mem = new MemFileSystem();
    const fault = new FaultFileSystem(mem);
    const db = await DB.open(DIR, { fs: fault, compactionExecutor: 'inline' });
    await db.put('a', '1');
    await db.put('b', '2', { sync: true });
    fault.setInjector(failKind('sync', { path: 'MANIFEST-*' }));
    await expect(db.close()).rejects.toMatchObject({ code: 'ERR_READ_ONLY' });
    fault.setInjector(none);
    const again = await DB.open(DIR, { fs: mem });
    expect((await again.get('a'))?.toString()).toBe('1');
    expect((await again.get('b'))?.toString()).toBe('2');
    await again.close();
  });

  it('opens and closes without writes leave no empty WAL behind', async () => {
    const mem = new MemFileSystem();
    for (let i = 0; i < 6; i++) {
      const db = await DB.open(DIR, { fs: mem, compactionExecutor: 'inline' });
      await db.close();
    }
    expect(await logsIn(mem, DIR)).toEqual([]);
    const db = await DB.open(DIR, { fs: mem, compactionExecutor: 'inline' });
    await db.put('x', 'y');
    await db.close();
    const again = await DB.open(DIR, { fs: mem });
    expect((await again.get('x'))?.toString()).toBe('y');
    await again.close();
  });

  it('empty WALs a crash left behind are removed at the next open', async () => {
    const mem = new MemFileSystem();
    const db = await DB.open(DIR, { fs: mem, compactionExecutor: 'inline' });
    await db.put('x', 'y', { sync: true });
    // Crashes between creating a WAL and its first write: three empty WALs, process crash each time.
    let fs = mem.crashClone({ keepUnsyncedEntries: true, keepUnsyncedPercent: 100 });
    await db.close();
    for (let i = 0; i < 3; i++) {
      const d = await DB.open(DIR, { fs, compactionExecutor: 'inline', flushOnClose: false });
      fs = fs.crashClone({ keepUnsyncedEntries: true, keepUnsyncedPercent: 100 });
      await d.close();
    }
    const d = await DB.open(DIR, { fs, compactionExecutor: 'inline' });
    // The new WAL, plus the one holding 'x' until its memtable is flushed: the only empty one is the new one.
    const logs = await logsIn(fs, DIR);
    const numbers = logs.map((n) => Number.parseInt(n, 10));
    const empty: number[] = [];
    for (const name of logs) if ((await fs.stat(path.join(DIR, name))).size === 0) empty.push(Number.parseInt(name, 10));
    expect(empty).toEqual([Math.max(...numbers)]);
    expect((await d.get('x'))?.toString()).toBe('y');
    await d.close();
  });
});
