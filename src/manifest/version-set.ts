/**
 * VersionSet: the database's file set over time. It owns the current Version, the MANIFEST being
 * appended to, CURRENT, and the counters recorded with every edit (next file number, log number,
 * last sequence, compaction cursors).
 * Format: src/manifest/FORMAT.md (every section; "Writing" is this file's protocol).
 * Contract:
 * - create() starts an empty database; recover() replays CURRENT's MANIFEST and then, unless
 *   readOnly, at once writes a fresh MANIFEST holding one snapshot edit and switches CURRENT to it,
 *   so open time never grows with history and nothing is ever appended after a torn tail.
 * - logAndApply() runs one edit at a time (a promise queue): apply to a builder (a bad edit is an
 *   InternalError and changes nothing), append one record, fsync, and only then install the new
 *   Version. Past maxManifestFileSize the record goes to a new MANIFEST as a full snapshot instead.
 *   A failed write or sync is sticky: current() stays as it was and every later logAndApply
 *   rejects with that first error (the DB reports ERR_READ_ONLY with it as cause). After such a
 *   failure the edit may or may not be in the MANIFEST, so the caller must delete neither the
 *   edit's new files nor the files it removes until a reopen decides.
 * - current() is not referenced for the caller: ref() it to keep it beyond the current turn.
 * - File numbers: newFileNumber() hands out numbers for tables, WALs, MANIFESTs and temp files;
 *   at open every number already in the directory is marked used, so a crashed run's orphans are
 *   never overwritten.
 * Main thread only. Not here: deleting files (the DB, from obsoleteFiles(), timed by
 * src/engine/file-gc.ts), WAL replay, locking.
 */
import { bytewiseComparator } from '../base/comparator.js';
import { ByteWriter } from '../base/coding.js';
import { invariant } from '../base/invariant.js';
import { CorruptionError, DatabaseClosedError, InvalidArgumentError, ReadOnlyError } from '../errors.js';
import { type FileSystem, isNotFound } from '../fs/file-system.js';
import { FileKind, type FileCipher } from '../encryption/file-cipher.js';
import type { KeyRing } from '../encryption/keyring.js';
import { recordCipherFor } from '../record/record-cipher.js';
import { RecordWriter } from '../record/record-writer.js';
import { readCurrentFile } from './current-file.js';
import { currentFileName, manifestBaseName, manifestFileName, parseFileName } from './file-names.js';
import { openManifestSnapshot } from './manifest-snapshot.js';
import { replayManifest } from './manifest-replay.js';
import {
  type CompactPointer, encodeVersionEdit, MAX_LEVELS, type NewFile, type VersionEdit,
} from './version-edit.js';
import { VersionBuilder } from './version-builder.js';
import { type Levels, Version } from './version.js';
import { copyBytes } from '../base/bytes.js';

export interface VersionSetOptions {
  numLevels: number;
  /** Roll to a fresh MANIFEST (one snapshot edit) once the current one reaches this many bytes. */
  maxManifestFileSize: number;
  /** Recorded in the MANIFEST; a reopen with another name is refused. Default: the bytewise comparator's. */
  comparatorName?: string;
  /** recover() writes nothing and logAndApply() rejects with ReadOnlyError. */
  readOnly?: boolean;
  /** Called when a Version's last reference goes: its files may now be obsolete. */
  onVersionReleased?: (v: Version) => void;
  /** Encryption at rest: new MANIFESTs are sealed with the current key; existing ones opened by their key id. */
  keys?: KeyRing;
}

/** What recover() found, for the DB's event log. */
export interface RecoveryInfo {
  manifestNumber: number;
  records: number;
  tornTail?: { offset: number; detail: string };
}

interface State {
  levels: Levels;
  nextFileNumber: number;
  logNumber: number;
  lastSequence: number;
  compactPointers: (Uint8Array | undefined)[];
  manifestNumber: number;
}

export class VersionSet {
  private currentVersion!: Version;
  private readonly liveVersions = new Set<Version>();
  private next: number;
  private lastSeq: number;
  /**
   * The last sequence the MANIFEST records: a floor no sequence in a table exceeds, raised only by
   * edits that name one (a flush: its memtable's newest; an ingest: its sequence). Not the published
   * sequence (lastSeq): writes published but not yet synced may be lost at a power cut, and a floor
   * above them would make the reopened database skip their numbers, a gap the WAL archive's
   * point-in-time replay cannot tell from a missing WAL. WAL replay at open supplies the rest.
   */
  private recordedSeq: number;
  private logNum: number;
  private readonly pointers: (Uint8Array | undefined)[];
  private manifestNum: number;
  private writer: RecordWriter | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: unknown = undefined;
  private closing = false;
  private readonly encodeBuf = new ByteWriter(1024);
  private readonly comparatorName: string;
  recovery: RecoveryInfo | undefined;

  private constructor(
    private readonly fs: FileSystem, readonly dir: string, private readonly options: VersionSetOptions, state: State,
  ) {
    invariant(Number.isInteger(options.numLevels) && options.numLevels >= 2 && options.numLevels <= MAX_LEVELS,
      `numLevels ${options.numLevels} must be in [2, ${MAX_LEVELS}]`);
    this.comparatorName = options.comparatorName ?? bytewiseComparator.name;
    this.next = state.nextFileNumber;
    this.lastSeq = state.lastSequence;
    this.recordedSeq = state.lastSequence;
    this.logNum = state.logNumber;
    this.pointers = state.compactPointers;
    this.manifestNum = state.manifestNumber;
    this.install(state.levels);
  }

  /** A new, empty database in `dir` (which must exist). Refuses a directory that has a CURRENT. */
  static async create(fs: FileSystem, dir: string, options: VersionSetOptions): Promise<VersionSet> {
    if (options.readOnly) throw new InvalidArgumentError('cannot create a database read-only');
    if (await fs.exists(currentFileName(dir))) throw new InvalidArgumentError(`${dir} already holds a database (CURRENT exists)`);
    const vs = new VersionSet(fs, dir, options, {
      levels: Array.from({ length: options.numLevels }, () => []),
      nextFileNumber: 1, logNumber: 0, lastSequence: 0, compactPointers: [], manifestNumber: 0,
    });
    await vs.markDirectoryNumbersUsed();
    const first = vs.next;
    try {
      await vs.writeManifest(vs.currentVersion.levels, vs.logNum, vs.recordedSeq, vs.pointers);
    } catch (e) {
      // A MANIFEST without CURRENT makes the next open refuse the directory (recovery.ts): take back
      // the one this failed creation wrote, so that open creates again.
      if (!(await fs.exists(currentFileName(dir)).catch(() => true))) {
        await fs.remove(manifestFileName(dir, first)).catch(() => undefined);
      }
      throw e;
    }
    return vs;
  }

  /** Opens the database in `dir` from CURRENT and its MANIFEST; see the header. */
  static async recover(fs: FileSystem, dir: string, options: VersionSetOptions): Promise<VersionSet> {
    const manifestNumber = await readCurrentFile(fs, dir);
    const path = manifestFileName(dir, manifestNumber);
    let data: Uint8Array;
    try {
      data = await fs.readFile(path);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      throw new CorruptionError(currentFileName(dir), 0, `CURRENT names ${manifestBaseName(manifestNumber)}, which does not exist`, { cause: e });
    }
    const replay = replayManifest(data, path, { cipher: await manifestCipher(data, path, options.keys) });
    const comparatorName = options.comparatorName ?? bytewiseComparator.name;
    if (replay.comparatorName !== comparatorName) {
      throw new InvalidArgumentError(`comparator mismatch: the database uses '${replay.comparatorName}', the options give '${comparatorName}'`);
    }
    let maxFile = 0;
    replay.levels.forEach((files, level) => {
      for (const f of files) maxFile = Math.max(maxFile, f.fileNumber);
      if (files.length > 0 && level >= options.numLevels) {
        throw new InvalidArgumentError(`numLevels ${options.numLevels} is too small: the database has files at level ${level}`);
      }
    });
    const logNumber = replay.logNumber!;
    const compactPointers: (Uint8Array | undefined)[] = [];
    for (const [level, key] of replay.compactPointers) if (level < options.numLevels) compactPointers[level] = key;
    const vs = new VersionSet(fs, dir, options, {
      levels: replay.levels.slice(0, options.numLevels),
      nextFileNumber: Math.max(replay.nextFileNumber!, manifestNumber + 1, logNumber + 1, maxFile + 1),
      logNumber,
      lastSequence: replay.lastSequence!,
      compactPointers,
      manifestNumber,
    });
    vs.recovery = { manifestNumber, records: replay.records, ...(replay.tornTail ? { tornTail: replay.tornTail } : {}) };
    if (!options.readOnly) {
      await vs.markDirectoryNumbersUsed();
      await vs.writeManifest(vs.currentVersion.levels, vs.logNum, vs.recordedSeq, vs.pointers);
    }
    return vs;
  }

  /**
   * Read-only: moves this set to `newer`, a later recovery of the same directory (a reader catching
   * up with the writer). Installs its levels as the current Version; older Versions stay live while
   * referenced. `newer` is not used afterwards.
   */
  follow(newer: VersionSet): void {
    invariant(this.options.readOnly === true, 'only a read-only VersionSet follows another');
    this.next = newer.next;
    this.lastSeq = newer.lastSeq;
    this.recordedSeq = newer.recordedSeq;
    this.logNum = newer.logNum;
    this.manifestNum = newer.manifestNum;
    this.pointers.length = 0;
    newer.pointers.forEach((k, level) => { this.pointers[level] = k; });
    this.recovery = newer.recovery;
    this.install(newer.currentVersion.levels);
  }

  /** The current Version (not referenced for the caller). */
  current(): Version { return this.currentVersion; }

  get manifestFileNumber(): number { return this.manifestNum; }
  /** Bytes in the MANIFEST being appended to (0 when read-only). */
  get manifestFileSize(): number { return this.writer?.size ?? 0; }
  get logNumber(): number { return this.logNum; }
  get nextFileNumber(): number { return this.next; }
  get lastSequence(): number { return this.lastSeq; }
  set lastSequence(seq: number) {
    invariant(Number.isSafeInteger(seq) && seq >= this.lastSeq, `lastSequence must not go backwards (${this.lastSeq} -> ${seq})`);
    this.lastSeq = seq;
  }
  /** The first error a MANIFEST write or sync hit, if any (sticky). */
  get error(): unknown { return this.failure; }

  /** The internal key the last compaction of `level` ended at, if recorded. */
  compactPointer(level: number): Uint8Array | undefined { return this.pointers[level]; }

  newFileNumber(): number { return this.next++; }

  /** Ensures newFileNumber() never returns `n` or anything below it. */
  markFileNumberUsed(n: number): void {
    if (this.next <= n) this.next = n + 1;
  }

  /** File numbers of every table in any live Version (the current one and those still referenced). */
  liveFiles(): Set<number> {
    const out = new Set<number>();
    for (const v of this.liveVersions) v.forEachFile((f) => out.add(f.fileNumber));
    return out;
  }

  /** How many Versions are live: the current one plus those an iterator, read or backup still references. */
  get liveVersionCount(): number { return this.liveVersions.size; }

  /**
   * The one obsolete-file rule: which of the directory entries `names` nothing needs any more.
   * - tables no live Version holds and not in `pendingOutputs` (tables being written);
   * - WALs below the log number and below `minWalNeeded` (the oldest WAL an unflushed memtable
   *   still needs; the log number moves only after the MANIFEST records a flush);
   * - MANIFESTs and temp files below the live MANIFEST: a higher one may belong to a roll-over in
   *   progress, not yet named by CURRENT.
   * Other names (CURRENT, LOCK, LOG, OPTIONS, the WAL archive, strangers) are never listed.
   * The DB deletes what this returns.
   */
  obsoleteFiles(names: readonly string[], pendingOutputs: ReadonlySet<number> = new Set(),
    minWalNeeded = Number.POSITIVE_INFINITY): string[] {
    const live = this.liveFiles();
    const minWal = Math.min(this.logNum, minWalNeeded);
    return names.filter((name) => {
      const p = parseFileName(name);
      if (!p) return false;
      switch (p.type) {
        case 'table': return !live.has(p.number) && !pendingOutputs.has(p.number);
        case 'wal': return p.number < minWal;
        case 'manifest': case 'temp': return p.number < this.manifestNum;
        default: return false;
      }
    });
  }

  /** Records and installs `edit`; serialised with other calls. See the header for failures. */
  logAndApply(edit: VersionEdit): Promise<void> {
    if (this.closing) return Promise.reject(new DatabaseClosedError('the version set is closed'));
    const run = this.queue.then(() => this.applyOne(edit));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The key id the live MANIFEST is sealed with (undefined: plaintext). */
  get manifestKeyId(): string | undefined { return this.writerKeyId; }
  private writerKeyId: string | undefined;

  /**
   * The current encryption key changed (rotation) and is at hand: the next edit rolls the MANIFEST
   * under it. An unresolved new key never fails an edit here; the WAL or table that needs it first
   * resolves it.
   */
  private keyChanged(): boolean {
    const keys = this.options.keys;
    if (!keys) return false;
    const id = keys.currentKeyId();
    return id !== this.writerKeyId && keys.resolved(id) !== undefined;
  }

  /** Writes a fresh MANIFEST (a snapshot of the current state) now: rotation uses it. */
  async roll(): Promise<void> {
    await this.logAndApply({});
  }

  private async applyOne(edit: VersionEdit): Promise<void> {
    if (this.options.readOnly || !this.writer) throw new ReadOnlyError('the database is open read-only');
    if (this.failure !== undefined) throw this.failure;
    invariant(edit.formatVersion === undefined && edit.comparatorName === undefined,
      'formatVersion and comparatorName belong to the MANIFEST snapshot, not to a live edit');
    const logNumber = edit.logNumber ?? this.logNum;
    invariant(logNumber >= this.logNum && logNumber < this.next,
      `log number ${logNumber} must be in [${this.logNum}, ${this.next})`);
    for (const { file } of edit.newFiles ?? []) {
      invariant(file.fileNumber < this.next, `new file ${file.fileNumber} was not allocated by newFileNumber()`);
    }
    const builder = new VersionBuilder(this.currentVersion);
    builder.apply(edit);
    const levels = builder.finishLevels();
    // Never below a sequence a table it adds holds (a flush names its memtable's newest anyway).
    let lastSequence = Math.max(edit.lastSequence ?? 0, this.recordedSeq);
    for (const { file } of edit.newFiles ?? []) if (file.largestSeq > lastSequence) lastSequence = file.largestSeq;
    const pointers = this.pointers.slice();
    for (const p of edit.compactPointers ?? []) pointers[p.level] = copyBytes(p.key);
    try {
      if (this.writer.size >= this.options.maxManifestFileSize || this.keyChanged()) {
        await this.writeManifest(levels, logNumber, lastSequence, pointers);
      } else {
        const recorded: VersionEdit = { ...edit, logNumber, nextFileNumber: this.next, lastSequence };
        this.writer.addRecord(encodeVersionEdit(recorded, this.encodeBuf));
        await this.writer.sync();
      }
    } catch (e) {
      this.failure = e;
      throw e;
    }
    this.logNum = logNumber;
    this.recordedSeq = lastSequence;
    // NB: writers advance lastSequence while the record is being synced; never step back over them.
    if (lastSequence > this.lastSeq) this.lastSeq = lastSequence;
    pointers.forEach((k, level) => { this.pointers[level] = k; });
    this.install(levels);
  }

  private install(levels: Levels): void {
    const v = new Version(levels, (released) => {
      this.liveVersions.delete(released);
      this.options.onVersionReleased?.(released);
    });
    v.ref();
    this.liveVersions.add(v);
    const old = this.currentVersion as Version | undefined;
    this.currentVersion = v;
    old?.unref();
  }

  /**
   * Writes a new MANIFEST holding one snapshot edit of the given state, syncs it and its directory
   * entry, then points CURRENT at it. On success it becomes the MANIFEST appended to.
   */
  private async writeManifest(levels: Levels, logNumber: number, lastSequence: number,
    pointers: readonly (Uint8Array | undefined)[]): Promise<void> {
    const n = this.newFileNumber();
    const files: NewFile[] = [];
    levels.forEach((ofLevel, level) => { for (const file of ofLevel) files.push({ level, file }); });
    const compactPointers: CompactPointer[] = [];
    pointers.forEach((key, level) => { if (key) compactPointers.push({ level, key }); });
    const { writer, keyId } = await openManifestSnapshot(this.fs, this.dir, {
      manifestNumber: n, files, nextFileNumber: this.next, logNumber, lastSequence, compactPointers,
      comparatorName: this.comparatorName,
    }, { keys: this.options.keys, encodeBuf: this.encodeBuf });
    const old = this.writer;
    this.writer = writer;
    this.writerKeyId = keyId;
    this.manifestNum = n;
    // The old MANIFEST was synced after its last record; closing it cannot lose anything.
    await old?.close().catch(() => undefined);
  }

  private async markDirectoryNumbersUsed(): Promise<void> {
    for (const name of await this.fs.list(this.dir)) {
      const p = parseFileName(name);
      if (p) this.markFileNumberUsed(p.number);
    }
  }

  /** Waits for queued edits, then closes the MANIFEST. Idempotent. Versions stay readable. */
  async close(): Promise<void> {
    this.closing = true;
    await this.queue;
    const w = this.writer;
    this.writer = undefined;
    await w?.close();
  }
}

/** The cipher of an encrypted MANIFEST (undefined for a plain one). */
export function manifestCipher(data: Uint8Array, path: string, keys: KeyRing | undefined): Promise<FileCipher | undefined> {
  return recordCipherFor(data, path, FileKind.MANIFEST, keys);
}
