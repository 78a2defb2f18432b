/**
 * WAL files as the DB creates and retires them: a new WAL (its key under encryption, an exclusive
 * create, the directory entry made durable before a synced write can rely on it), and archiving a
 * finished one into walArchiveDir with the retention limits (best effort: a failure is logged, the
 * database goes on). memtable-set.ts decides WHEN a WAL rolls.
 */
import { FileKind } from '../encryption/file-cipher.js';
import type { KeyRing } from '../encryption/keyring.js';
import type { FileSystem } from '../fs/file-system.js';
import { parseFileName, walFileName } from '../manifest/file-names.js';
import { archiveWal, enforceRetention } from '../backup/wal-archive.js';
import { WalWriter } from '../wal/wal-writer.js';
import type { EventLog } from './event-log.js';
import type { ResolvedOptions } from '../options.js';

/** A new, empty WAL numbered `n`, sealed under the current key when `keys` is given. Throws IOError. */
export async function createWal(fs: FileSystem, dir: string, n: number, keys: KeyRing | undefined): Promise<WalWriter> {
  const cipher = await keys?.newFileCipher(FileKind.WAL);
  const file = await fs.openWritable(walFileName(dir, n), { exclusive: true });
  try {
    await fs.syncDir(dir);
  } catch (e) {
    await file.close().catch(() => undefined);
    throw e;
  }
  return new WalWriter(file, n, cipher);
}

/** Copies (links) a finished WAL into walArchiveDir and applies the retention limits. Never throws. */
export async function archiveFinishedWal(fs: FileSystem, dir: string, walNumber: number, o: ResolvedOptions, log: EventLog): Promise<void> {
  const archiveDir = o.walArchiveDir;
  if (!archiveDir) return;
  try {
    await archiveWal(fs, walFileName(dir, walNumber), walNumber, archiveDir, o.clock());
    const gone = await enforceRetention(fs, archiveDir, o.walArchiveTtlMs, o.walArchiveSizeLimit, o.clock());
    if (gone.length) log.write(`WAL archive: removed ${gone.join(', ')} (retention)`);
  } catch (e) {
    log.write(`ERROR archiving WAL ${walNumber}: ${(e as Error).message}`);
  }
}

/** At open: WALs a crash left behind were never archived; archive them before they are replayed away. */
export async function archiveLeftoverWals(fs: FileSystem, dir: string, o: ResolvedOptions, log: EventLog): Promise<void> {
  if (!o.walArchiveDir) return;
  for (const name of await fs.list(dir)) {
    const p = parseFileName(name);
    if (p?.type === 'wal') await archiveFinishedWal(fs, dir, p.number, o, log);
  }
}

/** Removes WAL `n`, known to be empty (created, never written), and makes the removal durable. */
export async function removeEmptyWal(fs: FileSystem, dir: string, n: number): Promise<void> {
  await fs.remove(walFileName(dir, n));
  await fs.syncDir(dir);
}

/**
 * At open, once the new WAL exists: WALs numbered below it that are empty hold no record (a crash
 * between creating a WAL and its first write leaves one); remove them so they do not pile up.
 * Best effort: a failure is logged.
 */
export async function removeEmptyWalsBelow(fs: FileSystem, dir: string, below: number, log: EventLog): Promise<void> {
  for (const name of await fs.list(dir)) {
    const p = parseFileName(name);
    if (p?.type !== 'wal' || p.number >= below) continue;
    try {
      if ((await fs.stat(walFileName(dir, p.number))).size === 0) await removeEmptyWal(fs, dir, p.number);
    } catch (e) {
      log.write(`could not remove empty WAL ${p.number}: ${(e as Error).message}`);
    }
  }
}
