import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IOError, NotSupportedError, isStrataError } from '../../src/errors.js';
import { isNotFound } from '../../src/fs/file-system.js';
import { NodeFileSystem } from '../../src/fs/node-fs.js';
import { withSeed } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';

const nfs = new NodeFileSystem();
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The rejection of p (fails the test if p resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

function causeCode(e: unknown): unknown {
  return ((e as { cause?: { code?: unknown } }).cause)?.code;
}

describe('NodeFileSystem files', () => {
  it('round-trips appended bytes through read, readSync and readFile', async () => {
    await withSeed('node-fs round trip', async (rng) => {
      const dir = await tempDir();
      const p = join(dir, '000001.log');
      const w = await nfs.openWritable(p);
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < 50; i++) {
        const c = rng.bytes(rng.int(3000));
        chunks.push(c);
        w.append(c);
      }
      await w.sync();
      await w.close();
      await w.close(); // idempotent
      const all = Buffer.concat(chunks);
      expect(w.size).toBe(all.length);
      expect(Buffer.from(await nfs.readFile(p)).equals(all)).toBe(true);

      const r = await nfs.openReadable(p);
      expect(r.size).toBe(all.length);
      for (let i = 0; i < 40; i++) {
        const off = rng.int(all.length);
        const len = rng.int(5000);
        const want = all.subarray(off, Math.min(all.length, off + len));
        expect(Buffer.from(await r.read(off, len)).equals(want)).toBe(true);
        expect(Buffer.from(r.readSync(off, len)).equals(want)).toBe(true);
      }
      await r.close();
    });
  });

  it('returns short reads at end of file and empty reads past it, never over-allocating', async () => {
    const dir = await tempDir();
    const p = join(dir, 'f');
    fs.writeFileSync(p, 'hello');
    const r = await nfs.openReadable(p);
    expect(text(await r.read(3, 100))).toBe('lo');
    expect(text(r.readSync(3, 100))).toBe('lo');
    expect((await r.read(5, 10)).length).toBe(0);
    expect(r.readSync(99, 10).length).toBe(0);
    // A corrupt length field must not allocate gigabytes: the result is bounded by the file.
    const huge = await r.read(0, 2 ** 40);
    expect(text(huge)).toBe('hello');
    expect(huge.buffer.byteLength).toBe(5);
    const e = await rejection(r.read(-1, 3));
    expect(isStrataError(e, 'ERR_IO')).toBe(true);
    expect(() => r.readSync(0, -3)).toThrow(IOError);
    await r.close();
    expect(causeCode(await rejection(r.read(0, 1)))).toBe('EBADF');
  });

  it('overwrite: writes from offset 0 over the old bytes, keeping the rest and the size', async () => {
    const dir = await tempDir();
    const p = join(dir, 'f');
    fs.writeFileSync(p, 'abcdefghij');
    const w = await nfs.openWritable(p, { overwrite: true });
    expect(w.size).toBe(0);
    w.append(bytes('XYZ'));
    await w.sync();
    expect(w.size).toBe(3);
    expect(fs.readFileSync(p, 'utf8')).toBe('XYZdefghij');
    w.append(bytes('0123456789'));
    await w.close();
    expect(fs.readFileSync(p, 'utf8')).toBe('XYZ0123456789');
  });

  it('readSyncInto fills the caller buffer from its start, short at end of file', async () => {
    const dir = await tempDir();
    const p = join(dir, 'f');
    fs.writeFileSync(p, 'hello world');
    const r = await nfs.openReadable(p);
    const into = new Uint8Array(8).fill(0x2a);
    expect(r.readSyncInto!(6, into)).toBe(5);
    expect(text(into.subarray(0, 5))).toBe('world');
    expect(into[5]).toBe(0x2a);
    expect(r.readSyncInto!(2, into.subarray(0, 3))).toBe(3);
    expect(text(into.subarray(0, 3))).toBe('llo');
    expect(r.readSyncInto!(99, into)).toBe(0);
    await r.close();
    expect(() => r.readSyncInto!(0, into)).toThrow(IOError);
  });

  it('sees bytes appended after the reader opened (a WAL being tailed)', async () => {
    const dir = await tempDir();
    const p = join(dir, 'wal');
    const w = await nfs.openWritable(p);
    w.append(bytes('abc'));
    const r = await nfs.openReadable(p);
    expect(r.size).toBe(3);
    w.append(bytes('def'));
    expect(text(await r.read(0, 6))).toBe('abcdef');
    await r.close();
    await w.close();
  });

  it('truncates by default, keeps contents with append, refuses existing files with exclusive', async () => {
    const dir = await tempDir();
    const p = join(dir, 'f');
    let w = await nfs.openWritable(p);
    w.append(bytes('first'));
    await w.close();

    w = await nfs.openWritable(p, { append: true });
    expect(w.size).toBe(5);
    w.append(bytes('+more'));
    expect(w.size).toBe(10);
    await w.close();
    expect(text(await nfs.readFile(p))).toBe('first+more');

    w = await nfs.openWritable(p);
    expect(w.size).toBe(0);
    w.append(bytes('new'));
    await w.close();
    expect(text(await nfs.readFile(p))).toBe('new');

    const e = await rejection(nfs.openWritable(p, { exclusive: true }));
    expect(e).toBeInstanceOf(IOError);
    expect(causeCode(e)).toBe('EEXIST');
    expect(e.message).toContain(p);
    const w2 = await nfs.openWritable(join(dir, 'g'), { exclusive: true, append: true });
    w2.append(bytes('x'));
    await w2.close();
    expect(text(await nfs.readFile(join(dir, 'g')))).toBe('x');
  });

  it('refuses append, sync and read on closed files with EBADF', async () => {
    const dir = await tempDir();
    const w = await nfs.openWritable(join(dir, 'f'));
    await w.close();
    let thrown: unknown;
    try {
      w.append(bytes('x'));
    } catch (e) {
      thrown = e;
    }
    expect(causeCode(thrown)).toBe('EBADF');
    expect(causeCode(await rejection(w.sync()))).toBe('EBADF');
  });

  it.runIf(fs.existsSync('/dev/full'))('reports a full disk as IOError with cause ENOSPC', async () => {
    // /dev/full answers every write(2) with ENOSPC: the real OS error path, not a simulated one.
    const w = await nfs.openWritable('/dev/full');
    let thrown: unknown;
    try {
      w.append(bytes('abc'));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(IOError);
    expect(causeCode(thrown)).toBe('ENOSPC');
    expect((thrown as Error).message).toContain('/dev/full');
    expect(w.size).toBe(0);
    await w.close();
  });

  it('closes a writable only after an in-flight sync finishes', async () => {
    const dir = await tempDir();
    const w = await nfs.openWritable(join(dir, 'f'));
    w.append(new Uint8Array(1 << 16));
    const s = w.sync();
    const c = w.close();
    await expect(s).resolves.toBeUndefined();
    await expect(c).resolves.toBeUndefined();
  });
});

describe('NodeFileSystem directory operations', () => {
  it('lists sorted names, stats, checks existence', async () => {
    const dir = await tempDir();
    for (const n of ['b', 'CURRENT', 'a', '000010.sst']) fs.writeFileSync(join(dir, n), n);
    await nfs.mkdir(join(dir, 'sub'));
    expect(await nfs.list(dir)).toEqual(['000010.sst', 'CURRENT', 'a', 'b', 'sub']);
    expect(await nfs.stat(join(dir, 'CURRENT'))).toEqual({ size: 7, isDirectory: false });
    expect(await nfs.stat(join(dir, 'sub'))).toEqual({ size: expect.any(Number), isDirectory: true });
    expect(await nfs.exists(join(dir, 'a'))).toBe(true);
    expect(await nfs.exists(join(dir, 'zz'))).toBe(false);
    expect(await nfs.exists(join(dir, 'a', 'below-a-file'))).toBe(false);
  });

  it('turns OS errors into IOError with the OS error as cause and the path in the message', async () => {
    const dir = await tempDir();
    const missing = join(dir, 'missing');
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['openReadable', () => nfs.openReadable(missing)],
      ['readFile', () => nfs.readFile(missing)],
      ['remove', () => nfs.remove(missing)],
      ['stat', () => nfs.stat(missing)],
      ['list', () => nfs.list(missing)],
      ['rename', () => nfs.rename(missing, join(dir, 'x'))],
      ['removeDir', () => nfs.removeDir(missing)],
      ['syncDir', () => nfs.syncDir(missing)],
      ['link', () => nfs.link(missing, join(dir, 'y'))],
      ['openWritable', () => nfs.openWritable(join(missing, 'f'))],
    ];
    for (const [name, p] of cases) {
      const e = await rejection(p());
      expect(e, name).toBeInstanceOf(IOError);
      expect(isStrataError(e, 'ERR_IO'), name).toBe(true);
      expect(causeCode(e), name).toBe('ENOENT');
      expect(isNotFound(e), name).toBe(true);
      expect(e.message, name).toContain(missing);
    }
    await nfs.mkdir(join(dir, 'd'));
    expect(causeCode(await rejection(nfs.mkdir(join(dir, 'd'))))).toBe('EEXIST');
    fs.writeFileSync(join(dir, 'd', 'f'), 'x');
    expect(causeCode(await rejection(nfs.removeDir(join(dir, 'd'))))).toBe('ENOTEMPTY');
    expect(causeCode(await rejection(nfs.mkdir(join(dir, 'p', 'q'))))).toBe('ENOENT');
  });

  it('mkdir recursive, remove, removeDir and syncDir', async () => {
    const dir = await tempDir();
    const deep = join(dir, 'a', 'b', 'c');
    await nfs.mkdir(deep, { recursive: true });
    await nfs.mkdir(deep, { recursive: true });
    fs.writeFileSync(join(deep, 'f'), 'x');
    await nfs.syncDir(deep);
    await nfs.remove(join(deep, 'f'));
    await nfs.removeDir(deep);
    expect(await nfs.exists(deep)).toBe(false);
    await nfs.syncDir(dir);
  });

  it('truncate cuts a file in place (every link sees it) and reports a missing file as ENOENT', async () => {
    const dir = await tempDir();
    const p = join(dir, '000007.log');
    fs.writeFileSync(p, 'abcdefgh');
    fs.linkSync(p, join(dir, 'archived.log'));
    await nfs.truncate(p, 3);
    expect(fs.readFileSync(p, 'utf8')).toBe('abc');
    expect(fs.readFileSync(join(dir, 'archived.log'), 'utf8')).toBe('abc');
    expect(fs.readdirSync(dir).sort()).toEqual(['000007.log', 'archived.log']);
    const e = await nfs.truncate(join(dir, 'missing'), 0).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(IOError);
    expect(isNotFound(e)).toBe(true);
  });

  it('rename atomically replaces the target', async () => {
    const dir = await tempDir();
    fs.writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000001\n');
    fs.writeFileSync(join(dir, 'CURRENT.tmp'), 'MANIFEST-000002\n');
    const r = await nfs.openReadable(join(dir, 'CURRENT')); // an open reader keeps the old inode
    await nfs.rename(join(dir, 'CURRENT.tmp'), join(dir, 'CURRENT'));
    expect(text(await nfs.readFile(join(dir, 'CURRENT')))).toBe('MANIFEST-000002\n');
    expect(text(await r.read(0, 100))).toBe('MANIFEST-000001\n');
    expect(await nfs.list(dir)).toEqual(['CURRENT']);
    await r.close();
  });

  it('hard-links files (both names share the bytes) and refuses existing targets', async () => {
    const dir = await tempDir();
    const a = join(dir, '000005.sst');
    const b = join(dir, 'backup-000005.sst');
    fs.writeFileSync(a, 'table bytes');
    await nfs.link(a, b);
    await nfs.remove(a);
    expect(text(await nfs.readFile(b))).toBe('table bytes');
    expect(fs.statSync(b).nlink).toBe(1);
    fs.writeFileSync(a, 'other');
    const e = await rejection(nfs.link(a, b));
    expect(e).toBeInstanceOf(IOError);
    expect(causeCode(e)).toBe('EEXIST');
  });

  it('reports a link the file system cannot make as NotSupportedError', async () => {
    const dir = await tempDir();
    fs.mkdirSync(join(dir, 'd'));
    // link(2) on a directory fails with EPERM on Linux: the "cannot hard-link here" family.
    const e = await rejection(nfs.link(join(dir, 'd'), join(dir, 'd2')));
    expect(e).toBeInstanceOf(NotSupportedError);
    expect(causeCode(e)).toBe('EPERM');
  });
});
