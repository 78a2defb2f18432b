/**
 * The engine: its state and the collaborators that change it, wired together. The DB facade
 * (src/db.ts) checks arguments and calls in here; nothing below imports the facade.
 *
 * Who owns what (ARCHITECTURE.md has the map):
 * - memtable-set.ts: the active and immutable memtables, the WAL writer, the switch between them;
 * - write-path.ts + write-queue.ts: group commit, the published sequence, transaction conflict records;
 * - write-stall.ts: slowdowns and stops while L0 piles up;
 * - flush-scheduler.ts, compaction/ (through compaction-host.ts): the background jobs;
 * - file-gc.ts (through file-gc-host.ts): the one obsolete-file rule and the deletions;
 * - read-path.ts, iterator-source.ts: point reads and the sources behind iterators;
 * - recovery.ts, reader-view.ts: open, and a read-only view beside a live writer;
 * - background-error.ts: the sticky failure that turns the engine read-only;
 * - engine-events.ts: the events the DB emits (flush, compaction, stall, background-error, close).
 * This file keeps the order of the steps that span several of them: open, key rotation, close.
 * Main thread only.
 */
import type { Buffer } from 'node:buffer';
import * as path from 'node:path';
import type { MaybePromise } from '../base/internal-iterator.js';
import { DatabaseClosedError, InvalidArgumentError, ReadOnlyError, type CorruptionError } from '../errors.js';
import type { FileLock, FileSystem } from '../fs/file-system.js';
import { NodeFileSystem } from '../fs/node-fs.js';
import { describeOptions, type ResolvedOptions } from '../options.js';
import { tableOptionsFor } from '../table/table-options.js';
import type { VersionSet } from '../manifest/version-set.js';
import type { Version } from '../manifest/version.js';
import { lockFileName } from '../manifest/file-names.js';
import { SnapshotList, type Snapshot } from '../mvcc/snapshot-list.js';
import type { Transaction, TransactionHost } from '../mvcc/transaction.js';
import { makeJitter, type Jitter } from '../base/jitter.js';
import { copyBytes } from '../base/bytes.js';
import { KeyRing } from '../encryption/keyring.js';
import { LruCache } from '../cache/lru-cache.js';
import { TableCache } from '../cache/table-cache.js';
import { StrataIterator, type IteratorMode } from '../iterator/strata-iterator.js';
import type { DBIteratorOptions } from '../iterator/db-iterator.js';
import { CompactionScheduler } from '../../compaction/scheduler.js';
import { BackgroundJobQueue } from '../../compaction/job-queue.js';
import type { CompactionExecutor } from '../../compaction/executor.js';
import type { FlushParams } from '../../compaction/flush-job.js';
import { createCheckpoint, type CheckpointInfo } from '../backup/checkpoint.js';
import { refuseInProgress } from '../backup/in-progress.js';
import { BackupEngine, type BackupInfo, type BackupOptions } from '../backup/backup-engine.js';
import { EventLog } from './event-log.js';
import { BackgroundError } from './background-error.js';
import { EngineEvents } from './engine-events.js';
import { MemtableSet, type MemTableEntry } from './memtable-set.js';
import { WritePath } from './write-path.js';
import { WriteStall } from './write-stall.js';
import { FlushScheduler } from './flush-scheduler.js';
import { IdleTrigger } from '../../compaction/idle-trigger.js';
import { recoverDatabase } from './recovery.js';
import { ReaderView } from './reader-view.js';
import { COPY_VALUE, PRESENT, getFromMemtables, getFromTables, memtablesCover, type Found } from './read-path.js';
import { buildIteratorSource } from './iterator-source.js';
import { StatsCounters, buildStats, type DBStats } from './stats.js';
import { verifyTables } from './verify.js';
import { approximateMemtableBytes, approximateTableBytes } from './approximate-size.js';
import { propertyOf } from './properties.js';
import { writeOptionsFile } from './options-file.js';
import { archiveLeftoverWals, removeEmptyWalsBelow } from './wal-files.js';
import { chooseCompactionExecutor, makeCompactionExecutor, type ExecutorChoice } from './compaction-executor.js';
import { makeCompactionHost, stallCount } from './compaction-host.js';
import { runTransaction, type RunPlan } from './transaction-runner.js';
import { makeTransactionHost } from './transaction-host.js';
import { makeBackupSource } from './backup-source.js';
import { ObsoleteFileScheduler } from './file-gc.js';
import { makeObsoleteFileHost } from './file-gc-host.js';
import { WalRecycler } from './wal-recycler.js';
import { WalPins } from './wal-pins.js';
import { WalUpdatesIterator } from './wal-tail.js';

export class Engine {
  /** The DB facade attaches itself here as the emitter (engine-events.ts). */
  readonly events = new EngineEvents();
  readonly failure: BackgroundError;
  readonly memtables: MemtableSet;
  readonly writes: WritePath;
  readonly snapshots = new SnapshotList(this);
  readonly iterators = new Set<StrataIterator<unknown>>();
  readonly blockCache: LruCache | undefined;
  readonly tables: TableCache;
  readonly counters = new StatsCounters();
  readonly jobs: BackgroundJobQueue;
  readonly flusher: FlushScheduler;
  readonly compactions: CompactionScheduler;
  readonly executor: CompactionExecutor;
  /** Compacts a short L0 down once writes go quiet (compaction/idle-trigger.ts). */
  readonly idleTrigger: IdleTrigger;
  readonly stall: WriteStall;
  /** File numbers of tables being written: never obsolete while listed. */
  readonly pendingOutputs = new Set<number>();
  /** Deletes obsolete files when the last reference to them drops, and after background jobs. */
  readonly fileGc: ObsoleteFileScheduler;
  /** Read-only opens: the pinned view beside a live writer. */
  private reader: ReaderView | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private txnHostCache: TransactionHost | undefined;
  /** Spreads transaction retries; seeded from the injected clock, never Math.random. */
  private readonly jitter: Jitter;
  /** Obsolete WAL files kept for reuse (recycleLogFileNum; wal-recycler.ts). */
  readonly walRecycler: WalRecycler;
  /** WALs held for readers of the log (getUpdatesSince), and those readers. */
  readonly walPins = new WalPins(() => { if (!this.closed) this.fileGc.schedule(); });
  private readonly walReaders = new Set<WalUpdatesIterator>();

  private constructor(
    readonly location: string,
    readonly o: ResolvedOptions,
    readonly fs: FileSystem,
    readonly versions: VersionSet,
    readonly log: EventLog,
    private readonly lock: FileLock | undefined,
    recovered: MemTableEntry[],
    lastSequence: number,
    /** Encryption at rest (undefined: off). */ readonly keyRing: KeyRing | undefined,
    executorChoice: ExecutorChoice,
  ) {
    this.failure = new BackgroundError((line) => log.write(line), (error, reason) => {
      if (this.events.listening('background-error')) this.events.emit('background-error', { error, readOnly: true, reason });
    });
    this.jitter = makeJitter(o.clock());
    this.walRecycler = new WalRecycler(o.readOnly ? 0 : o.recycleLogFileNum);
    this.blockCache = o.cacheSize > 0 ? new LruCache(o.cacheSize) : undefined;
    this.tables = new TableCache(fs, location, {
      blockCache: this.blockCache,
      maxOpenFiles: o.maxOpenFiles, metadataBudget: o.tableMetadataBudget,
      syncReads: true,
      ...(keyRing ? { keys: keyRing } : {}),
    });
    this.fileGc = new ObsoleteFileScheduler(makeObsoleteFileHost(this));
    this.memtables = new MemtableSet({
      fs, dir: location, o, keys: keyRing, log, failure: this.failure, recycler: this.walRecycler,
      newFileNumber: () => versions.newFileNumber(),
      onFrozen: () => this.flusher.schedule(),
      onWalRetired: () => { if (!this.closed) void this.deleteObsoleteFiles().catch(() => undefined); },
      isWalPinned: (n) => this.walPins.holds(n),
    }, recovered);
    this.jobs = new BackgroundJobQueue(o.maxBackgroundJobs);
    this.flusher = new FlushScheduler({
      memtables: this.memtables, versions, tables: this.tables, failure: this.failure,
      counters: this.counters, log, events: this.events, pendingOutputs: this.pendingOutputs,
      buildTable: async (fileNumber, mem) => {
        let encryption: FlushParams['encryption'];
        if (keyRing) {
          const id = keyRing.currentKeyId();
          await keyRing.keyFor(id);
          encryption = { currentKeyId: id, keys: keyRing.snapshot([id]), allowPlaintext: keyRing.allowPlaintext };
        }
        return this.executor.flush({
          dir: location, fileNumber, table: tableOptionsFor(o, 0), creationTimeMs: o.clock(), snapshots: this.snapshots.sequences(), mem,
          ...(encryption ? { encryption } : {}),
        });
      },
      afterFlush: async () => {
        await this.deleteObsoleteFiles().catch((e: unknown) => log.write(`deleting obsolete files failed: ${(e as Error).message}`));
        this.compactions.maybeSchedule();
        this.idleTrigger.arm();
      },
    }, this.jobs);
    // Flushes run in the pool too: one worker per job slot, flush slot included.
    this.executor = makeCompactionExecutor(executorChoice, fs, this.jobs.concurrency * o.maxSubcompactions, o, (line) => log.write(line));
    this.compactions = new CompactionScheduler(makeCompactionHost(this), this.executor, this.jobs);
    this.idleTrigger = new IdleTrigger(o.readOnly ? 0 : o.idleCompactionDelayMs,
      () => this.compactions.requestIdleCompaction(o.idleCompactionL0Files));
    this.stall = new WriteStall(o, {
      l0Files: () => stallCount(o, this.versions.current().levels),
      stopped: () => this.failure.error !== undefined,
      compactions: this.compactions,
      counters: this.counters,
      events: this.events,
    });
    this.writes = new WritePath({
      o, memtables: this.memtables, failure: this.failure, stall: this.stall, counters: this.counters,
      closed: () => this.closed && !this.closing,
      waitForFlush: () => this.flusher.waitForProgress(),
      onPublished: (seq) => { versions.lastSequence = seq; this.idleTrigger.noteWrite(); },
    }, lastSequence);
  }

  /** Opens (or creates) the database in `dir`; `o` is already validated. */
  static async open(dir: string, o: ResolvedOptions): Promise<Engine> {
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
      const engine = new Engine(location, o, fs, rec.versions, log, lock, rec.memtables, rec.lastSequence, keys, executorChoice);
      fileGc = engine.fileGc;
      if (opened) {
        engine.reader = opened.view;
        engine.tables.usePins(opened.view.pins);
      }
      if (!o.readOnly) {
        await archiveLeftoverWals(fs, location, o, log);
        await engine.memtables.start();
        await removeEmptyWalsBelow(fs, location, engine.memtables.currentWal!.logNumber, log);
        await engine.writeOptions();
        await engine.deleteObsoleteFiles();
        engine.flusher.schedule();
        engine.compactions.maybeSchedule();
        engine.idleTrigger.arm(); // L0 left by an earlier session
      }
      // Open the live tables in the background: open() itself stays O(manifest + WAL tail).
      const live: number[] = [];
      engine.versions.current().forEachFile((f) => live.push(f.fileNumber));
      void engine.tables.warm(live);
      log.write(`opened ${location} ${rec.created ? '(created)' : ''} in ${(performance.now() - t0).toFixed(1)} ms: ` +
        `last sequence ${rec.lastSequence}, ${rec.memtables.length} recovered memtable(s)`);
      return engine;
    } catch (e) {
      log.write(`open failed: ${(e as Error).message}`);
      await log.close();
      await opened?.view.close().catch(() => undefined);
      await lock?.release().catch(() => undefined);
      throw e;
    }
  }

  get isClosed(): boolean { return this.closed; }
  get lastSequence(): number { return this.writes.lastSequence(); }

  /** Throws when writes are refused: closed, opened read-only, or after a failure. */
  checkWritable(): void {
    if (this.closed) throw new DatabaseClosedError();
    if (this.o.readOnly) throw new ReadOnlyError('the database was opened read-only');
    const refused = this.failure.refusal();
    if (refused) throw refused;
  }

  // ---------------------------------------------------------------- reads

  /** The read sequence of `snapshot` (checked to be one of ours and live), or the published one. */
  sequenceAt(snapshot: Snapshot | undefined): number {
    return snapshot === undefined ? this.writes.lastSequence() : this.snapshots.check(snapshot).sequence;
  }

  /** A point read at `seq`; synchronous when everything needed is in memory or the page cache. */
  get(k: Uint8Array, seq: number): MaybePromise<Buffer | undefined> {
    return this.lookup(k, seq, COPY_VALUE);
  }

  /** Whether `k` has a value at `seq`, found as get() finds it but without copying the value. */
  has(k: Uint8Array, seq: number): MaybePromise<boolean> {
    const r = this.lookup(k, seq, PRESENT);
    return r instanceof Promise ? r.then((v) => v === true) : r === true;
  }

  private lookup<T>(k: Uint8Array, seq: number, found: Found<T>): MaybePromise<T | undefined> {
    const m = getFromMemtables(this.memtables.forGet(), k, seq, found);
    if (m !== undefined) return m ?? undefined;
    const cover = memtablesCover();
    const version = this.versions.current();
    version.ref();
    let r: MaybePromise<T | undefined>;
    try {
      r = getFromTables(version, this.tables, k, seq, cover, found);
    } catch (e) {
      version.unref();
      throw e;
    }
    if (r instanceof Promise) return r.finally(() => version.unref());
    version.unref();
    return r;
  }

  /**
   * An iterator over the current state; it releases its Version when it ends or closes.
   * `sharedPrefix`: bytes every key within the bounds starts with. A table whose filter holds prefixes
   * of a length it covers, and lacks its own, is skipped; each table answers by the prefix length it
   * was written with, so tables from before a change of option prefixLength keep being skipped.
   */
  newIterator<T>(options: DBIteratorOptions, mode: IteratorMode, sharedPrefix?: Uint8Array): StrataIterator<T> {
    const version = this.versions.current();
    version.ref();
    const probe = sharedPrefix !== undefined && sharedPrefix.length > 0 ? copyBytes(sharedPrefix) : undefined;
    const source = buildIteratorSource(this.memtables.forRead(), version, this.tables, options.snapshotSeq, probe);
    const it = new StrataIterator<T>(source, options, mode, (x) => this.iterators.delete(x as StrataIterator<unknown>));
    this.iterators.add(it as StrataIterator<unknown>);
    return it;
  }

  snapshot(): Snapshot {
    return this.snapshots.create(this.writes.lastSequence());
  }

  /** See DB.getUpdatesSince: the batches from `from` (>= 1) up to the sequence published now (wal-tail.ts). */
  updatesSince(from: number, signal: AbortSignal | undefined): WalUpdatesIterator {
    const readOnly = this.o.readOnly;
    const it = new WalUpdatesIterator({
      fs: this.fs, dir: this.location, archiveDir: this.o.walArchiveDir, keys: this.keyRing,
      pins: readOnly ? undefined : this.walPins,
      isRecycled: (n) => this.walRecycler.holds(n),
      gcIdle: () => this.fileGc.whenIdle(),
      isClosed: () => this.closed,
    }, from, this.writes.lastSequence(), signal, (x) => this.walReaders.delete(x));
    this.walReaders.add(it);
    return it;
  }

  transactionHost(): TransactionHost {
    this.txnHostCache ??= makeTransactionHost(this);
    return this.txnHostCache;
  }

  /** db.transaction(): see transaction-runner.ts. */
  runTransaction<T>(fn: (tx: Transaction) => Promise<T> | T, plan: RunPlan): Promise<T> {
    return runTransaction(this, this.jitter, fn, plan);
  }

  // ---------------------------------------------------------------- maintenance

  /** Key rotation: see DB.rotateKey. Resolves to the current key id and the tables rewritten. */
  async rotateKey(ring: KeyRing, rewrite: boolean): Promise<{ keyId: string; rewritten: number }> {
    const id = ring.currentKeyId();
    await ring.keyFor(id);
    for (let i = 0; i < 3 && this.memtables.walKeyId !== id; i++) await this.switchExclusive(true);
    await this.versions.roll();
    this.log.write(`encryption: new files use key id ${JSON.stringify(id)}`);
    let rewritten = 0;
    if (rewrite) {
      // Background compactions may take some of them first (even during the flush, which can wait
      // for a job slot): count what was stale, not who rewrote it. The flush writes under the new key.
      this.versions.current().forEachFile((f) => { if (f.keyId !== id) rewritten++; });
      await this.flush();
      await this.compactions.rewriteStale();
      this.throwIfFailed('rewriting tables failed');
      this.log.write(`encryption: rewrote ${rewritten} table(s) under key id ${JSON.stringify(id)}`);
    } else {
      this.compactions.maybeSchedule();
    }
    return { keyId: id, rewritten };
  }

  /** Freezes the memtable holding every write submitted so far, and waits for every flush. */
  async flush(): Promise<void> {
    await this.switchExclusive();
    await this.flusher.waitForAll();
    this.throwIfFailed('flush failed');
  }

  async compactRange(lo: Uint8Array | undefined, hi: Uint8Array | undefined): Promise<void> {
    await this.flush();
    await this.compactions.compactRange(lo, hi);
    this.throwIfFailed('compaction failed');
  }

  async checkpoint(dir: string): Promise<CheckpointInfo> {
    const info = await createCheckpoint(makeBackupSource(this), dir);
    this.log.write(`checkpoint at sequence ${info.sequence} in ${dir}: ${info.files} tables (${info.linked} linked, ${info.copied} copied)`);
    return info;
  }

  async backup(backupDir: string, options: BackupOptions | undefined): Promise<BackupInfo & { bytesCopied: number }> {
    const engine = await BackupEngine.open(backupDir, { fs: this.fs, ...(this.keyRing ? { keys: this.keyRing } : {}) });
    const info = await engine.create(makeBackupSource(this), options);
    await engine.collectGarbage();
    this.log.write(`backup ${info.id} at sequence ${info.sequence} in ${backupDir}: ${info.files} tables, ${info.bytesCopied} bytes copied`);
    return info;
  }

  async verifyChecksums(onCorruption: ((e: CorruptionError) => void) | undefined): Promise<void> {
    const version = this.versions.current();
    version.ref();
    try {
      await verifyTables(this.fs, this.location, version, this.tables, onCorruption);
    } finally {
      version.unref();
    }
  }

  /** Read-only opens: moves the view forward to what the writer has written since. */
  tryCatchUpWithPrimary(): Promise<void> {
    const reader = this.reader;
    if (!reader) return Promise.reject(new InvalidArgumentError('tryCatchUpWithPrimary() is for a database opened with readOnly: true'));
    return reader.catchUp(this.versions, this.tables, (state) => {
      this.memtables.replace(state.memtables);
      this.writes.setPublished(state.lastSequence);
    });
  }

  stats(): DBStats { return buildStats(this); }

  /** See DB.getProperty: read off stats(). */
  getProperty(name: string): string | undefined { return propertyOf(this.stats(), name); }

  /** Bytes of [start, end): tables by their indexes, memtables by their entries (approximate-size.ts). */
  async approximateSize(start: Uint8Array, end: Uint8Array): Promise<number> {
    const mem = approximateMemtableBytes(this.memtables.forRead(), start, end);
    const version = this.versions.current();
    version.ref();
    try {
      return mem + await approximateTableBytes(version, this.tables, start, end);
    } finally {
      version.unref();
    }
  }

  /** Deletes files nothing refers to (our own names only); resolves after a fresh pass. */
  deleteObsoleteFiles(): Promise<void> {
    return this.fileGc.collect();
  }

  /** Closes: waits for writes and background work, then lets everything go; idempotent. */
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
      await step(() => this.writes.queue.whenIdle());
      // Flush at close (RocksDB's default): the next open then replays no WAL and costs O(manifest).
      // The switch queues behind every write accepted before close(), like any other switch.
      if (!this.o.readOnly && !this.failure.error && this.o.flushOnClose) {
        await step(async () => {
          await this.switchExclusive();
          await this.flusher.waitForAll();
          // The data is safe in its WAL, but the caller must hear that the flush failed.
          this.throwIfFailed('flush at close failed');
        });
      }
      this.idleTrigger.stop();
      await step(() => this.flusher.stop());
      await step(() => this.compactions.stop());
      await step(() => this.jobs.stop());
      await step(() => this.executor.close());
      for (const it of [...this.iterators]) await step(() => it.close());
      for (const r of [...this.walReaders]) await step(() => r.close());
      await this.memtables.close(step);
      if (!this.o.readOnly && !this.failure.error) await step(() => this.deleteObsoleteFiles());
      await step(() => this.fileGc.stop());
      await step(() => this.tables.close());
      await step(() => this.reader?.close());
      await step(() => this.versions.close());
      this.log.write(first ? `closed with an error: ${(first as Error).message}` : 'closed');
      await step(() => this.log.close());
      await step(() => this.lock?.release());
      // Last, once everything is let go: a 'close' listener may reopen the directory.
      this.events.close();
      if (first) throw first;
    })();
    return this.closing;
  }

  /** A switch queued behind the writes submitted so far (flush, close, key rotation). */
  private switchExclusive(force = false): Promise<void> {
    return this.writes.queue.exclusive(() => this.memtables.switch(force));
  }

  private throwIfFailed(what: string): void {
    const refused = this.failure.refusal(what);
    if (refused) throw refused;
  }

  /** OPTIONS-NNNNNN: informational, so a failure is logged, never fatal. */
  private async writeOptions(): Promise<void> {
    try {
      await writeOptionsFile(this.fs, this.location, this.versions.newFileNumber(), describeOptions(this.o), this.keyRing);
    } catch (e) {
      this.log.write(`writing the OPTIONS file failed: ${(e as Error).message}`);
    }
  }
}

/** The encryption key ids the tables of `v` use (a plain table has none). */
function keyIdsOf(v: Version): Set<string> {
  const ids = new Set<string>();
  v.forEachFile((f) => { if (f.keyId !== undefined) ids.add(f.keyId); });
  return ids;
}
