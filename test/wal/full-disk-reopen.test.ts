/**
 * A WAL torn by a full disk reopens without free space the size of the WAL: recovery cuts the torn
 * tail in place (FileSystem.truncate), it does not copy the valid prefix to a temp file. On a real
 * tmpfs (skipped, with the reason printed, where mounting is not allowed): fill it with puts until the
 * WAL append fails with ENOSPC, free far less than the WAL's size, reopen, and find every
 * acknowledged put. The same with injected ENOSPC on MemFileSystem: WAL appends fail torn
 * (partialAppend), and the reopen runs on a disk where no file written can grow past 8 KiB.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB, FaultFileSystem, MemFileSystem } from '../../src/index.js';
import { failNth } from '../../src/fs/fault-fs.js';
import { IOError } from '../../src/errors.js';
import type { FileSystem, WritableFile } from '../../src/fs/file-system.js';
import { PassThroughFileSystem, writableWith } from '../support/pass-through-fs.js';
import { withSeed } from '../support/rng.js';
import { fillDisk, smallTmpfs, tmpfsSupport } from '../support/tmpfs.js';

/** A nearly full disk: an append that would take a file written now past `limit` bytes is ENOSPC. */
class SmallFilesOnly extends PassThroughFileSystem {
  constructor(inner: FileSystem, private readonly limit: number) { super(inner); }
  protected override wrapWritable(p: string, f: WritableFile): WritableFile {
    const limit = this.limit;
    return writableWith(f, {
      append(d: Uint8Array) {
        if (f.size + d.length > limit) {
          throw new IOError(`append failed for ${p}: ENOSPC`, { cause: Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }), path: p });
        }
        f.append(d);
      },
    });
  }
}

const key = (i: number): string => `key-${String(i).padStart(6, '0')}`;

describe('reopen after a WAL-filling ENOSPC', () => {
  it.skipIf(!tmpfsSupport.ok)('on a real full tmpfs, with far less free space than the WAL', async () => {
    await withSeed('full-disk-wal', async (rng) => {
      const root = smallTmpfs(6 * 1024 * 1024);
      const dir = join(root, 'db');
      // Everything stays in the WAL (no flush): the WAL is what fills the disk.
      const options = { writeBufferSize: 64 * 1024 * 1024 };
      let db = await DB.open(dir, options);
      // Leave ~2 MiB for the WAL, plus a small spare file to give back afterwards.
      const filler = fillDisk(root);
      fs.truncateSync(filler, fs.statSync(filler).size - 2 * 1024 * 1024 - 128 * 1024);
      fs.writeFileSync(join(root, 'spare'), Buffer.alloc(128 * 1024, 1));
      const values = new Map<string, string>();
      let failure: unknown;
      for (let i = 0; failure === undefined; i++) {
        const v = `${i}:`.padEnd(3000 + rng.int(3000), 'v');
        try {
          await db.put(key(i), v);
          values.set(key(i), v);
        } catch (e) {
          failure = e;
        }
      }
      expect((failure as { code?: string }).code).toBe('ERR_IO');
      expect(String((failure as Error).message)).toMatch(/ENOSPC/);
      await db.close().catch(() => undefined);
      const wal = fs.readdirSync(dir).filter((n) => n.endsWith('.log')).map((n) => fs.statSync(join(dir, n)).size);
      const walBytes = Math.max(...wal);
      expect(walBytes).toBeGreaterThan(1024 * 1024);
      // Free 128 KiB: a tenth of the WAL, enough for a new MANIFEST, WAL header and OPTIONS file.
      fs.rmSync(join(root, 'spare'));
      db = await DB.open(dir, options);
      for (const [k, v] of values) expect((await db.get(k))?.toString(), k).toBe(v);
      await db.close();
      console.log(`full tmpfs: ${values.size} puts acknowledged, WAL ${walBytes} bytes, reopened with 128 KiB free`);
    });
  });

  it('with injected ENOSPC: a torn WAL reopens when no temp file of the WAL\'s size can be written', async () => {
    await withSeed('enospc-wal', async (rng) => {
      const mem = new MemFileSystem();
      const ffs = new FaultFileSystem(mem, { partialAppend: true });
      const db = await DB.open('/db', { fs: ffs, writeBufferSize: 64 * 1024 * 1024 });
      const values = new Map<string, string>();
      const n = 50 + rng.int(100);
      for (let i = 0; i < n; i++) {
        const v = `${i}:`.padEnd(100 + rng.int(2000), 'v');
        await db.put(key(i), v);
        values.set(key(i), v);
      }
      // The disk fills: every append to a WAL fails from now on, tearing the first.
      ffs.setInjector(failNth(0, { kinds: ['append'], path: /\.log$/, sticky: true, code: 'ENOSPC' }));
      await expect(db.put(key(n), 'x'.repeat(4000))).rejects.toMatchObject({ code: 'ERR_IO' });
      ffs.setInjector(() => undefined);
      await db.close().catch(() => undefined);
      // Reopen on a disk with room for small files only: no file may grow past 8 KiB, so a copy of
      // the WAL's valid prefix could not be written.
      const walSize = Math.max(...(await Promise.all((await mem.list('/db')).filter((f) => f.endsWith('.log')).map(async (f) => (await mem.stat(`/db/${f}`)).size))));
      expect(walSize).toBeGreaterThan(8192);
      const full = new SmallFilesOnly(mem, 8192);
      const again = await DB.open('/db', { fs: full, writeBufferSize: 64 * 1024 * 1024 });
      for (const [k, v] of values) expect((await again.get(k))?.toString(), k).toBe(v);
      expect(await again.get(key(n))).toBeUndefined();
      await again.close();
    });
  });
});
