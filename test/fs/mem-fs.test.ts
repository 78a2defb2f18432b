import { describe, expect, it } from 'vitest';
import { IOError, LockedError, isStrataError } from '../../src/errors.js';
import { isNotFound } from '../../src/fs/file-system.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { withSeed } from '../support/rng.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** A MemFileSystem with /db created and made durable in /. */
async function fresh(): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  await fs.mkdir('/db');
  await fs.syncDir('/');
  return fs;
}

/** Writes data to path, syncs it, and syncs its directory: fully durable. */
async function durableFile(fs: MemFileSystem, p: string, data: string): Promise<void> {
  const w = await fs.openWritable(p);
  w.append(bytes(data));
  await w.sync();
  await w.close();
  await fs.syncDir(p.slice(0, p.lastIndexOf('/')) || '/');
}

describe('MemFileSystem basics', () => {
  it('round-trips bytes, lists sorted names, stats, exists', async () => {
    const fs = await fresh();
    const w = await fs.openWritable('/db/b');
    w.append(bytes('hello '));
    w.append(bytes('world'));
    expect(w.size).toBe(11);
    await w.close();
    await fs.openWritable('/db/a');
    expect(await fs.list('/db')).toEqual(['a', 'b']);
    expect(text(await fs.readFile('/db/b'))).toBe('hello world');
    expect(await fs.stat('/db/b')).toEqual({ size: 11, isDirectory: false });
    expect(await fs.stat('/db')).toEqual({ size: 0, isDirectory: true });
    expect(await fs.exists('/db/b')).toBe(true);
    expect(await fs.exists('/db/c')).toBe(false);
    const r = await fs.openReadable('/db/b');
    expect(text(await r.read(6, 100))).toBe('world');
    expect(r.readSync(11, 5).length).toBe(0);
    const into = new Uint8Array(8);
    expect(r.readSyncInto!(6, into)).toBe(5);
    expect(text(into.subarray(0, 5))).toBe('world');
    expect(r.readSyncInto!(11, into)).toBe(0);
    // A Promise-returning method rejects, it does not throw.
    const p = r.read(-1, 2);
    expect(await rejection(p)).toBeInstanceOf(IOError);
  });

  it('reports missing files as IOError with ENOENT', async () => {
    const fs = await fresh();
    const ops = [() => fs.openReadable('/db/x'), () => fs.readFile('/db/x'), () => fs.remove('/db/x'),
      () => fs.stat('/db/x'), () => fs.list('/nope'), () => fs.rename('/db/x', '/db/y'),
      () => fs.openWritable('/nope/f')];
    for (const op of ops) {
      const e = await rejection(op());
      expect(isStrataError(e, 'ERR_IO')).toBe(true);
      expect(isNotFound(e)).toBe(true);
    }
  });

  it('append/truncate/exclusive open modes', async () => {
    const fs = await fresh();
    await durableFile(fs, '/db/f', 'abc');
    const w = await fs.openWritable('/db/f', { append: true });
    expect(w.size).toBe(3);
    w.append(bytes('def'));
    expect(text(await fs.readFile('/db/f'))).toBe('abcdef');
    const e = await rejection(fs.openWritable('/db/f', { exclusive: true }));
    expect((e as IOError).cause).toMatchObject({ code: 'EEXIST' });
    await fs.openWritable('/db/f');
    expect((await fs.readFile('/db/f')).length).toBe(0);
  });

  it('link shares one file under two names; rename replaces', async () => {
    const fs = await fresh();
    await durableFile(fs, '/db/a', 'A');
    await fs.link('/db/a', '/db/l');
    await fs.remove('/db/a');
    expect(text(await fs.readFile('/db/l'))).toBe('A');
    await durableFile(fs, '/db/t', 'T');
    await fs.rename('/db/t', '/db/l');
    expect(text(await fs.readFile('/db/l'))).toBe('T');
    expect(await fs.list('/db')).toEqual(['l']);
  });

  it('refuses a second lock on the same path until release', async () => {
    const fs = await fresh();
    const l = await fs.lock('/db/LOCK');
    expect(await rejection(fs.lock('/db/LOCK'))).toBeInstanceOf(LockedError);
    await l.release();
    await l.release();
    const l2 = await fs.lock('/db/LOCK');
    await l2.release();
  });
});

describe('MemFileSystem.crashClone', () => {
  it('drops unsynced bytes at keepUnsyncedPercent 0 (the default) and keeps them at 100', async () => {
    const fs = await fresh();
    const w = await fs.openWritable('/db/000001.log');
    w.append(bytes('synced|'));
    await w.sync();
    await fs.syncDir('/db');
    w.append(bytes('unsynced'));
    expect(text(await fs.crashClone().readFile('/db/000001.log'))).toBe('synced|');
    expect(text(await fs.crashClone({ keepUnsyncedPercent: 0 }).readFile('/db/000001.log'))).toBe('synced|');
    expect(text(await fs.crashClone({ keepUnsyncedPercent: 100 }).readFile('/db/000001.log')))
      .toBe('synced|unsynced');
    // The original is untouched, and the clone is independent of it.
    const c = fs.crashClone();
    const cw = await c.openWritable('/db/000001.log', { append: true });
    cw.append(bytes('X'));
    expect(text(await fs.readFile('/db/000001.log'))).toBe('synced|unsynced');
  });

  it('keepUnsyncedEntries keeps unsynced creates, renames and removes (a process crash)', async () => {
    const fs = await fresh();
    const a = await fs.openWritable('/db/a');
    a.append(bytes('a'));
    await fs.syncDir('/db');
    const b = await fs.openWritable('/db/b');
    b.append(bytes('b'));
    await fs.rename('/db/b', '/db/c');
    await fs.remove('/db/a');
    expect(await fs.crashClone({ keepUnsyncedPercent: 100 }).list('/db')).toEqual(['a']);
    const process = fs.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true });
    expect(await process.list('/db')).toEqual(['c']);
    expect(text(await process.readFile('/db/c'))).toBe('b');
  });

  it('keeps a random prefix of the unsynced tail with an rng, never more and never less than synced', async () => {
    await withSeed('crashClone partial', async (rng) => {
      const fs = await fresh();
      const data = rng.bytes(1000);
      const w = await fs.openWritable('/db/f');
      w.append(data.subarray(0, 300));
      await w.sync();
      await fs.syncDir('/db');
      w.append(data.subarray(300));
      const lengths = new Set<number>();
      for (let i = 0; i < 30; i++) {
        const got = await fs.crashClone({ keepUnsyncedPercent: 100, rng: () => rng.next() }).readFile('/db/f');
        expect(got.length).toBeGreaterThanOrEqual(300);
        expect(got.length).toBeLessThanOrEqual(1000);
        expect(Buffer.from(got).equals(Buffer.from(data.subarray(0, got.length)))).toBe(true);
        lengths.add(got.length);
      }
      expect(lengths.size).toBeGreaterThan(5);
      // At 50% with an rng, at most half the tail survives.
      for (let i = 0; i < 10; i++) {
        const got = await fs.crashClone({ keepUnsyncedPercent: 50, rng: () => rng.next() }).readFile('/db/f');
        expect(got.length).toBeLessThanOrEqual(300 + 350);
      }
    });
  });

  it('loses a created file whose directory was not synced, even if its data was', async () => {
    const fs = await fresh();
    await durableFile(fs, '/db/CURRENT', 'MANIFEST-000001\n');
    const w = await fs.openWritable('/db/000002.log');
    w.append(bytes('data'));
    await w.sync();
    const c = fs.crashClone({ keepUnsyncedPercent: 100 });
    expect(await c.exists('/db/000002.log')).toBe(false);
    expect(await c.list('/db')).toEqual(['CURRENT']);
    await fs.syncDir('/db');
    expect(text(await fs.crashClone().readFile('/db/000002.log'))).toBe('data');
  });

  it('forgets a rename not followed by syncDir: the old durable name survives', async () => {
    const fs = await fresh();
    await durableFile(fs, '/db/CURRENT', 'MANIFEST-000001\n');
    await durableFile(fs, '/db/CURRENT.dbtmp', 'MANIFEST-000002\n');
    await fs.rename('/db/CURRENT.dbtmp', '/db/CURRENT');
    const before = fs.crashClone();
    expect(text(await before.readFile('/db/CURRENT'))).toBe('MANIFEST-000001\n');
    expect(text(await before.readFile('/db/CURRENT.dbtmp'))).toBe('MANIFEST-000002\n');
    await fs.syncDir('/db');
    const after = fs.crashClone();
    expect(text(await after.readFile('/db/CURRENT'))).toBe('MANIFEST-000002\n');
    expect(await after.list('/db')).toEqual(['CURRENT']);
  });

  it('a rename to a new name without syncDir loses the new name; with it, synced data survives', async () => {
    const fs = await fresh();
    const w = await fs.openWritable('/db/tmp');
    w.append(bytes('payload'));
    await w.sync();
    await fs.rename('/db/tmp', '/db/000007.sst');
    // Neither name was ever durable.
    expect(await fs.crashClone({ keepUnsyncedPercent: 100 }).list('/db')).toEqual([]);
    await fs.syncDir('/db');
    w.append(bytes('-tail'));
    const c = fs.crashClone();
    expect(await c.list('/db')).toEqual(['000007.sst']);
    expect(text(await c.readFile('/db/000007.sst'))).toBe('payload');
  });

  it('keeps a removed file that was durable until its directory is synced', async () => {
    const fs = await fresh();
    await durableFile(fs, '/db/000003.log', 'old wal');
    await fs.remove('/db/000003.log');
    expect(text(await fs.crashClone().readFile('/db/000003.log'))).toBe('old wal');
    await fs.syncDir('/db');
    expect(await fs.crashClone().exists('/db/000003.log')).toBe(false);
  });

  it('loses synced bytes of a truncating reopen: truncation is in place', async () => {
    const fs = await fresh();
    await durableFile(fs, '/db/OPTIONS', 'v1');
    const w = await fs.openWritable('/db/OPTIONS');
    w.append(bytes('v2'));
    expect((await fs.crashClone().readFile('/db/OPTIONS')).length).toBe(0);
    await w.sync();
    expect(text(await fs.crashClone().readFile('/db/OPTIONS'))).toBe('v2');
  });

  it('an overwrite keeps the old bytes past what was written; a power cut keeps the synced new prefix, then old bytes', async () => {
    const fs = await fresh();
    await durableFile(fs, '/db/000005.log', 'abcdefghij');
    const w = await fs.openWritable('/db/000005.log', { overwrite: true });
    expect(w.size).toBe(0);
    w.append(bytes('XYZ'));
    expect(w.size).toBe(3);
    expect(text(await fs.readFile('/db/000005.log'))).toBe('XYZdefghij');
    expect((await fs.stat('/db/000005.log')).size).toBe(10);
    // Unsynced: the old bytes survive a power cut; with 100 % kept, the new ones.
    expect(text(await fs.crashClone().readFile('/db/000005.log'))).toBe('abcdefghij');
    expect(text(await fs.crashClone({ keepUnsyncedPercent: 100 }).readFile('/db/000005.log'))).toBe('XYZdefghij');
    await w.sync();
    w.append(bytes('12'));
    expect(text(await fs.crashClone().readFile('/db/000005.log'))).toBe('XYZdefghij');
    w.append(bytes('3456789AB')); // past the old end: the file grows
    expect(text(await fs.readFile('/db/000005.log'))).toBe('XYZ123456789AB');
    expect(text(await fs.crashClone().readFile('/db/000005.log'))).toBe('XYZdefghij');
    await w.sync();
    expect(text(await fs.crashClone().readFile('/db/000005.log'))).toBe('XYZ123456789AB');
  });

  it('truncate(path, n) cuts or zero-extends in place, durably, and is seen through every link', async () => {
    const fs = await fresh();
    await durableFile(fs, '/db/000007.log', 'abcdefgh');
    await fs.link('/db/000007.log', '/db/archived.log');
    const w = await fs.openWritable('/db/other', {});
    w.append(bytes('unsynced tail'));
    await fs.truncate('/db/000007.log', 3);
    expect(text(await fs.readFile('/db/000007.log'))).toBe('abc');
    expect(text(await fs.readFile('/db/archived.log'))).toBe('abc');
    expect(text(await fs.crashClone().readFile('/db/000007.log'))).toBe('abc');
    await fs.truncate('/db/000007.log', 5);
    expect([...await fs.readFile('/db/000007.log')]).toEqual([...bytes('abc'), 0, 0]);
    await fs.truncate('/db/000007.log', 600);
    expect((await fs.stat('/db/000007.log')).size).toBe(600);
    expect((await fs.crashClone().readFile('/db/000007.log')).length).toBe(600);
    await w.close();
    expect(isNotFound(await rejection(fs.truncate('/db/missing', 0)))).toBe(true);
  });

  it('keeps hard links as one file in the clone, and drops locks', async () => {
    const fs = await fresh();
    await durableFile(fs, '/db/a', 'shared');
    await fs.link('/db/a', '/db/b');
    await fs.syncDir('/db');
    await fs.lock('/db/LOCK');
    const c = fs.crashClone();
    const w = await c.openWritable('/db/a', { append: true });
    w.append(bytes('+'));
    expect(text(await c.readFile('/db/b'))).toBe('shared+');
    const l = await c.lock('/db/LOCK');
    await l.release();
  });
});
