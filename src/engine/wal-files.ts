/**
 * WAL files as the DB creates and retires them: a new WAL (its key under encryption, an exclusive
 * create or the reuse of a kept obsolete one, the directory entry made durable before a synced write
 * can rely on it), and archiving a
 * finished one into walArchiveDir with the retention limits (best effort: a failure is logged, the
 * database goes on). memtable-set.ts decides WHEN a WAL rolls.
 */
import { FileKind } from '../encryption/file-cipher.js';
import type { KeyRing } from '../encryption/keyring.js';
import type { FileSystem, WritableFile } from '../fs/file-system.js';
import { parseFileName, walFileName } from '../manifest/file-names.js';
import { archiveWal, enforceRetention } from '../backup/wal-archive.js';
import { WalWriter } from '../wal/wal-writer.js';
import type { EventLog } from './event-log.js';
import type { WalRecycler } from './wal-recycler.js';
import type { ResolvedOptions } from '../options.js';

/**
 * A new WAL numbered `n`, sealed under the current key when `keys` is given. Throws IOError.
 * With recycling on, it is in the recyclable framing, and a kept obsolete WAL, when there is one,
 * is renamed to `n` and written over from offset 0 (its old records name their old log number, so
 * they read as the end of this log even before the rename is durable or the first write lands).
 */
export async function createWal(fs: FileSystem, dir: string, n: number, keys: KeyRing | undefined, recycler?: WalRecycler, log?: EventLog): Promise<WalWriter> {
  const cipher = await keys?.newFileCipher(FileKind.WAL);
  const recyclable = recycler?.enabled === true;
  const reused = recycler?.take();
  let file: WritableFile | undefined;
  if (reused !== undefined) {
    try {
      await fs.rename(walFileName(dir, reused), walFileName(dir, n));
      file = await fs.openWritable(walFileName(dir, n), { overwrite: true });
      log?.write(`WAL ${n} reuses the file of WAL ${reused}`);
    } catch (e) {
      // Not fatal: a fresh file will do (a leftover under either name is an obsolete WAL).
      recycler!.forget(reused);
      log?.write(`could not reuse WAL ${reused} as ${n}: ${(e as Error).message}`);
      if (await fs.exists(walFileName(dir, n)).catch(() => false)) await fs.remove(walFileName(dir, n)).catch(() => undefined);
    }
  }
  file ??= await fs.openWritable(walFileName(dir, n), { exclusive: true });
  try {
    await fs.syncDir(dir);
  } catch (e) {
    await file.close().catch(() => undefined);
    throw e;
  }
  if (recyclable) recycler!.noteCreated(n);
  return new WalWriter(file, n, cipher, recyclable);
}

/** Copies (links) a finished WAL into walArchiveDir and applies the retention limits (pinned WALs kept). Never throws. */
export async function archiveFinishedWal(fs: FileSystem, dir: string, walNumber: number, o: ResolvedOptions, log: EventLog,
  isPinned?: (walNumber: number) => boolean): Promise<void> {
  const archiveDir = o.walArchiveDir;
  if (!archiveDir) return;
  try {
    await archiveWal(fs, walFileName(dir, walNumber), walNumber, archiveDir, o.clock());
    const gone = await enforceRetention(fs, archiveDir, o.walArchiveTtlMs, o.walArchiveSizeLimit, o.clock(), isPinned);
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
