/**
 * The WAL archive for point-in-time recovery (walArchiveDir). Each WAL is archived when it rolls over
 * (and at close, and at open for WALs a crash left unarchived) as `NNNNNN-<archivedAtMs>.log`: a hard
 * link where possible (a rolled-over WAL never changes again), else a copy. Retention: archived WALs
 * older than walArchiveTtlMs, and the oldest beyond walArchiveSizeLimit bytes, are deleted (0 = keep).
 * The archive may live inside a backup directory, so that losing the database's disk keeps it.
 * verifyArchive() checks every archived WAL record by record through the WAL replay code (the one
 * parser), for BackupEngine.verify().
 */
import * as path from 'node:path';
import type { FileSystem } from '../fs/file-system.js';
import type { KeyResolver } from '../encryption/file-cipher.js';
import { replayWal } from '../wal/wal-replay.js';
import { linkOrCopy } from './checkpoint.js';

const ARCHIVED = /^(\d{6,16})-(\d{1,16})\.log$/;

export interface ArchivedWal { name: string; number: number; archivedAtMs: number; path: string }

export async function listArchive(fs: FileSystem, archiveDir: string): Promise<ArchivedWal[]> {
  if (!(await fs.exists(archiveDir))) return [];
  const out: ArchivedWal[] = [];
  for (const name of await fs.list(archiveDir)) {
    const m = ARCHIVED.exec(name);
    if (m) out.push({ name, number: Number(m[1]), archivedAtMs: Number(m[2]), path: path.join(archiveDir, name) });
  }
  return out.sort((a, b) => a.number - b.number);
}

/** Archives one WAL unless a WAL of that number is archived already. */
export async function archiveWal(fs: FileSystem, walPath: string, walNumber: number, archiveDir: string, nowMs: number): Promise<void> {
  await fs.mkdir(archiveDir, { recursive: true });
  const existing = await listArchive(fs, archiveDir);
  if (existing.some((a) => a.number === walNumber)) return;
  const name = `${String(walNumber).padStart(6, '0')}-${nowMs}.log`;
  await linkOrCopy(fs, walPath, path.join(archiveDir, name));
  await fs.syncDir(archiveDir);
}

/**
 * Applies the TTL and size limit; returns the names deleted. `isPinned(walNumber)`: a WAL a reader of
 * the log holds (getUpdatesSince) is kept past both limits until it is released.
 */
export async function enforceRetention(fs: FileSystem, archiveDir: string, ttlMs: number, sizeLimit: number, nowMs: number,
  isPinned: (walNumber: number) => boolean = () => false): Promise<string[]> {
  const all = (await listArchive(fs, archiveDir)).filter((a) => !isPinned(a.number));
  const deleted: string[] = [];
  const keep: (ArchivedWal & { size: number })[] = [];
  for (const a of all) {
    if (ttlMs > 0 && nowMs - a.archivedAtMs > ttlMs) {
      await fs.remove(a.path);
      deleted.push(a.name);
    } else {
      keep.push({ ...a, size: (await fs.stat(a.path)).size });
    }
  }
  if (sizeLimit > 0) {
    let total = keep.reduce((n, a) => n + a.size, 0);
    for (const a of keep) {
      if (total <= sizeLimit) break;
      await fs.remove(a.path);
      deleted.push(a.name);
      total -= a.size;
    }
  }
  return deleted;
}

/**
 * Reads every archived WAL and checks every record (framing checksums, group decoding, the header's
 * log number against the name): damage is a CorruptionError naming the file and offset. Strict for
 * every WAL, the newest too: WALs are archived after recovery cut their torn tails, and in the newest
 * a damaged length field looks just like a torn tail, at which a point-in-time restore would stop
 * without an error, losing the writes after it. Returns the number of WALs and records checked.
 */
export async function verifyArchive(fs: FileSystem, archiveDir: string, keys?: KeyResolver): Promise<{ wals: number; records: number }> {
  const archived = await listArchive(fs, archiveDir);
  let records = 0;
  for (let i = 0; i < archived.length; i++) {
    const a = archived[i]!;
    const r = await replayWal(fs, a.path, {
      mode: 'absolute',
      isNewest: i === archived.length - 1,
      logNumber: a.number,
      onBatch: () => undefined,
      ...(keys ? { keys } : {}),
    });
    records += r.records;
  }
  return { wals: archived.length, records };
}
