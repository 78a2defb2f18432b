/**
 * The backup engine (issue #6). Layout of a backup directory (src/backup/FORMAT.md):
 *   shared/<fileNumber>_<crc32c>_<size>.sst   tables, shared by every backup that holds them
 *   meta/<id>                                   one backup's metadata, written last, atomically
 *   wal-archive/                                optional: the database's walArchiveDir may point here
 * createBackup() pins one point in time (sequence S), copies only tables the directory lacks (so a
 * second backup after a few writes copies only the new tables), writes the memtables' entries up to S
 * as one more table, then the metadata. Temporary space: at most the one table being copied (copies go
 * to `*.tmp` and are renamed when complete and verified).
 * BackupEngine: list, verify (re-reads every file: sizes and CRC32C), restore (to a backup, or to a
 * sequence or a time with the WAL archive), purge/delete (a shared table goes when no backup uses it).
 */
import * as path from 'node:path';
import type { FileSystem, ReadableFile } from '../fs/file-system.js';
import { NodeFileSystem } from '../fs/node-fs.js';
import { crc32c } from '../base/crc32c.js';
import { AbortedError, CorruptionError, InvalidArgumentError } from '../errors.js';
import { tableFileName } from '../manifest/file-names.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { decodeBackupMeta, encodeBackupMeta, sharedName, type BackupFile, type BackupMeta } from './backup-meta.js';
import { prepareEmptyTarget } from './checkpoint.js';
import { dumpMemtables, type BackupSource } from './pin.js';
import { writeManifestSnapshot } from './manifest-snapshot.js';
import { replayArchiveToTables } from './point-in-time.js';

export interface BackupInfo { id: number; sequence: number; timestamp: number; files: number; bytes: number }

export interface BackupProgress { phase: 'copy' | 'verify' | 'restore'; filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number }

export interface BackupOptions {
  onProgress?: (p: BackupProgress) => void;
  signal?: AbortSignal;
}

/** A restore in progress: DB.open refuses a directory holding this file (never opens half a restore). */
export const RESTORE_MARKER = 'RESTORE-IN-PROGRESS';

const CHUNK = 1 << 20;

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('the backup operation was aborted', { cause: signal.reason });
}

/** True when `e` (or a cause) is the OS saying the file does not exist. */
function isMissing(e: unknown): boolean {
  for (let cur = e, i = 0; cur && i < 4; i++, cur = (cur as { cause?: unknown }).cause) {
    if ((cur as { code?: unknown }).code === 'ENOENT') return true;
  }
  return false;
}

/** Opens a file a backup (or a MANIFEST) lists: a missing one is damage, not an I/O failure. */
async function openListed(fs: FileSystem, p: string): Promise<ReadableFile> {
  try {
    return await fs.openReadable(p);
  } catch (e) {
    if (isMissing(e)) throw new CorruptionError(p, 0, 'file is missing', { cause: e });
    throw e;
  }
}

/** Streams `from` to `to` through a temp name, checking size and CRC32C against the expectation. */
async function copyVerified(fs: FileSystem, from: string, to: string, size: number, crc: number,
  signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<void> {
  const tmp = `${to}.tmp`;
  const src = await openListed(fs, from);
  try {
    if (src.size !== size) throw new CorruptionError(from, Math.min(src.size, size), `file is ${src.size} bytes, expected ${size}`);
    const dst = await fs.openWritable(tmp);
    try {
      let c = 0;
      for (let off = 0; off < size; off += CHUNK) {
        checkAbort(signal);
        const chunk = await src.read(off, Math.min(CHUNK, size - off));
        if (chunk.length === 0) throw new CorruptionError(from, off, 'file ended early');
        c = crc32c(chunk, c);
        dst.append(chunk);
        onBytes(chunk.length);
      }
      if (c !== crc) throw new CorruptionError(from, 0, `CRC32C ${c.toString(16)} does not match the expected ${crc.toString(16)}`);
      await dst.sync();
    } finally {
      await dst.close();
    }
    await fs.rename(tmp, to);
  } catch (e) {
    await fs.remove(tmp).catch(() => undefined);
    throw e;
  } finally {
    await src.close();
  }
}

async function writeAtomically(fs: FileSystem, dir: string, name: string, data: Uint8Array): Promise<void> {
  const tmp = path.join(dir, `${name}.tmp`);
  const f = await fs.openWritable(tmp);
  try {
    f.append(data);
    await f.sync();
  } finally {
    await f.close();
  }
  await fs.rename(tmp, path.join(dir, name));
  await fs.syncDir(dir);
}

export class BackupEngine {
  private constructor(readonly dir: string, private readonly fs: FileSystem, private readonly walArchiveDir: string | undefined) {}

  /** Opens (creating if needed) a backup directory. */
  static async open(backupDir: string, options: { fs?: FileSystem; walArchiveDir?: string } = {}): Promise<BackupEngine> {
    if (typeof backupDir !== 'string' || backupDir === '') throw new InvalidArgumentError('backupDir must be a non-empty string');
    const fs = options.fs ?? new NodeFileSystem();
    const dir = path.resolve(backupDir);
    await fs.mkdir(path.join(dir, 'shared'), { recursive: true });
    await fs.mkdir(path.join(dir, 'meta'), { recursive: true });
    const archive = options.walArchiveDir ?? path.join(dir, 'wal-archive');
    return new BackupEngine(dir, fs, archive);
  }

  private async ids(): Promise<number[]> {
    return (await this.fs.list(path.join(this.dir, 'meta')))
      .filter((n) => /^\d{1,16}$/.test(n)).map(Number).sort((a, b) => a - b);
  }

  private async readMeta(id: number): Promise<BackupMeta> {
    const file = path.join(this.dir, 'meta', String(id));
    const meta = decodeBackupMeta(await this.fs.readFile(file), file);
    if (meta.id !== id) throw new CorruptionError(file, 0, `metadata says id ${meta.id}`);
    return meta;
  }

  private static info(m: BackupMeta): BackupInfo {
    return { id: m.id, sequence: m.sequence, timestamp: m.timestamp, files: m.files.length, bytes: m.files.reduce((n, f) => n + f.file.fileSize, 0) };
  }

  async list(): Promise<BackupInfo[]> {
    const out: BackupInfo[] = [];
    for (const id of await this.ids()) out.push(BackupEngine.info(await this.readMeta(id)));
    return out;
  }

  private async resolveId(id: number | 'latest'): Promise<number> {
    const ids = await this.ids();
    if (id === 'latest') {
      const last = ids[ids.length - 1];
      if (last === undefined) throw new InvalidArgumentError(`no backup in ${this.dir}`);
      return last;
    }
    if (!Number.isInteger(id) || !ids.includes(id)) throw new InvalidArgumentError(`no backup with id ${String(id)} in ${this.dir}`);
    return id;
  }

  /** Re-reads every file of backup `id`, checking sizes and CRC32C; ERR_CORRUPTION names the file. */
  async verify(id: number | 'latest', options: BackupOptions = {}): Promise<BackupInfo> {
    const meta = await this.readMeta(await this.resolveId(id));
    const total = meta.files.reduce((n, f) => n + f.file.fileSize, 0);
    let done = 0, filesDone = 0;
    for (const { file } of meta.files) {
      checkAbort(options.signal);
      const p = path.join(this.dir, sharedName(file));
      const f = await openListed(this.fs, p);
      try {
        if (f.size !== file.fileSize) throw new CorruptionError(p, Math.min(f.size, file.fileSize), `file is ${f.size} bytes, the backup records ${file.fileSize}`);
        let c = 0;
        for (let off = 0; off < f.size; off += CHUNK) {
          const chunk = await f.read(off, Math.min(CHUNK, f.size - off));
          c = crc32c(chunk, c);
          done += chunk.length;
        }
        if (c !== file.crc32c) throw new CorruptionError(p, 0, `CRC32C ${c.toString(16)} does not match the backup's ${file.crc32c.toString(16)}`);
      } finally {
        await f.close();
      }
      options.onProgress?.({ phase: 'verify', filesDone: ++filesDone, filesTotal: meta.files.length, bytesDone: done, bytesTotal: total });
    }
    return BackupEngine.info(meta);
  }

  /**
   * Restores backup `id` into `target` (which must not exist or be empty). With toSequence or toTime,
   * the archived WALs are replayed on top, whole batches only, up to that point.
   */
  async restore(id: number | 'latest', target: string, options: BackupOptions & { toSequence?: number; toTime?: number | Date } = {}): Promise<BackupInfo & { restoredSequence: number }> {
    const meta = await this.readMeta(await this.resolveId(id));
    const dir = path.resolve(target);
    if (dir.startsWith(this.dir + path.sep) || dir === this.dir) throw new InvalidArgumentError('restore target is inside the backup directory');
    await prepareEmptyTarget(this.fs, dir, 'restore');
    const fs = this.fs;
    await writeAtomically(fs, dir, RESTORE_MARKER, new TextEncoder().encode(`restoring backup ${meta.id}\n`));
    const total = meta.files.reduce((n, f) => n + f.file.fileSize, 0);
    let done = 0, filesDone = 0;
    for (const { file } of meta.files) {
      await copyVerified(fs, path.join(this.dir, sharedName(file)), tableFileName(dir, file.fileNumber), file.fileSize, file.crc32c,
        options.signal, (n) => { done += n; });
      options.onProgress?.({ phase: 'restore', filesDone: ++filesDone, filesTotal: meta.files.length, bytesDone: done, bytesTotal: total });
    }
    let next = meta.nextFileNumber;
    let restoredSequence = meta.sequence;
    const files = [...meta.files];
    if (options.toSequence !== undefined || options.toTime !== undefined) {
      const r = await replayArchiveToTables(fs, dir, this.walArchiveDir, meta.sequence, next, options);
      for (const f of r.files) files.push({ level: 0, file: f });
      restoredSequence = r.lastSequence;
      next = r.nextFileNumber;
    }
    const manifestNumber = next++;
    await writeManifestSnapshot(fs, dir, { manifestNumber, files, nextFileNumber: next, logNumber: next, lastSequence: restoredSequence });
    await fs.remove(path.join(dir, RESTORE_MARKER));
    await fs.syncDir(dir);
    return { ...BackupEngine.info(meta), restoredSequence };
  }

  /** Deletes backup `id`, then every shared table no remaining backup uses. */
  async delete(id: number): Promise<void> {
    const real = await this.resolveId(id);
    await this.fs.remove(path.join(this.dir, 'meta', String(real)));
    await this.fs.syncDir(path.join(this.dir, 'meta'));
    await this.collectGarbage();
  }

  /** Keeps the newest `keepLast` backups, deleting the rest. */
  async purge(options: { keepLast: number }): Promise<number[]> {
    if (!options || !Number.isInteger(options.keepLast) || options.keepLast < 0) throw new InvalidArgumentError('purge({ keepLast }): keepLast must be a non-negative integer');
    const ids = await this.ids();
    const gone = ids.slice(0, Math.max(0, ids.length - options.keepLast));
    for (const id of gone) await this.fs.remove(path.join(this.dir, 'meta', String(id)));
    if (gone.length) await this.fs.syncDir(path.join(this.dir, 'meta'));
    await this.collectGarbage();
    return gone;
  }

  /** Removes temp files and shared tables that no backup lists (an interrupted backup's leftovers). */
  async collectGarbage(): Promise<void> {
    const used = new Set<string>();
    for (const id of await this.ids()) for (const { file } of (await this.readMeta(id)).files) used.add(sharedName(file));
    for (const n of await this.fs.list(path.join(this.dir, 'shared'))) {
      if (!used.has(`shared/${n}`)) await this.fs.remove(path.join(this.dir, 'shared', n)).catch(() => undefined);
    }
    for (const n of await this.fs.list(path.join(this.dir, 'meta'))) {
      if (n.endsWith('.tmp')) await this.fs.remove(path.join(this.dir, 'meta', n)).catch(() => undefined);
    }
  }

  /** @internal used by db.backup() */
  async create(source: BackupSource, options: BackupOptions = {}): Promise<BackupInfo & { bytesCopied: number }> {
    const fs = this.fs;
    checkAbort(options.signal);
    const ids = await this.ids();
    const id = (ids[ids.length - 1] ?? 0) + 1;
    const pin = source.pin();
    let bytesCopied = 0;
    try {
      const files: BackupFile[] = [];
      pin.version.levels.forEach((fsOfLevel, level) => { for (const file of fsOfLevel) files.push({ level, file }); });
      const present = new Set((await fs.list(path.join(this.dir, 'shared'))).map((n) => `shared/${n}`));
      const toCopy = files.filter(({ file }) => !present.has(sharedName(file)));
      const total = toCopy.reduce((n, f) => n + f.file.fileSize, 0);
      let filesDone = 0;
      for (const { file } of toCopy) {
        await copyVerified(fs, tableFileName(source.dir, file.fileNumber), path.join(this.dir, sharedName(file)),
          file.fileSize, file.crc32c, options.signal, (n) => { bytesCopied += n; });
        options.onProgress?.({ phase: 'copy', filesDone: ++filesDone, filesTotal: toCopy.length, bytesDone: bytesCopied, bytesTotal: total });
      }
      await fs.syncDir(path.join(this.dir, 'shared'));
      // The memtables up to S become one more table, written in the backup's temp space and then
      // renamed to its content name.
      checkAbort(options.signal);
      const memNumber = source.newFileNumber();
      const tmpDir = path.join(this.dir, 'shared');
      const memMeta: FileMetadata | undefined = await dumpMemtables(fs, tmpDir, memNumber, pin, source.buildOptions());
      if (memMeta) {
        await fs.rename(tableFileName(tmpDir, memMeta.fileNumber), path.join(this.dir, sharedName(memMeta)));
        await fs.syncDir(tmpDir);
        bytesCopied += memMeta.fileSize;
        files.push({ level: 0, file: memMeta });
      }
      const meta: BackupMeta = {
        id, sequence: pin.sequence, timestamp: source.clock(),
        nextFileNumber: Math.max(pin.nextFileNumber, memNumber + 1), files,
      };
      checkAbort(options.signal);
      await writeAtomically(fs, path.join(this.dir, 'meta'), String(id), encodeBackupMeta(meta));
      return { ...BackupEngine.info(meta), bytesCopied };
    } finally {
      pin.release();
    }
  }
}
