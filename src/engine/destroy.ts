/**
 * DB.destroy(dir): removes a database's files, as RocksDB's DestroyDB and ClassicLevel.destroy do.
 * Contract:
 * - Only the files a database owns (file-names.ts parseFileName: CURRENT, MANIFEST-*, *.log, *.sst,
 *   LOCK, LOG, LOG.old, OPTIONS-*, *.dbtmp) are removed; anything else, and every subdirectory, is
 *   left alone, and then so is the directory. An emptied directory is removed.
 * - A directory holding neither CURRENT nor a MANIFEST is not a database: ERR_INVALID_ARGUMENT and
 *   nothing is touched (no LOCK is created either). A missing directory: ERR_INVALID_ARGUMENT.
 * - The LOCK is taken first, so a database open anywhere (another process, or this one) is refused
 *   with ERR_LOCKED, as a second open is, and nothing is removed.
 * NB: LOCK goes last, unlinked while still held. A process that opened the old LOCK file just before
 * could then lock an unlinked inode; RocksDB's DestroyDB has the same window, and destroying a
 * database someone is about to open is a race the caller owns.
 */
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { FileSystem } from '../fs/file-system.js';
import { NodeFileSystem } from '../fs/node-fs.js';
import { lockFileName, parseFileName } from '../manifest/file-names.js';

export interface DestroyResult {
  /** Names of the files removed. */
  removed: string[];
  /** True when the directory itself was removed (it held nothing else). */
  removedDir: boolean;
}

export async function destroyDatabase(dir: string, fs: FileSystem = new NodeFileSystem()): Promise<DestroyResult> {
  const location = path.resolve(dir);
  if (!(await fs.exists(location))) throw new InvalidArgumentError(`destroy: ${location} does not exist`);
  const names = await fs.list(location);
  const isDatabase = names.some((n) => { const t = parseFileName(n)?.type; return t === 'current' || t === 'manifest'; });
  if (!isDatabase) throw new InvalidArgumentError(`destroy: ${location} holds no StrataDB database (no CURRENT or MANIFEST file); nothing removed`);
  const lock = await fs.lock(lockFileName(location));
  const removed: string[] = [];
  try {
    // CURRENT first: an interrupted destroy leaves no CURRENT naming a MANIFEST that is gone.
    const ours = names.filter((n) => { const t = parseFileName(n)?.type; return t !== undefined && t !== 'lock'; })
      .sort((a, b) => Number(b === 'CURRENT') - Number(a === 'CURRENT'));
    for (const n of ours) {
      await fs.remove(path.join(location, n));
      removed.push(n);
    }
    await fs.remove(lockFileName(location));
    removed.push('LOCK');
  } finally {
    await lock.release();
  }
  await fs.syncDir(location);
  let removedDir = false;
  if ((await fs.list(location)).length === 0) {
    await fs.removeDir(location);
    removedDir = true;
  }
  return { removed, removedDir };
}
