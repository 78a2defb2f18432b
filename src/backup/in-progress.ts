/**
 * The in-progress marker of a directory being filled from scratch by a restore or a checkpoint, and
 * the one rule that goes with it (src/backup/FORMAT.md "In-progress markers"): the marker is the
 * first file created in the empty target, made durable (file and directory entry) before anything
 * else is written there, and removed last, after every other file of the target is synced; DB.open
 * refuses a directory that holds a marker. So a restore or checkpoint cut short by a crash or a full
 * disk leaves a directory that says so, never one that opens as an empty or partial database.
 * Only the marker's existence counts: its one line (what was being made) is for people.
 * Not here: filling the target (backup-engine.ts restore, checkpoint.ts).
 */
import * as path from 'node:path';
import type { FileSystem } from '../fs/file-system.js';
import { InvalidArgumentError } from '../errors.js';

export type InProgressKind = 'restore' | 'checkpoint';

const MARKERS: Readonly<Record<InProgressKind, string>> = {
  restore: 'RESTORE-IN-PROGRESS',
  checkpoint: 'CHECKPOINT-IN-PROGRESS',
};

/** The marker's file name for `kind`. */
export function inProgressMarker(kind: InProgressKind): string { return MARKERS[kind]; }

/** Creates `dir`'s marker, durably, before anything else is written into `dir`. */
export async function markInProgress(fs: FileSystem, dir: string, kind: InProgressKind, detail: string): Promise<void> {
  // Exclusive and without a temp file: if the write or sync fails, the (perhaps empty) marker stays,
  // and its existence is all that the rule needs.
  const f = await fs.openWritable(path.join(dir, MARKERS[kind]), { exclusive: true });
  try {
    f.append(new TextEncoder().encode(`${detail}\n`));
    await f.sync();
  } finally {
    await f.close();
  }
  await fs.syncDir(dir);
}

/** Removes `dir`'s marker: call only once every other file in `dir` is synced. */
export async function clearInProgress(fs: FileSystem, dir: string, kind: InProgressKind): Promise<void> {
  await fs.remove(path.join(dir, MARKERS[kind]));
  await fs.syncDir(dir);
}

/** Rejects with ERR_INVALID_ARGUMENT when `dir` holds a marker of any kind. */
export async function refuseInProgress(fs: FileSystem, dir: string): Promise<void> {
  for (const kind of Object.keys(MARKERS) as InProgressKind[]) {
    const name = MARKERS[kind];
    if (await fs.exists(path.join(dir, name))) {
      throw new InvalidArgumentError(`${dir} holds an interrupted ${kind} (${name}): it is incomplete and will not open; ` +
        `delete the directory and run the ${kind} again into an empty one`);
    }
  }
}
