/**
 * The DB facade (DESIGN.md "Public API"): open/close and the public methods. It validates input,
 * then delegates: writes to the group-commit queue (write-queue.ts) with this class as its host,
 * write stalls to write-stall.ts, new and finished WALs to wal-files.ts, point reads to read-path.ts,
 * scans to strata-iterator.ts, recovery to recovery.ts, flushes to flush-scheduler.ts (flush/build-table.ts),
 * compactions to compaction/ through compaction-host.ts, transactions through transaction-host.ts,
 * a read-only open's view beside a live writer (and tryCatchUpWithPrimary) to reader-view.ts.
 * What stays here is deciding when a memtable is frozen and its WAL rolls, and key rotation's order.
 * Promise-returning methods never throw synchronously: they reject. Synchronous methods throw.
 * Main thread only.
 */
import { Buffer } from 'node:buffer';
import * as path from 'node:path';
import { booleanArg, keyArg, optionsArg } from './base/arguments.js';
import { ValueKind } from './base/internal-key.js';
import type { MaybePromise } from './base/internal-iterator.js';
import { ByteWriter } from './base/coding.js';
import {
  DatabaseClosedError, InternalError, InvalidArgumentError, ReadOnlyError, StrataError, TooLargeError,
} from './errors.js';
import type { FileSystem } from './fs/file-system.js';
import { NodeFileSystem } from './fs/node-fs.js';
import { validateOptions, describeOptions, type Options, type ResolvedOptions } from './options.js';
import { EventLog } from './engine/event-log.js';
import { MemTable } from './memtable/memtable.js';
import type { VersionSet } from './manifest/version-set.js';
import type { Version } from './manifest/version.js';
import { lockFileName } from './manifest/file-names.js';
import { WalWriter } from './wal/wal-writer.js';
import { WriteBatch, encodeSingleOp, walkOps } from './wal/write-batch.js';
import { WalGroupEncoder } from './wal/wal-record.js';
import { WriteQueue, type WriteRequest, type WriteQueueHost } from './engine/write-queue.js';
import { SnapshotList, type Snapshot } from './mvcc/snapshot-list.js';
import { ConflictTracker } from './mvcc/conflict-tracker.js';
import { KeyRing } from './base/keyring.js';
import { writeOptionsFile } from './engine/options-file.js';
import { keySetOfOps, type KeySet } from './mvcc/key-set.js';
import { Transaction, type TransactionOptions, type TransactionHost } from './mvcc/transaction.js';
import { TransactionConflictError } from './errors.js';
import { LruCache } from './cache/lru-cache.js';
import { TableCache } from './cache/table-cache.js';
import { recoverDatabase, type MemTableEntry } from './engine/recovery.js';
import { getFromMemtables, getFromTables } from './engine/read-path.js';
import { StrataIterator, type IteratorMode } from './iterator/strata-iterator.js';
import { buildIteratorSource } from './engine/iterator-source.js';
import { FlushScheduler } from './engine/flush-scheduler.js';
import { StatsCounters, buildStats, type DBStats } from './engine/stats.js';
import { verifyTables } from './engine/verify.js';
import { CompactionScheduler } from '../compaction/scheduler.js';
import { BackgroundJobQueue } from '../compaction/job-queue.js';
import type { CompactionExecutor } from '../compaction/executor.js';
import { chooseCompactionExecutor, makeCompactionExecutor, type ExecutorChoice } from './engine/compaction-executor.js';
import { makeCompactionHost } from './engine/compaction-host.js';
import { makeTransactionHost } from './engine/transaction-host.js';
import { makeBackupSource } from './engine/backup-source.js';
import { resolveFair } from './engine/yield-guard.js';
import { createCheckpoint, type CheckpointInfo } from './backup/checkpoint.js';
import { refuseInProgress } from './backup/in-progress.js';
import { BackupEngine, type BackupInfo, type BackupOptions } from './backup/backup-engine.js';
import type { BackupSource } from './backup/pin.js';
import { archiveFinishedWal, archiveLeftoverWals, createWal, removeEmptyWal, removeEmptyWalsBelow } from './engine/wal-files.js';
import { WriteStall } from './engine/write-stall.js';
import { ObsoleteFileScheduler } from './engine/file-gc.js';
import { makeObsoleteFileHost } from './engine/file-gc-host.js';
import { ReaderView } from './engine/reader-view.js';
import type { CorruptionError } from './errors.js';
import type { FileLock } from './fs/file-system.js';

export type Key = Uint8Array | string;

export interface WriteOptions { sync?: boolean }
export interface ReadOptions { snapshot?: Snapshot }
export interface IteratorOptions {
  gt?: Key; gte?: Key; lt?: Key; lte?: Key;
  reverse?: boolean;
  limit?: number;
  snapshot?: Snapshot;
}

const WRITE_OPTIONS = ['sync'] as const;
const READ_OPTIONS = ['snapshot'] as const;
const ITERATOR_OPTIONS = ['gt', 'gte', 'lt', 'lte', 'reverse', 'limit', 'snapshot'] as const;
const TRANSACTION_OPTIONS = ['isolation', 'sync'] as const;
const RUN_TRANSACTION_OPTIONS = [...TRANSACTION_OPTIONS, 'retries'] as const;
const BACKUP_OPTIONS = ['onProgress', 'signal'] as const;
const ROTATE_KEY_OPTIONS = ['rewrite'] as const;
const VERIFY_OPTIONS = ['onCorruption'] as const;

function checkWriteOptions(o: unknown): boolean {
  const w = optionsArg<WriteOptions>('write options', o, WRITE_OPTIONS);
  return booleanArg('options.sync', w?.sync) === true;
}

export class DB {
  /** @internal */ readonly o: ResolvedOptions;
  private readonly fs: FileSystem;
  private closed = false;
  private closing: Promise<void> | undefined;
  private bgError: Error | undefined;
  /** @internal */ mem: MemTableEntry;
  /** @internal Immutable memtables waiting for flush, oldest first. */ imm: MemTableEntry[];
  private wal: WalWriter | undefined;
  private published = 0;
  /** @internal */ readonly writer: WriteQueue;
  private readonly encoder = new WalGroupEncoder();
  private readonly single = new ByteWriter(64);
  private readonly snapshots = new SnapshotList(this);
  /** @internal */ readonly tracker = new ConflictTracker(() => this.published);
  /** Members accepted while no transaction was open, until their group is published. */
  /** @internal */ unrecorded: WriteRequest[] = [];
  /** @internal */ readonly iterators = new Set<StrataIterator<unknown>>();
  private readonly blockCache: LruCache | undefined;
  /** @internal */ readonly tables: TableCache;
  /** @internal */ readonly counters = new StatsCounters();
  private readonly jobs: BackgroundJobQueue;
  private readonly flusher: FlushScheduler;
  /** @internal */ readonly compactions: CompactionScheduler;
  private readonly executor: CompactionExecutor;
  private readonly stall: WriteStall;
  /** @internal WALs rolled over but not yet closed and archived: never deleted before that. */
  readonly retiringWals = new Set<number>();
  private readonly retiring = new Set<Promise<void>>();
  /** @internal */ readonly pendingOutputs = new Set<number>();
  /** @internal Deletes obsolete files when the last reference to them drops, and after background jobs. */
  readonly fileGc = new ObsoleteFileScheduler(makeObsoleteFileHost(this));
  /** Read-only opens: the pinned view beside a live writer (reader-view.ts). */
  private reader: ReaderView | undefined;

  private constructor(
    readonly location: string,
    options: ResolvedOptions,
    fs: FileSystem,
    /** @internal */ readonly versions: VersionSet,
    /** @internal */ readonly log: EventLog,
    private readonly lock: FileLock | undefined,
    recovered: MemTableEntry[],
    lastSequence: number,
    /** @internal Encryption at rest (undefined: off). */ readonly keyRing: KeyRing | undefined,
    executorChoice: ExecutorChoice,
  ) {
    this.o = options;
    this.fs = fs;
    this.published = lastSequence;
    this.imm = recovered;
    this.mem = { mem: new MemTable(), walNumber: 0 };
    this.blockCache = options.cacheSize > 0 ? new LruCache(options.cacheSize) : undefined;
    this.tables = new TableCache(fs, location, {
      blockCache: this.blockCache,
      maxOpenFiles: options.maxOpenFiles,
      syncReads: true,
      ...(keyRing ? { keys: keyRing } : {}),
    });
    this.writer = new WriteQueue(this.writeHost());
    this.jobs = new BackgroundJobQueue(options.maxBackgroundJobs);
    this.flusher = new FlushScheduler(this, this.jobs);
    this.executor = makeCompactionExecutor(executorChoice, fs, this.jobs.compactionConcurrency, (line) => log.write(line));
    this.compactions = new CompactionScheduler(makeCompactionHost(this), this.executor, this.jobs);
    this.stall = new WriteStall(options, {
      l0Files: () => this.versions.current().levels[0]?.length ?? 0,
      stopped: () => this.bgError !== undefined,
      compactions: this.compactions,
      counters: this.counters,
    });
  }

  /** Opens (or creates) the database in `dir`. */
  static async open(dir: string, options?: Options): Promise<DB> {
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError('dir must be a non-empty string');
    const o = validateOptions(options);
    const executorChoice = chooseCompactionExecutor(o);
    const fs = o.fs ?? new NodeFileSystem();
    const location = path.resolve(dir);
    if (!o.readOnly) {
      if (!(await fs.exists(location))) {
        if (!o.createIfMissing) throw new InvalidArgumentError(`database ${location} does not exist (createIfMissing is false)`);
        await fs.mkdir(location, { recursive: true });
      }
    } else if (!(await fs.exists(location))) {
      throw new InvalidArgumentError(`database ${location} does not exist (readOnly open)`);
    }
    await refuseInProgress(fs, location);
    // One open per directory per process, whatever the file system: a second open is ERR_LOCKED.
    const lock = o.readOnly ? undefined : await fs.lock(lockFileName(location));
    let log = EventLog.disabled();
    let opened: Awaited<ReturnType<typeof ReaderView.open>> | undefined;
    try {
      if (!o.readOnly) log = await EventLog.open(fs, location, o.clock, describeOptions(o));
      if (executorChoice.kind === 'inline' && executorChoice.note) log.write(executorChoice.note);
      const t0 = performance.now();
      const keys = o.encryption ? new KeyRing(o.encryption.keyProvider, o.encryption.allowPlaintext) : undefined;
      // The current key must be there before anything is written: a missing one refuses the open.
      if (keys && !o.readOnly) await keys.keyFor(keys.currentKeyId());
      // Read-only: a consistent view with every table pinned open, retried while a writer moves on.
      let fileGc: ObsoleteFileScheduler | undefined;
      opened = o.readOnly ? await ReaderView.open(fs, location, o, log, keys) : undefined;
      const rec = opened ? opened.state : await recoverDatabase(fs, location, o, log, keys, { onVersionReleased: () => fileGc?.schedule() });
      // Keys of every live table, resolved once (few ids), so reads and compaction jobs never wait for a provider.
      if (keys) for (const id of keyIdsOf(rec.versions.current())) await keys.keyFor(id);
      const db = new DB(location, o, fs, rec.versions, log, lock, rec.memtables, rec.lastSequence, keys, executorChoice);
      fileGc = db.fileGc;
      if (opened) {
        db.reader = opened.view;
        db.tables.usePins(opened.view.pins);
      }
      if (!o.readOnly) {
        await archiveLeftoverWals(fs, location, o, log);
        await db.startNewWal();
        await removeEmptyWalsBelow(fs, location, db.mem.walNumber, log);
        await db.writeOptions();
        await db.deleteObsoleteFiles();
        db.flusher.schedule();
        db.compactions.maybeSchedule();
      }
      // Open the live tables in the background: open() itself stays O(manifest + WAL tail).
      const live: number[] = [];
      db.versions.current().forEachFile((f) => live.push(f.fileNumber));
      void db.tables.warm(live);
      log.write(`opened ${location} ${rec.created ? '(created)' : ''} in ${(performance.now() - t0).toFixed(1)} ms: ` +
        `last sequence ${rec.lastSequence}, ${rec.memtables.length} recovered memtable(s)`);
      return db;
    } catch (e) {
      log.write(`open failed: ${(e as Error).message}`);
      await log.close();
      await opened?.view.close().catch(() => undefined);
      await lock?.release().catch(() => undefined);
      throw e;
    }
  }

  // ---------------------------------------------------------------- writes

  put(key: Key, value: Key, options?: WriteOptions): Promise<void> {
    try {
      const k = keyArg('key', key);
      const v = keyArg('value', value);
      const sync = checkWriteOptions(options);
      this.checkSizes(k, v);
      return this.submitSingle(ValueKind.Put, k, v, sync);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  delete(key: Key, options?: WriteOptions): Promise<void> {
    try {
      const k = keyArg('key', key);
      const sync = checkWriteOptions(options);
      this.checkSizes(k, undefined);
      return this.submitSingle(ValueKind.Delete, k, EMPTY, sync);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Applies every operation of `batch` atomically, or none. */
  write(batch: WriteBatch, options?: WriteOptions): Promise<void> {
    try {
      if (!(batch instanceof WriteBatch)) throw new InvalidArgumentError('batch must be a WriteBatch');
      const sync = checkWriteOptions(options);
      if (batch.maxKeyLength > this.o.maxKeySize) {
        throw new TooLargeError(`a key in the batch is ${batch.maxKeyLength} bytes, over maxKeySize (${this.o.maxKeySize})`);
      }
      if (batch.maxValueLength > this.o.maxValueSize) {
        throw new TooLargeError(`a value in the batch is ${batch.maxValueLength} bytes, over maxValueSize (${this.o.maxValueSize})`);
      }
      this.checkWritable();
      if (batch.length === 0) return Promise.resolve();
      return this.submit(batch.encodedOps().slice(), batch.length, batch.byteLength, sync);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private checkSizes(k: Uint8Array, v: Uint8Array | undefined): void {
    if (k.length > this.o.maxKeySize) throw new TooLargeError(`key is ${k.length} bytes, over maxKeySize (${this.o.maxKeySize})`);
    if (v && v.length > this.o.maxValueSize) throw new TooLargeError(`value is ${v.length} bytes, over maxValueSize (${this.o.maxValueSize})`);
  }

  /** @internal */ checkWritable(): void {
    if (this.closed) throw new DatabaseClosedError();
    if (this.o.readOnly) throw new ReadOnlyError('the database was opened read-only');
    if (this.bgError) throw new ReadOnlyError(`the database refuses writes after an earlier failure: ${this.bgError.message}`, { cause: this.bgError });
  }

  private submitSingle(kind: number, k: Uint8Array, v: Uint8Array, sync: boolean): Promise<void> {
    this.checkWritable();
    const w = this.single;
    w.reset();
    encodeSingleOp(w, kind, k, v);
    return this.submit(w.toBytes(), 1, k.length + v.length, sync);
  }

  /** @internal Also used by transactions. */
  submit(ops: Uint8Array, count: number, userBytes: number, sync: boolean,
    extra?: Pick<WriteRequest, 'validate' | 'onCommitted'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.writer.submit({ ops, count, userBytes, sync, resolve, reject, ...extra });
    });
  }

  private writeHost(): WriteQueueHost {
    return {
      accept: (r) => {
        // Nobody can conflict with it yet; but a transaction may begin before the group is published
        // (while it awaits its WAL sync): takeSnapshot records these then.
        if (this.tracker.openTransactions === 0) { this.unrecorded.push(r); return; }
        // Recorded at published + 1: above every open snapshot, which is all the check needs.
        this.tracker.record(this.published + 1, conflictKeysOf(r));
      },
      writeError: () => {
        if (this.closed && !this.closing) return new DatabaseClosedError();
        if (this.bgError) return new ReadOnlyError(`the database refuses writes after an earlier failure: ${this.bgError.message}`, { cause: this.bgError });
        return undefined;
      },
      makeRoom: (bytes) => this.makeRoom(bytes),
      lastSequence: () => this.published,
      appendToWal: (group, firstSeq, now) => {
        // Parts, not one array: a 100 MiB value is framed in place, never copied into a group buffer.
        const parts = this.encoder.encodeParts(group, firstSeq, now);
        try {
          this.wal!.appendGroupParts(parts);
          this.counters.walBytesWritten += this.encoder.byteLength;
        } finally {
          this.encoder.release(); // a large batch is referenced, not copied: do not pin it past the write
        }
      },
      syncWal: () => this.wal!.sync(),
      apply: (group, firstSeq) => {
        const m = this.mem.mem;
        let seq = firstSeq;
        for (const r of group) {
          walkOps(r.ops, 0, r.ops.length, r.count, (kind, key, value) => { m.add(seq++, kind, key, value); }, opsFail);
          this.counters.userBytesWritten += r.userBytes;
          this.counters.writes += r.count;
        }
        this.published = seq - 1;
        this.versions.lastSequence = this.published;
        this.unrecorded.length = 0;
      },
      onWalFailure: (e) => { this.unrecorded.length = 0; this.setBackgroundError(e, 'WAL write or sync failed'); },
      now: () => this.o.clock(),
    };
  }

  /** @internal A failed WAL/MANIFEST write or sync: refuse writes from now on (reads go on). */
  setBackgroundError(e: unknown, what: string): void {
    if (this.bgError) return;
    this.bgError = e instanceof Error ? e : new StrataError('ERR_INTERNAL', String(e));
    this.log.write(`ERROR ${what}: ${this.bgError.message}; the database is now read-only until reopened`);
  }

  /** Room for the next write group: write stalls (write-stall.ts), then a full memtable is switched. */
  private makeRoom(userBytes: number): MaybePromise<void> {
    return this.stall.check(userBytes) ?? this.makeRoomForMemtable();
  }

  private makeRoomForMemtable(): MaybePromise<void> {
    if (this.mem.mem.approximateMemoryUsage() < this.o.writeBufferSize) return undefined;
    if (this.imm.length >= this.o.maxWriteBufferNumber - 1) {
      const t0 = performance.now();
      return this.flusher.waitForProgress().then(() => { this.counters.stopMs += performance.now() - t0; });
    }
    return this.switchMemtable();
  }

  /**
   * Freezes the active memtable and starts a new WAL. Runs only where no write group is in flight:
   * in the write leader (makeRoom) or as exclusive work of the write queue (switchExclusive).
   * `force`: switch even an empty memtable (key rotation wants a WAL under the new key now).
   */
  private async switchMemtable(force = false): Promise<void> {
    if (this.mem.mem.entries === 0 && !force) return;
    const n = this.versions.newFileNumber();
    let wal: WalWriter;
    try {
      wal = await createWal(this.fs, this.location, n, this.keyRing);
    } catch (e) {
      this.setBackgroundError(e, `creating WAL ${n} failed`);
      throw e;
    }
    const old = this.wal;
    if (old) {
      // A WAL is fsynced when it rolls over, BEFORE the next one takes a write: only the newest WAL
      // may ever have a torn tail (a damaged older WAL is corruption at open). No group can append
      // meanwhile: the caller holds the write queue.
      try {
        await old.sync();
      } catch (e) {
        this.setBackgroundError(e, `sync of WAL ${old.logNumber} at rollover failed`);
        await wal.close().catch(() => undefined);
        throw e;
      }
    }
    const oldMem = this.mem;
    this.wal = wal;
    this.mem = { mem: new MemTable(), walNumber: n };
    this.imm.push(oldMem);
    this.log.write(`new WAL ${n}; memtable of ${oldMem.mem.entries} entries frozen`);
    if (old) this.retireWal(old);
    this.flusher.schedule();
  }

  /** A switch queued behind the writes submitted so far (flush, close, key rotation). */
  private switchExclusive(force = false): Promise<void> {
    return this.writer.exclusive(() => this.switchMemtable(force));
  }

  /**
   * Closes a rolled-over WAL and archives it, off the write path. Until the archive copy exists the
   * file is held back from deletion (retiringWals), even when its memtable is flushed first.
   */
  private retireWal(old: WalWriter): void {
    const n = old.logNumber;
    this.retiringWals.add(n);
    const done = (async () => {
      await old.close().catch((e: unknown) => this.log.write(`closing WAL ${n} failed: ${(e as Error).message}`));
      await this.archive(n);
    })().finally(() => {
      this.retiringWals.delete(n);
      this.retiring.delete(done);
      // Its flush may have finished first and skipped it: delete it now if nothing needs it.
      if (!this.closed) void this.deleteObsoleteFiles().catch(() => undefined);
    });
    this.retiring.add(done);
  }

  private archive(walNumber: number): Promise<void> {
    return archiveFinishedWal(this.fs, this.location, walNumber, this.o, this.log);
  }

  /** OPTIONS-NNNNNN: informational, so a failure is logged, never fatal. */
  private async writeOptions(): Promise<void> {
    try {
      await writeOptionsFile(this.fs, this.location, this.versions.newFileNumber(), describeOptions(this.o), this.keyRing);
    } catch (e) {
      this.log.write(`writing the OPTIONS file failed: ${(e as Error).message}`);
    }
  }

  /** The first WAL of a fresh open. */
  private async startNewWal(): Promise<void> {
    const n = this.versions.newFileNumber();
    try {
      this.wal = await createWal(this.fs, this.location, n, this.keyRing);
      this.mem = { mem: new MemTable(), walNumber: n };
      this.log.write(`new WAL ${n}`);
    } catch (e) {
      this.setBackgroundError(e, `creating WAL ${n} failed`);
      throw e;
    }
  }

  // ---------------------------------------------------------------- reads

  private readSequence(options: ReadOptions | undefined): number {
    return this.sequenceAt(optionsArg<ReadOptions>('read options', options, READ_OPTIONS)?.snapshot);
  }

  private sequenceAt(snapshot: Snapshot | undefined): number {
    return snapshot === undefined ? this.published : this.snapshots.check(snapshot).sequence;
  }

  /** @internal */ memtablesForRead(): MemTable[] {
    const out: MemTable[] = [];
    for (const e of this.imm) out.push(e.mem);
    out.push(this.mem.mem);
    return out;
  }

  get(key: Key, options?: ReadOptions): Promise<Buffer | undefined> {
    try {
      if (this.closed) throw new DatabaseClosedError();
      const k = keyArg('key', key);
      const seq = this.readSequence(options);
      const r = this.getInternal(k, seq);
      return r instanceof Promise ? r : resolveFair(r);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** @internal Synchronous when everything needed is in memory or the page cache. */
  getInternal(k: Uint8Array, seq: number): MaybePromise<Buffer | undefined> {
    const m = getFromMemtables(this.memtablesForRead(), k, seq);
    if (m !== undefined) return m ?? undefined;
    const version = this.versions.current();
    version.ref();
    let r: MaybePromise<Buffer | undefined>;
    try {
      r = getFromTables(version, this.tables, k, seq);
    } catch (e) {
      version.unref();
      throw e;
    }
    if (r instanceof Promise) return r.finally(() => version.unref());
    version.unref();
    return r;
  }

  async getMany(keys: Key[], options?: ReadOptions): Promise<(Buffer | undefined)[]> {
    if (this.closed) throw new DatabaseClosedError();
    if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array');
    const ks = keys.map((k, i) => keyArg(`keys[${i}]`, k));
    const seq = this.readSequence(options);
    const out: (Buffer | undefined)[] = new Array(ks.length);
    for (let i = 0; i < ks.length; i++) {
      const r = this.getInternal(ks[i]!, seq);
      out[i] = r instanceof Promise ? await r : r;
    }
    return out;
  }

  iterator(options?: IteratorOptions): StrataIterator<[Buffer, Buffer]> {
    return this.makeIterator(options, 'entries');
  }

  keys(options?: IteratorOptions): StrataIterator<Buffer> {
    return this.makeIterator(options, 'keys');
  }

  values(options?: IteratorOptions): StrataIterator<Buffer> {
    return this.makeIterator(options, 'values');
  }

  private makeIterator<T>(options: IteratorOptions | undefined, mode: IteratorMode): StrataIterator<T> {
    if (this.closed) throw new DatabaseClosedError();
    const o = optionsArg<IteratorOptions>('iterator options', options, ITERATOR_OPTIONS) ?? {};
    const bound = (name: 'gt' | 'gte' | 'lt' | 'lte'): Uint8Array | undefined =>
      o[name] === undefined ? undefined : keyArg(`options.${name}`, o[name]).slice();
    if (o.reverse !== undefined && typeof o.reverse !== 'boolean') throw new InvalidArgumentError('options.reverse must be a boolean');
    if (o.limit !== undefined && (typeof o.limit !== 'number' || Number.isNaN(o.limit))) {
      throw new InvalidArgumentError('options.limit must be a number (-1 or Infinity for no limit)');
    }
    const seq = this.sequenceAt(o.snapshot);
    const version = this.versions.current();
    version.ref();
    const source = buildIteratorSource(this.memtablesForRead(), version, this.tables);
    const it = new StrataIterator<T>(source, {
      snapshotSeq: seq,
      ...defined('gt', bound('gt')), ...defined('gte', bound('gte')),
      ...defined('lt', bound('lt')), ...defined('lte', bound('lte')),
      reverse: o.reverse === true,
      ...(o.limit === undefined ? {} : { limit: o.limit }),
    }, mode, (x) => this.iterators.delete(x as StrataIterator<unknown>));
    this.iterators.add(it as StrataIterator<unknown>);
    return it;
  }

  /** A point-in-time view for reads and iterators; release() it when done. */
  snapshot(): Snapshot {
    if (this.closed) throw new DatabaseClosedError();
    return this.snapshots.create(this.published);
  }

  /** @internal */ get snapshotCount(): number { return this.snapshots.size; }

  // ---------------------------------------------------------------- transactions

  /** Starts an optimistic transaction reading at a snapshot taken now. */
  beginTransaction(options?: TransactionOptions): Transaction {
    if (this.closed) throw new DatabaseClosedError();
    this.checkWritable();
    return new Transaction(this.txnHost(), optionsArg<TransactionOptions>('transaction options', options, TRANSACTION_OPTIONS));
  }

  /**
   * Runs fn in a transaction and commits it; on ERR_TXN_CONFLICT retries with a fresh snapshot up to
   * `retries` more times (default 3) after a jittered back-off. An exception inside fn rolls back and
   * rethrows. Resolves to fn's result.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T> | T, options: TransactionOptions & { retries?: number } = {}): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('transaction(fn): fn must be a function');
    optionsArg('transaction options', options, RUN_TRANSACTION_OPTIONS);
    const retries = options.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0) throw new InvalidArgumentError('options.retries must be a non-negative integer');
    for (let attempt = 0; ; attempt++) {
      const tx = this.beginTransaction({
        ...(options.isolation ? { isolation: options.isolation } : {}),
        ...(options.sync !== undefined ? { sync: options.sync } : {}),
      });
      try {
        const result = await fn(tx);
        await tx.commit();
        return result;
      } catch (e) {
        tx.rollback();
        if (!(e instanceof TransactionConflictError) || attempt >= retries) throw e;
        this.counters.txnRetries++;
        // Jittered exponential back-off, 0..2^attempt ms capped at 100 ms, so racing retries spread out.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
      }
    }
  }

  private txnHost(): TransactionHost {
    this.txnHostCache ??= makeTransactionHost(this);
    return this.txnHostCache;
  }
  private txnHostCache: TransactionHost | undefined;

  /** @internal live snapshot sequences, ascending (for compaction). */
  liveSnapshots(): number[] { return this.snapshots.sequences(); }

  // ---------------------------------------------------------------- maintenance

  /**
   * Key rotation (encryption at rest): from now on every new file uses the provider's current key id
   * (ask the provider to name a new one first). The WAL and the MANIFEST are rolled at once, so only
   * tables still hold the old key; compaction rewrites those in the background, as its lowest
   * priority work, or now and awaited with `{ rewrite: true }`. Resolves to the current key id and
   * the number of tables rewritten. stats().encryption.keyIdsInUse says which old keys are still needed.
   */
  async rotateKey(options?: { rewrite?: boolean }): Promise<{ keyId: string; rewritten: number }> {
    this.checkWritable();
    const rewrite = booleanArg('options.rewrite', optionsArg<{ rewrite?: boolean }>('rotateKey options', options, ROTATE_KEY_OPTIONS)?.rewrite) ?? false;
    const ring = this.keyRing;
    if (!ring) throw new InvalidArgumentError('rotateKey() needs a database opened with the encryption option');
    const id = ring.currentKeyId();
    await ring.keyFor(id);
    for (let i = 0; i < 3 && this.wal?.keyId !== id; i++) await this.switchExclusive(true);
    await this.versions.roll();
    this.log.write(`encryption: new files use key id ${JSON.stringify(id)}`);
    let rewritten = 0;
    if (rewrite) {
      // Background compactions may take some of them first (even during the flush, which can wait
      // for a job slot): count what was stale, not who rewrote it. The flush writes under the new key.
      this.versions.current().forEachFile((f) => { if (f.keyId !== id) rewritten++; });
      await this.flush();
      await this.compactions.rewriteStale();
      if (this.bgError) throw new ReadOnlyError(`rewriting tables failed: ${this.bgError.message}`, { cause: this.bgError });
      this.log.write(`encryption: rewrote ${rewritten} table(s) under key id ${JSON.stringify(id)}`);
    } else {
      this.compactions.maybeSchedule();
    }
    return { keyId: id, rewritten };
  }

  /** @internal */ get walKeyId(): string | undefined { return this.wal?.keyId; }

  /**
   * Writes the memtable (and any waiting immutable ones) to L0 tables, and waits. The memtable
   * frozen is the one holding every write submitted before this call.
   */
  async flush(): Promise<void> {
    this.checkWritable();
    await this.switchExclusive();
    await this.flusher.waitForAll();
    if (this.bgError) throw new ReadOnlyError(`flush failed: ${this.bgError.message}`, { cause: this.bgError });
  }

  /**
   * Compacts everything overlapping [start, end] (both optional, inclusive) down to the last level
   * holding data, and waits. Tombstones and shadowed versions in the range are dropped on the way.
   */
  async compactRange(start?: Key, end?: Key): Promise<void> {
    this.checkWritable();
    const lo = start === undefined ? undefined : keyArg('start', start).slice();
    const hi = end === undefined ? undefined : keyArg('end', end).slice();
    await this.flush();
    await this.compactions.compactRange(lo, hi);
    if (this.bgError) throw new ReadOnlyError(`compaction failed: ${this.bgError.message}`, { cause: this.bgError });
  }

  /** An openable copy of the database as of now, in `dir` (which must not exist or be empty). */
  async checkpoint(dir: string): Promise<CheckpointInfo> {
    if (this.closed) throw new DatabaseClosedError();
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError('checkpoint(dir): dir must be a non-empty string');
    const info = await createCheckpoint(this.backupSource(), dir);
    this.log.write(`checkpoint at sequence ${info.sequence} in ${dir}: ${info.files} tables (${info.linked} linked, ${info.copied} copied)`);
    return info;
  }

  /**
   * An incremental backup into `backupDir` at one point in time, while writes go on. Tables the
   * directory already holds are not copied again. BackupEngine.open(backupDir) lists, verifies,
   * restores and purges.
   */
  async backup(backupDir: string, options?: BackupOptions): Promise<BackupInfo & { bytesCopied: number }> {
    if (this.closed) throw new DatabaseClosedError();
    optionsArg('backup options', options, BACKUP_OPTIONS);
    const engine = await BackupEngine.open(backupDir, { fs: this.fs, ...(this.keyRing ? { keys: this.keyRing } : {}) });
    const info = await engine.create(this.backupSource(), options);
    await engine.collectGarbage();
    this.log.write(`backup ${info.id} at sequence ${info.sequence} in ${backupDir}: ${info.files} tables, ${info.bytesCopied} bytes copied`);
    return info;
  }

  private backupSource(): BackupSource {
    return makeBackupSource(this);
  }

  /**
   * Reads every block of every live table and checks its checksum. With `onCorruption`, every table
   * is checked and each damaged one reported to it (the call then resolves); without, the first rejects.
   */
  async verifyChecksums(options?: { onCorruption?: (e: CorruptionError) => void }): Promise<void> {
    if (this.closed) throw new DatabaseClosedError();
    const onCorruption = optionsArg<{ onCorruption?: (e: CorruptionError) => void }>('verifyChecksums options', options, VERIFY_OPTIONS)?.onCorruption;
    if (onCorruption !== undefined && typeof onCorruption !== 'function') throw new InvalidArgumentError('options.onCorruption must be a function');
    const version = this.versions.current();
    version.ref();
    try {
      await verifyTables(this.fs, this.location, version, this.tables, onCorruption);
    } finally {
      version.unref();
    }
  }

  /**
   * Read-only DBs: moves the view forward to what the writer process has written since (re-reads
   * CURRENT, the MANIFEST and the WAL tail), atomically: later reads and iterators see the new state,
   * iterators already open keep theirs. Rejects with ERR_BUSY (the old view kept) when the writer
   * kept changing the files; a retry later usually succeeds.
   */
  tryCatchUpWithPrimary(): Promise<void> {
    if (this.closed) return Promise.reject(new DatabaseClosedError());
    const reader = this.reader;
    if (!reader) return Promise.reject(new InvalidArgumentError('tryCatchUpWithPrimary() is for a database opened with readOnly: true'));
    return reader.catchUp(this.versions, this.tables, (state) => {
      this.imm = state.memtables;
      this.mem = { mem: new MemTable(), walNumber: 0 };
      this.published = state.lastSequence;
    });
  }

  stats(): DBStats {
    if (this.closed) throw new DatabaseClosedError();
    return buildStats(this);
  }

  /** @internal */ get lastSequence(): number { return this.published; }
  /** @internal */ get blockCacheStats(): LruCache | undefined { return this.blockCache; }

  /** @internal Deletes files nothing refers to (our own names only); resolves after a fresh pass. */
  deleteObsoleteFiles(): Promise<void> {
    return this.fileGc.collect();
  }

  /** Closes the database: waits for writes and background work; idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      // Every step runs even when an earlier one fails (the LOCK must always be released); the first
      // failure is reported once everything is let go.
      let first: unknown;
      const step = async (f: () => Promise<unknown> | unknown): Promise<void> => {
        try { await f(); } catch (e) { first ??= e; }
      };
      await step(() => this.writer.whenIdle());
      // Flush at close (RocksDB's default): the next open then replays no WAL and costs O(manifest).
      // The switch queues behind every write accepted before close(), like any other switch.
      if (!this.o.readOnly && !this.bgError && this.o.flushOnClose) {
        await step(async () => {
          await this.switchExclusive();
          await this.flusher.waitForAll();
          // The data is safe in its WAL, but the caller must hear that the flush failed.
          if (this.bgError) throw new ReadOnlyError(`flush at close failed: ${this.bgError.message}`, { cause: this.bgError });
        });
      }
      await step(() => this.flusher.stop());
      await step(() => this.compactions.stop());
      await step(() => this.jobs.stop());
      await step(() => this.executor.close());
      for (const it of [...this.iterators]) await step(() => it.close());
      await step(() => Promise.all(this.retiring));
      const wal = this.wal;
      if (wal) {
        await step(() => wal.sync());
        await step(() => wal.close());
        // An unused WAL holds nothing: remove it rather than leave one empty log per open.
        if (wal.size > 0) await step(() => this.archive(wal.logNumber));
        else await step(() => removeEmptyWal(this.fs, this.location, wal.logNumber));
      }
      if (!this.o.readOnly && !this.bgError) await step(() => this.deleteObsoleteFiles());
      await step(() => this.fileGc.stop());
      await step(() => this.tables.close());
      await step(() => this.reader?.close());
      await step(() => this.versions.close());
      this.log.write(first ? `closed with an error: ${(first as Error).message}` : 'closed');
      await step(() => this.log.close());
      await step(() => this.lock?.release());
      if (first) throw first;
    })();
    return this.closing;
  }

  /** @internal */ get isClosed(): boolean { return this.closed; }
  /** @internal */ get backgroundError(): Error | undefined { return this.bgError; }
  /** @internal */ get fileSystem(): FileSystem { return this.fs; }
}

const EMPTY = new Uint8Array(0);

/** @internal The keys a write request writes, packed (for the conflict tracker; decoded only when needed). */
export function conflictKeysOf(r: WriteRequest): KeySet {
  return r.conflictKeys ?? keySetOfOps(r.ops, r.count, opsFail);
}

function opsFail(offset: number, detail: string): never {
  throw new InternalError(`encoded operations malformed at ${offset}: ${detail}`);
}

function defined<K extends string>(k: K, v: Uint8Array | undefined): { [P in K]?: Uint8Array } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: Uint8Array };
}

/** The encryption key ids the tables of `v` use (a plain table has none). */
function keyIdsOf(v: Version): Set<string> {
  const ids = new Set<string>();
  v.forEachFile((f) => { if (f.keyId !== undefined) ids.add(f.keyId); });
  return ids;
}
