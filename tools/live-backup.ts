/**
 * `stratadb backup create` beside a live writer. The writer's LOCK stays with the writer: the backup
 * comes from a read-only open, which replays the WAL into memory and so sees everything committed up
 * to its sequence S. That view is first frozen as a checkpoint (db.checkpoint: its tables hard-linked,
 * its memtables up to S written as one more table) in DIR/.backup-view-<pid>, then backed up from
 * there and removed. Links take milliseconds whatever the database's size, while a copy can take
 * minutes, and a writer in another process cannot see our view's references: any table it compacts
 * away during a long copy would be gone. A link keeps the file; the checkpoint's tables keep their
 * numbers, so backups stay incremental.
 * Two races with the writer remain, both answered by starting over from a fresh view:
 * - the open reads the MANIFEST, then lists the directory. A flush or compaction in between can
 *   delete a WAL or a table the MANIFEST just read still needs, which would leave a view that is not
 *   one point in time (a WAL's writes missing, later ones present). So the MANIFEST files are
 *   fingerprinted (CURRENT's bytes, every MANIFEST-* name and size) before and after the open: a
 *   view is used only when no edit was logged while it opened;
 * - a table the view lists is deleted before its link is made: ENOENT, or the engine's "missing".
 * The same file missing from two fresh views is damage, not a writer moving on, and is reported.
 * Main thread. Not here: argument parsing and output (tools/commands/backup.ts).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { DB, InvalidArgumentError, isStrataError, type BackupInfo, type BackupProgress, type Options } from '../src/index.js';
import { checkDatabaseDir } from './db-dir.js';

/**
 * Fresh views to try. An attempt fails only when the writer logged an edit inside the open or
 * deleted a listed table before its link (each a window of milliseconds); ten in a row means it flushes or
 * compacts faster than a view can be taken, and the error says so.
 */
const ATTEMPTS = 10;

/** What changes whenever the writer logs a version edit or starts a new MANIFEST. */
async function manifestFingerprint(dir: string): Promise<string> {
  const parts: string[] = [];
  try {
    parts.push((await readFile(path.join(dir, 'CURRENT'))).toString('hex'));
  } catch {
    parts.push('-');
  }
  for (const name of (await readdir(dir)).filter((n) => n.startsWith('MANIFEST-')).sort()) {
    try {
      parts.push(`${name}:${(await stat(path.join(dir, name))).size}`);
    } catch {
      parts.push(`${name}:gone`);
    }
  }
  return parts.join(' ');
}

/**
 * True when a file the read-only view listed is gone: the OS's ENOENT, or the engine's "missing"
 * refusal of a table the MANIFEST lists. Beside a live writer that is the writer moving on.
 */
function vanished(e: unknown): boolean {
  if (isStrataError(e) && e.code === 'ERR_CORRUPTION' && /\bmissing\b/.test(e.message)) return true;
  for (let cur = e, i = 0; cur && i < 5; i++, cur = (cur as { cause?: unknown }).cause) {
    if ((cur as { code?: unknown }).code === 'ENOENT') return true;
  }
  return false;
}

/** A read-only view of `dir` opened while no edit was logged, or undefined when one was. */
async function openStableView(dir: string, options: Options): Promise<DB | undefined> {
  const before = await manifestFingerprint(dir);
  const db = await DB.open(dir, { ...options, readOnly: true });
  if ((await manifestFingerprint(dir)) === before) return db;
  await db.close();
  return undefined;
}

/** An incremental backup of `dir` into `backupDir` at one point in time, beside a live writer or not. */
export async function backupLiveDatabase(dir: string, backupDir: string, options: Options,
  onProgress: ((p: BackupProgress) => void) | undefined): Promise<BackupInfo & { bytesCopied: number }> {
  let previous: string | undefined;
  let lastReason = '';
  // Inside DIR: the same file system, so the checkpoint links; the engine ignores names it did not make.
  const viewDir = path.join(dir, `.backup-view-${process.pid}`);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    await checkDatabaseDir(dir);
    await rm(viewDir, { recursive: true, force: true });
    try {
      const db = await openStableView(dir, options);
      if (!db) {
        lastReason = 'the MANIFEST changed while the read-only view was opened';
        continue;
      }
      try {
        await db.checkpoint(viewDir);
      } finally {
        await db.close();
      }
      const view = await DB.open(viewDir, { ...options, readOnly: true });
      try {
        return await view.backup(backupDir, onProgress ? { onProgress } : {});
      } finally {
        await view.close();
        await rm(viewDir, { recursive: true, force: true });
      }
    } catch (e) {
      await rm(viewDir, { recursive: true, force: true });
      if (!vanished(e) || (e as Error).message === previous) throw e;
      previous = (e as Error).message;
      lastReason = `a file went away: ${previous}`;
    }
  }
  throw new InvalidArgumentError(`${dir} changed underneath the backup ${ATTEMPTS} times in a row (a live writer ` +
    `flushing or compacting faster than a view could be taken; last: ${lastReason}); try again`);
}
