/**
 * The WAL archive for point-in-time recovery (walArchiveDir). Each WAL is archived when it rolls over
 * (and at close, and at open for WALs a crash left unarchived) as `NNNNNN-<archivedAtMs>.log`: a hard
 * link where possible (a rolled-over WAL never changes again), else a copy. Retention: archived WALs
 * older than walArchiveTtlMs, and the oldest beyond walArchiveSizeLimit bytes, are deleted (0 = keep).
 * The archive may live inside a backup directory, so that losing the database's disk keeps it.
 */
import * as path from 'node:path';
import type { FileSystem } from '../fs/file-system.js';
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

/** Applies the TTL and size limit; returns the names deleted. */
export async function enforceRetention(fs: FileSystem, archiveDir: string, ttlMs: number, sizeLimit: number, nowMs: number): Promise<string[]> {
  const all = await listArchive(fs, archiveDir);
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
