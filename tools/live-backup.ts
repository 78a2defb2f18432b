/**
 * `stratadb backup create` beside a live writer. The writer's LOCK stays with the writer: the backup
 * comes from a read-only open, which replays the WAL into memory and so sees everything committed up
 * to its sequence S. That view is first frozen as a checkpoint (db.checkpoint: its tables hard-linked,
 * its memtables up to S written as one more table) in DIR/.backup-view-<pid>, then backed up from
 * there and removed. Links take milliseconds whatever the database's size, while a copy can take
 * minutes, and a writer in another process cannot see our view's references: any table it compacts
 * away during a long copy would be gone. A link keeps the file; the checkpoint's tables keep their
 * numbers, so backups stay incremental.
 * The read-only open itself is one point in time with its tables held open (src/reader-view.ts: it
 * retries while the writer moves on, and says ERR_BUSY when it cannot). One race remains: a table
 * the view lists is deleted before its link is made (ENOENT, or ERR_BUSY), answered by starting over
 * from a fresh view. The same file missing from two fresh views is damage, not a writer moving on,
 * and is reported.
 * Main thread. Not here: argument parsing and output (tools/commands/backup.ts).
 */
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { BusyError, DB, isStrataError, type BackupInfo, type BackupProgress, type Options } from '../src/index.js';
import { checkDatabaseDir } from './db-dir.js';

/**
 * Fresh views to try. An attempt fails only when the writer deleted a listed table before its link
 * (a window of milliseconds); ten in a row means it compacts faster than a view can be linked, and
 * the error (ERR_BUSY: try again) says so.
 */
const ATTEMPTS = 10;

/**
 * True when a file the read-only view listed is gone: the OS's ENOENT, or ERR_BUSY from the view.
 * Beside a live writer that is the writer moving on.
 */
function vanished(e: unknown): boolean {
  if (isStrataError(e) && e.code === 'ERR_BUSY') return true;
  for (let cur = e, i = 0; cur && i < 5; i++, cur = (cur as { cause?: unknown }).cause) {
    if ((cur as { code?: unknown }).code === 'ENOENT') return true;
  }
  return false;
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
      // A read-only open is one consistent view, its tables held open (src/reader-view.ts).
      const db = await DB.open(dir, { ...options, readOnly: true });
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
  throw new BusyError(`${dir} changed underneath the backup ${ATTEMPTS} times in a row (a live writer ` +
    `flushing or compacting faster than a view could be taken; last: ${lastReason}); try again`);
}
