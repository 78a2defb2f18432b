/**
 * db.checkpoint(dir): an openable copy of the database as of one sequence number, taken while writes
 * go on. Tables are immutable: they are hard-linked (copied when the target is on another file
 * system); the memtables' entries up to the pinned sequence are written as one more L0 table in the
 * target (no WAL is linked or copied: a WAL keeps growing). Then a fresh MANIFEST and CURRENT.
 * With hard links the cost is O(files + memtable), flat in the database size.
 * An encrypted database's checkpoint stays encrypted: its tables are links or copies of encrypted
 * tables, and the memtable table and the MANIFEST written here are sealed with the current key.
 * The target must not exist or be empty (ERR_INVALID_ARGUMENT otherwise). It holds
 * CHECKPOINT-IN-PROGRESS until complete (in-progress.ts), so a checkpoint cut short never opens.
 */
import * as path from 'node:path';
import type { FileSystem } from '../fs/file-system.js';
import { InvalidArgumentError, NotSupportedError } from '../errors.js';
import { tableFileName } from '../manifest/file-names.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { clearInProgress, markInProgress, type InProgressKind } from './in-progress.js';
import { writeManifestSnapshot } from '../manifest/manifest-snapshot.js';
import { dumpMemtables, type BackupSource } from './pin.js';

export interface CheckpointInfo { sequence: number; files: number; linked: number; copied: number }

/**
 * Refuses a target that exists and is not an empty directory; creates it otherwise, and marks it
 * in progress (in-progress.ts). If the marker cannot be made, a directory made here is removed again,
 * so the target is left as it was found: missing or empty, never an unmarked partial copy.
 */
export async function prepareEmptyTarget(fs: FileSystem, dir: string, what: InProgressKind, detail: string): Promise<void> {
  let created = false;
  if (await fs.exists(dir)) {
    const st = await fs.stat(dir);
    if (!st.isDirectory) throw new InvalidArgumentError(`${what} target ${dir} exists and is not a directory`);
    const entries = await fs.list(dir);
    if (entries.length > 0) throw new InvalidArgumentError(`${what} target ${dir} is not empty`);
  } else {
    await fs.mkdir(dir, { recursive: true });
    created = true;
  }
  try {
    await markInProgress(fs, dir, what, detail);
  } catch (e) {
    if (created) await fs.removeDir(dir).catch(() => undefined);
    throw e;
  }
}

/** Hard link, or a streamed copy when the file system cannot link. Returns true when linked. */
export async function linkOrCopy(fs: FileSystem, from: string, to: string): Promise<boolean> {
  try {
    await fs.link(from, to);
    return true;
  } catch (e) {
    if (!(e instanceof NotSupportedError)) throw e;
  }
  const src = await fs.openReadable(from);
  const dst = await fs.openWritable(to, { exclusive: true });
  try {
    const CHUNK = 1 << 20;
    for (let off = 0; off < src.size; off += CHUNK) dst.append(await src.read(off, Math.min(CHUNK, src.size - off)));
    await dst.sync();
  } finally {
    await dst.close();
    await src.close();
  }
  return false;
}

export async function createCheckpoint(source: BackupSource, target: string): Promise<CheckpointInfo> {
  const fs = source.fs;
  const dir = path.resolve(target);
  if (dir === path.resolve(source.dir)) throw new InvalidArgumentError('checkpoint target is the database itself');
  await prepareEmptyTarget(fs, dir, 'checkpoint', `checkpoint of ${path.resolve(source.dir)}`);
  const pin = source.pin();
  try {
    const files: { level: number; file: FileMetadata }[] = [];
    let linked = 0, copied = 0;
    for (let level = 0; level < pin.version.levels.length; level++) {
      for (const f of pin.version.levels[level]!) {
        if (await linkOrCopy(fs, tableFileName(source.dir, f.fileNumber), tableFileName(dir, f.fileNumber))) linked++;
        else copied++;
        files.push({ level, file: f });
      }
    }
    // Numbers above every live one: the checkpoint's own table and MANIFEST.
    let next = pin.nextFileNumber;
    const memNumber = next++;
    const memTable = await dumpMemtables(fs, dir, memNumber, pin, source);
    if (memTable) files.push({ level: 0, file: memTable });
    const manifestNumber = next++;
    await writeManifestSnapshot(fs, dir, {
      manifestNumber, files, nextFileNumber: next, logNumber: next, lastSequence: pin.sequence,
    }, source.keys);
    // Last: every table and the MANIFEST are synced, and CURRENT with its directory entry.
    await clearInProgress(fs, dir, 'checkpoint');
    return { sequence: pin.sequence, files: files.length, linked, copied };
  } finally {
    pin.release();
  }
}
