/**
 * The backup engine (issue #6). Layout of a backup directory (src/backup/FORMAT.md):
 *   shared/<fileNumber>_<crc32c>_<size>.sst   tables, shared by every backup that holds them
 *   meta/<id>                                   one backup's metadata, written last, atomically
 *   wal-archive/                                optional: the database's walArchiveDir may point here
 * createBackup() pins one point in time (sequence S), copies only tables the directory lacks (so a
 * second backup after a few writes copies only the new tables), writes the memtables' entries up to S
 * as one more table, then the metadata. Temporary space: at most the one table being copied (copies go
 * to `*.tmp` and are renamed when complete and verified).
 * BackupEngine: list, verify (re-reads every file: sizes and CRC32C, every block, every archived WAL
 * record), restore (to a backup, or to a
 * sequence or a time with the WAL archive), purge/delete (a shared table goes when no backup uses it).
 * Encryption at rest (issue #9): a backup of an encrypted database stays encrypted. Its tables are
 * copies of the encrypted tables; the memtable dump, the metadata file (sealed whole) and, on
 * restore, the MANIFEST and the replayed tables are sealed with the current key. Reading such a
 * backup (list, verify, restore, purge) needs the keys: BackupEngine.open(dir, { encryption:
 * { keyProvider } }); without them it is refused with ERR_INVALID_ARGUMENT naming the key id.
 * verify() also reads every block of every table (GCM tags of an encrypted one, CRCs of a plain one).
 */
import * as path from 'node:path';
import type { FileSystem, ReadableFile } from '../fs/file-system.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { crc32cOfFile } from '../fs/file-crc.js';
import { NodeFileSystem } from '../fs/node-fs.js';
import { encryptionArg } from '../base/arguments.js';
import { CorruptionError, InvalidArgumentError } from '../errors.js';
import { throwIfAborted } from '../base/abort.js';
import { decodeEncryptionHeader, FileKind, hasCryptMagic, keysRequired, type KeyProvider, type KeyResolver } from '../encryption/file-cipher.js';
import { KeyRing } from '../encryption/keyring.js';
import { checkTableIdentity } from '../manifest/table-identity.js';
import { openTableReader } from '../table/table-open.js';
import { tableFileName } from '../manifest/file-names.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { decodeBackupMetaFile, encodeBackupMetaFile, sharedName, type BackupFile, type BackupMeta, type MetaSealKey } from './backup-meta.js';
import { prepareEmptyTarget } from './checkpoint.js';
import { clearInProgress } from './in-progress.js';
import { dumpMemtables, type BackupSource } from './pin.js';
import { writeManifestSnapshot } from '../manifest/manifest-snapshot.js';
import { replayArchiveToTables } from './point-in-time.js';
import { validateOptions, type Options } from '../options.js';
import { tableOptionsFor } from '../table/table-options.js';
import { verifyArchive } from './wal-archive.js';

export interface BackupInfo { id: number; sequence: number; timestamp: number; files: number; bytes: number }

export interface BackupProgress { phase: 'copy' | 'verify' | 'restore'; filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number }

export interface BackupOptions {
  onProgress?: (p: BackupProgress) => void;
  signal?: AbortSignal;
}

export interface RestoreOptions extends BackupOptions {
  /** Replay the WAL archive up to this sequence (whole batches). */
  toSequence?: number;
  /** Replay the WAL archive up to this commit time (whole batches). */
  toTime?: number | Date;
  /**
   * The options the restored database will be opened with: the tables a point-in-time restore
   * writes take their table options (blockSize, compression, ...) and creation time (clock) from
   * them. Validated like DB.open's; default: the defaults.
   */
  dbOptions?: Options;
}

function checkAbort(signal: AbortSignal | undefined): void {
  throwIfAborted('the backup operation', signal);
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
  const src = await openListed(fs, from);
  try {
    if (src.size !== size) throw new CorruptionError(from, Math.min(src.size, size), `file is ${src.size} bytes, expected ${size}`);
    // No directory sync here: each caller syncs the target directory once, after its last copy.
    await writeFileAtomic(fs, to, async (dst) => {
      checkAbort(signal);
      const c = await crc32cOfFile(src, size, (chunk, off) => {
        dst.append(chunk);
        onBytes(chunk.length);
        if (off + chunk.length < size) checkAbort(signal);
      });
      if (c !== crc) throw new CorruptionError(from, 0, `CRC32C ${c.toString(16)} does not match the expected ${crc.toString(16)}`);
    }, { tempPath: `${to}.tmp`, syncDir: false });
  } finally {
    await src.close();
  }
}

export interface BackupEngineOptions {
  fs?: FileSystem;
  walArchiveDir?: string;
  /**
   * The keys of an encrypted backup (the database's key provider). `allowPlaintext`: also accept
   * plaintext metadata files (backups taken before the database was encrypted); default false.
   */
  encryption?: { keyProvider: KeyProvider; allowPlaintext?: boolean };
  /** @internal db.backup() hands over the database's own KeyRing. */
  keys?: KeyRing;
}

export class BackupEngine {
  private constructor(readonly dir: string, private readonly fs: FileSystem, private readonly walArchiveDir: string | undefined,
    private readonly keys: KeyRing | undefined) {}

  /** Opens (creating if needed) a backup directory. */
  static async open(backupDir: string, options: BackupEngineOptions = {}): Promise<BackupEngine> {
    if (typeof backupDir !== 'string' || backupDir === '') throw new InvalidArgumentError('backupDir must be a non-empty string');
    const keys = options.keys ?? keyRingFrom(options.encryption);
    const fs = options.fs ?? new NodeFileSystem();
    const dir = path.resolve(backupDir);
    await fs.mkdir(path.join(dir, 'shared'), { recursive: true });
    await fs.mkdir(path.join(dir, 'meta'), { recursive: true });
    const archive = options.walArchiveDir ?? path.join(dir, 'wal-archive');
    return new BackupEngine(dir, fs, archive, keys);
  }

  private async ids(): Promise<number[]> {
    return (await this.fs.list(path.join(this.dir, 'meta')))
      .filter((n) => /^\d{1,16}$/.test(n)).map(Number).sort((a, b) => a - b);
  }

  /**
   * Decodes `meta/<id>`. `lenient` (garbage collection only): a plaintext metadata file is read even
   * when the keys refuse plaintext, because there it only keeps tables alive, never restores them.
   */
  private async readMeta(id: number, lenient = false): Promise<BackupMeta> {
    const file = path.join(this.dir, 'meta', String(id));
    const keys: KeyResolver | undefined = lenient && this.keys ? lenientKeys(this.keys) : this.keys;
    const meta = await decodeBackupMetaFile(await this.fs.readFile(file), file, keys);
    if (meta.id !== id) throw new CorruptionError(file, 0, `metadata says id ${meta.id}`);
    return meta;
  }

  /**
   * Deleting backup `id` needs its key when it is encrypted (so that no one without the keys deletes
   * encrypted backups); its content is not decoded, so a damaged backup can still be deleted.
   */
  private async requireMetaKey(id: number): Promise<void> {
    const file = path.join(this.dir, 'meta', String(id));
    const data = await this.fs.readFile(file);
    if (!hasCryptMagic(data)) return;
    let keyId: string;
    try {
      keyId = decodeEncryptionHeader(data, 0, file, 0, FileKind.BACKUP_META).keyId;
    } catch {
      return; // a damaged header: the backup is damaged, and may go
    }
    if (!this.keys) throw keysRequired(file, keyId, 'the backup');
    await this.keys.keyFor(keyId, file);
  }

  /** Every key id the backup's tables need is available (else ERR_INVALID_ARGUMENT naming it). */
  private async requireTableKeys(meta: BackupMeta): Promise<void> {
    for (const { file } of meta.files) {
      if (file.keyId === undefined) continue;
      const p = path.join(this.dir, sharedName(file));
      if (!this.keys) throw keysRequired(p, file.keyId, 'the backup');
      await this.keys.keyFor(file.keyId, p);
    }
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

  /**
   * Re-reads every file of backup `id`: each table's size, every block (the GCM tag of each block of
   * an encrypted table, the CRC of each block of a plain one; the table's key id must be the one the
   * metadata records) and its whole-file CRC32C. ERR_CORRUPTION names the file and the offset.
   */
  async verify(id: number | 'latest', options: BackupOptions = {}): Promise<BackupInfo> {
    const meta = await this.readMeta(await this.resolveId(id));
    await this.requireTableKeys(meta);
    const total = meta.files.reduce((n, f) => n + f.file.fileSize, 0);
    let done = 0, filesDone = 0;
    for (const { file } of meta.files) {
      checkAbort(options.signal);
      const p = path.join(this.dir, sharedName(file));
      const f = await openListed(this.fs, p);
      try {
        if (f.size !== file.fileSize) throw new CorruptionError(p, Math.min(f.size, file.fileSize), `file is ${f.size} bytes, the backup records ${file.fileSize}`);
        let blockError: unknown;
        try {
          await this.verifyBlocks(p, file);
        } catch (e) {
          // A block's own check names the offset: report it. Anything else (a damaged footer read as
          // an unknown format version, a missing key) is judged by the whole-file CRC32C below first.
          if (e instanceof CorruptionError) throw e;
          blockError = e;
        }
        const c = await crc32cOfFile(f, f.size, (chunk) => { done += chunk.length; });
        if (c !== file.crc32c) throw new CorruptionError(p, 0, `CRC32C ${c.toString(16)} does not match the backup's ${file.crc32c.toString(16)}`, blockError === undefined ? undefined : { cause: blockError });
        if (blockError !== undefined) throw blockError;
      } finally {
        await f.close();
      }
      options.onProgress?.({ phase: 'verify', filesDone: ++filesDone, filesTotal: meta.files.length, bytesDone: done, bytesTotal: total });
    }
    // The archived WALs a point-in-time restore from this backup would replay.
    checkAbort(options.signal);
    if (this.walArchiveDir) await verifyArchive(this.fs, this.walArchiveDir, this.keys);
    return BackupEngine.info(meta);
  }

  /** Every block of one backed-up table, through the table library (which checks tags and CRCs). */
  private async verifyBlocks(p: string, file: FileMetadata): Promise<void> {
    // The metadata says whether the table is encrypted (keyId), so plaintext is allowed here and
    // the key id is compared below: a sealed metadata file authenticates that choice. The identity is
    // checked after it, naming the backup as the record that lists the table.
    const reader = await openTableReader(await openListed(this.fs, p), p, {
      syncReads: false, ...(this.keys ? { keys: lenientKeys(this.keys) } : {}),
    });
    try {
      if (reader.keyId !== file.keyId) {
        const say = (k: string | undefined): string => k === undefined ? 'not encrypted' : `sealed with key id ${JSON.stringify(k)}`;
        throw new CorruptionError(p, 0, `table is ${say(reader.keyId)}, the backup records it ${say(file.keyId)}`);
      }
      checkTableIdentity(reader, file, 'the backup');
      await reader.verifyChecksums();
    } finally {
      await reader.close();
    }
  }

  /**
   * Restores backup `id` into `target` (which must not exist or be empty). With toSequence or toTime,
   * the archived WALs are replayed on top, whole batches only, up to that point.
   */
  async restore(id: number | 'latest', target: string, options: RestoreOptions = {}): Promise<BackupInfo & { restoredSequence: number }> {
    const dbOptions = validateOptions(options.dbOptions);
    const meta = await this.readMeta(await this.resolveId(id));
    const dir = path.resolve(target);
    if (dir.startsWith(this.dir + path.sep) || dir === this.dir) throw new InvalidArgumentError('restore target is inside the backup directory');
    // Keys first: a restore that cannot be opened afterwards must not start.
    await this.requireTableKeys(meta);
    if (this.keys) await this.keys.keyFor(this.keys.currentKeyId());
    await prepareEmptyTarget(this.fs, dir, 'restore', `restoring backup ${meta.id} from ${this.dir}`);
    const fs = this.fs;
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
      const r = await replayArchiveToTables(fs, dir, this.walArchiveDir, meta.sequence, next, options,
        { table: tableOptionsFor(dbOptions, 0), writeBufferSize: dbOptions.writeBufferSize, clock: dbOptions.clock, keys: this.keys });
      for (const f of r.files) files.push({ level: 0, file: f });
      restoredSequence = r.lastSequence;
      next = r.nextFileNumber;
    }
    const manifestNumber = next++;
    await writeManifestSnapshot(fs, dir, { manifestNumber, files, nextFileNumber: next, logNumber: next, lastSequence: restoredSequence }, this.keys);
    await clearInProgress(fs, dir, 'restore');
    return { ...BackupEngine.info(meta), restoredSequence };
  }

  /** Deletes backup `id`, then every shared table no remaining backup uses. */
  async delete(id: number): Promise<void> {
    const real = await this.resolveId(id);
    // Every metadata file must be readable (keys) before anything goes: an encrypted backup is not
    // deleted by someone without its keys.
    await this.requireMetaKey(real);
    const used = await this.usedNames((await this.ids()).filter((i) => i !== real));
    await this.fs.remove(path.join(this.dir, 'meta', String(real)));
    await this.fs.syncDir(path.join(this.dir, 'meta'));
    await this.sweep(used);
  }

  /** Keeps the newest `keepLast` backups, deleting the rest. */
  async purge(options: { keepLast: number }): Promise<number[]> {
    if (!options || !Number.isInteger(options.keepLast) || options.keepLast < 0) throw new InvalidArgumentError('purge({ keepLast }): keepLast must be a non-negative integer');
    const ids = await this.ids();
    const gone = ids.slice(0, Math.max(0, ids.length - options.keepLast));
    // Every metadata file is read first: without the keys nothing is deleted.
    for (const id of gone) await this.requireMetaKey(id);
    const used = await this.usedNames(ids.slice(gone.length));
    for (const id of gone) await this.fs.remove(path.join(this.dir, 'meta', String(id)));
    if (gone.length) await this.fs.syncDir(path.join(this.dir, 'meta'));
    await this.sweep(used);
    return gone;
  }

  /** Removes temp files and shared tables that no backup lists (an interrupted backup's leftovers). */
  async collectGarbage(): Promise<void> {
    await this.sweep(await this.usedNames(await this.ids()));
  }

  private async usedNames(ids: number[]): Promise<Set<string>> {
    const used = new Set<string>();
    for (const id of ids) for (const { file } of (await this.readMeta(id, true)).files) used.add(sharedName(file));
    return used;
  }

  private async sweep(used: Set<string>): Promise<void> {
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
      const memMeta: FileMetadata | undefined = await dumpMemtables(fs, tmpDir, memNumber, pin, source);
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
      let seal: MetaSealKey | undefined;
      if (source.keys) {
        const keyId = source.keys.currentKeyId();
        seal = { keyId, key: await source.keys.keyFor(keyId) };
      }
      const metaPath = path.join(this.dir, 'meta', String(id));
      await writeFileAtomic(fs, metaPath, encodeBackupMetaFile(meta, seal), { tempPath: `${metaPath}.tmp` });
      return { ...BackupEngine.info(meta), bytesCopied };
    } finally {
      pin.release();
    }
  }
}

function keyRingFrom(given: BackupEngineOptions['encryption']): KeyRing | undefined {
  const e = encryptionArg<KeyProvider>(given, false);
  return e && new KeyRing(e.keyProvider, e.allowPlaintext);
}

/** The same keys, reading plaintext files too (where the caller checks encryption itself). */
function lenientKeys(keys: KeyRing): KeyResolver {
  return { keyFor: (id, fileName) => keys.keyFor(id, fileName), allowPlaintext: true };
}
