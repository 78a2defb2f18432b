/**
 * The DB facade (DESIGN.md "Public API"): the public methods, each checking its arguments (keys,
 * values, option names and types: bad input is ERR_INVALID_ARGUMENT and changes nothing), then
 * calling the engine (src/engine/engine.ts), which holds every piece of state. Lifecycle: open()
 * validates the options and opens the engine; close() closes it, once.
 * Promise-returning methods never throw synchronously: they reject. Synchronous methods throw.
 * Events: the DB is a Node EventEmitter typed by DBEventMap; the engine emits through
 * engine-events.ts (README "Events").
 * Main thread only.
 */
import type { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { booleanArg, describe, keyArg, limitArg, optionsArg } from './base/arguments.js';
import { copyBytes } from './base/bytes.js';
import { ValueKind } from './base/internal-key.js';
import {
  DatabaseClosedError, InvalidArgumentError, NotSupportedError, TooLargeError,
  type CorruptionError,
} from './errors.js';
import { validateOptions, type Options } from './options.js';
import { WriteBatch } from './wal/write-batch.js';
import type { Snapshot } from './mvcc/snapshot-list.js';
import { Transaction, type TransactionOptions } from './mvcc/transaction.js';
import { planRun, type RunTransactionOptions } from './engine/transaction-runner.js';
import type { StrataIterator, IteratorMode } from './iterator/strata-iterator.js';
import type { CheckpointInfo } from './backup/checkpoint.js';
import type { BackupInfo, BackupOptions } from './backup/backup-engine.js';
import { Engine } from './engine/engine.js';
import type { DBStats } from './engine/stats.js';
import { resolveFair } from './base/yield-guard.js';
import { destroyDatabase, type DestroyResult } from './engine/destroy.js';
import { repairDatabase, type RepairReport } from './engine/repair.js';
import { compareBytes } from './base/bytes.js';
import { abortable, signalArg, throwIfAborted } from './base/abort.js';
import type { WalUpdatesIterator } from './engine/wal-tail.js';
import type { DBEventMap } from './engine/engine-events.js';
import { intersectPrefix, sharedPrefixOf, type RangeBounds } from './base/prefix-bounds.js';
import { ingestExternalFiles, type IngestOptions, type IngestResult } from './engine/ingest.js';
import { makeIngestHost } from './engine/ingest-host.js';

import {
  type Key, type WriteOptions, type ReadOptions, type IteratorOptions, type UpdatesOptions,
  WRITE_OPTIONS, READ_OPTIONS, ITERATOR_OPTIONS, TRANSACTION_OPTIONS, RUN_TRANSACTION_OPTIONS, BACKUP_OPTIONS, ROTATE_KEY_OPTIONS, VERIFY_OPTIONS, DESTROY_OPTIONS, UPDATES_OPTIONS, INGEST_OPTIONS,
} from './call-options.js';

export type { Key, WriteOptions, ReadOptions, IteratorOptions, UpdatesOptions } from './call-options.js';

const EMPTY = new Uint8Array(0);

/**
 * Events (`db.on('flush', (e) => …)`, typed by DBEventMap): 'flush', 'compaction', 'stall' (each a
 * begin and an end), 'background-error', 'close'; a listener that throws is reported as 'error'.
 */
export class DB extends EventEmitter<DBEventMap> {
  private constructor(/** @internal */ readonly engine: Engine) {
    super();
    engine.events.attach(this);
  }

  /** The directory, as an absolute path. */
  get location(): string { return this.engine.location; }

  /** Opens (or creates) the database in `dir`. */
  static async open(dir: string, options?: Options): Promise<DB> {
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError('dir must be a non-empty string');
    return new DB(await Engine.open(dir, validateOptions(options)));
  }

  // ---------------------------------------------------------------- writes

  put(key: Key, value: Key, options?: WriteOptions): Promise<void> {
    try {
      const k = keyArg('key', key);
      const v = keyArg('value', value);
      const sync = writeSync(options);
      this.checkSizes(k, v);
      this.engine.checkWritable();
      return this.engine.writes.submitSingle(ValueKind.Put, k, v, sync);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  delete(key: Key, options?: WriteOptions): Promise<void> {
    try {
      const k = keyArg('key', key);
      const sync = writeSync(options);
      this.checkSizes(k, undefined);
      this.engine.checkWritable();
      return this.engine.writes.submitSingle(ValueKind.Delete, k, EMPTY, sync);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Deletes every key in [start, end) (half-open, as RocksDB's DeleteRange) with one range tombstone:
   * O(1) writes whatever the range holds. start >= end is ERR_INVALID_ARGUMENT and writes nothing.
   */
  deleteRange(start: Key, end: Key, options?: WriteOptions): Promise<void> {
    try {
      const batch = new WriteBatch().deleteRange(start, end);
      const sync = writeSync(options);
      if (batch.maxKeyLength > this.engine.o.maxKeySize) {
        throw new TooLargeError(`a range key is ${batch.maxKeyLength} bytes, over maxKeySize (${this.engine.o.maxKeySize})`);
      }
      this.engine.checkWritable();
      return this.engine.writes.submit(copyBytes(batch.encodedOps()), batch.length, batch.byteLength, sync);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Applies every operation of `batch` atomically, or none. */
  write(batch: WriteBatch, options?: WriteOptions): Promise<void> {
    try {
      if (!(batch instanceof WriteBatch)) throw new InvalidArgumentError('batch must be a WriteBatch');
      const sync = writeSync(options);
      const o = this.engine.o;
      if (batch.maxKeyLength > o.maxKeySize) {
        throw new TooLargeError(`a key in the batch is ${batch.maxKeyLength} bytes, over maxKeySize (${o.maxKeySize})`);
      }
      if (batch.maxValueLength > o.maxValueSize) {
        throw new TooLargeError(`a value in the batch is ${batch.maxValueLength} bytes, over maxValueSize (${o.maxValueSize})`);
      }
      this.engine.checkWritable();
      if (batch.length === 0) return Promise.resolve();
      return this.engine.writes.submit(copyBytes(batch.encodedOps()), batch.length, batch.byteLength, sync);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private checkSizes(k: Uint8Array, v: Uint8Array | undefined): void {
    const o = this.engine.o;
    if (k.length > o.maxKeySize) throw new TooLargeError(`key is ${k.length} bytes, over maxKeySize (${o.maxKeySize})`);
    if (v && v.length > o.maxValueSize) throw new TooLargeError(`value is ${v.length} bytes, over maxValueSize (${o.maxValueSize})`);
  }

  // ---------------------------------------------------------------- reads

  get(key: Key, options?: ReadOptions): Promise<Buffer | undefined> {
    try {
      this.checkOpen();
      const k = keyArg('key', key);
      const { seq, signal } = this.readArgs('get()', options);
      const r = this.engine.get(k, seq);
      return r instanceof Promise ? abortable('get()', r, signal) : resolveFair(r);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Whether `key` has a value (at the snapshot, if given), found as get() finds it (memtables, then
   * each table's bloom filter and index before its data block) but without copying the value.
   */
  has(key: Key, options?: ReadOptions): Promise<boolean> {
    try {
      this.checkOpen();
      const k = keyArg('key', key);
      const { seq, signal } = this.readArgs('has()', options);
      const r = this.engine.has(k, seq);
      return r instanceof Promise ? abortable('has()', r, signal) : resolveFair(r);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** has() for many keys at once, in the order asked; every lookup starts before any is awaited. */
  async hasMany(keys: Key[], options?: ReadOptions): Promise<boolean[]> {
    this.checkOpen();
    if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array');
    const ks = keys.map((k, i) => keyArg(`keys[${i}]`, k));
    const { seq, signal } = this.readArgs('hasMany()', options);
    const out: boolean[] = new Array(ks.length);
    let waits: Promise<void>[] | undefined;
    for (let i = 0; i < ks.length; i++) {
      const r = this.engine.has(ks[i]!, seq);
      if (r instanceof Promise) (waits ??= []).push(r.then((v) => { out[i] = v; }));
      else out[i] = r;
    }
    if (waits) await abortable('hasMany()', Promise.all(waits), signal);
    return out;
  }

  /** The read sequence and signal of a read's options (checked; an aborted signal throws ERR_ABORTED). */
  private readArgs(what: string, options: ReadOptions | undefined): { seq: number; signal: AbortSignal | undefined } {
    const o = optionsArg<ReadOptions>('read options', options, READ_OPTIONS);
    const signal = signalArg('options.signal', o?.signal);
    const seq = this.engine.sequenceAt(o?.snapshot);
    throwIfAborted(what, signal);
    return { seq, signal };
  }

  /**
   * get() without a promise, for callers that must answer synchronously (abstract-level's getSync).
   * Throws ERR_NOT_SUPPORTED when the answer needs an asynchronous read (a table block neither cached
   * nor readable synchronously); get() then always works.
   */
  getSync(key: Key, options?: ReadOptions): Buffer | undefined {
    this.checkOpen();
    const k = keyArg('key', key);
    const r = this.engine.get(k, this.readArgs('getSync()', options).seq);
    if (r instanceof Promise) {
      r.catch(() => undefined);
      throw new NotSupportedError('getSync needs an asynchronous read here (a block that is not cached): use get()');
    }
    return r;
  }

  async getMany(keys: Key[], options?: ReadOptions): Promise<(Buffer | undefined)[]> {
    this.checkOpen();
    if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array');
    const ks = keys.map((k, i) => keyArg(`keys[${i}]`, k));
    const { seq, signal } = this.readArgs('getMany()', options);
    const out: (Buffer | undefined)[] = new Array(ks.length);
    // Every lookup starts before any is awaited, so reads that must wait (a table being opened, a
    // zstd block) overlap instead of queueing one behind the other.
    let waits: Promise<void>[] | undefined;
    for (let i = 0; i < ks.length; i++) {
      const r = this.engine.get(ks[i]!, seq);
      if (r instanceof Promise) (waits ??= []).push(r.then((v) => { out[i] = v; }));
      else out[i] = r;
    }
    if (waits) await abortable('getMany()', Promise.all(waits), signal);
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
    this.checkOpen();
    const o = optionsArg<IteratorOptions>('iterator options', options, ITERATOR_OPTIONS) ?? {};
    const bound = (name: 'gt' | 'gte' | 'lt' | 'lte'): Uint8Array | undefined =>
      o[name] === undefined ? undefined : copyBytes(keyArg(`options.${name}`, o[name]));
    booleanArg('options.reverse', o.reverse);
    limitArg('options.limit', o.limit);
    const signal = signalArg('options.signal', o.signal);
    const given: RangeBounds = {
      ...defined('gt', bound('gt')), ...defined('gte', bound('gte')),
      ...defined('lt', bound('lt')), ...defined('lte', bound('lte')),
    };
    const prefix = o.prefix === undefined ? undefined : copyBytes(keyArg('options.prefix', o.prefix));
    const bounds = prefix === undefined ? given : intersectPrefix(given, prefix);
    const it = this.engine.newIterator<T>({
      snapshotSeq: this.engine.sequenceAt(o.snapshot),
      ...bounds,
      reverse: o.reverse === true,
      ...(o.limit === undefined ? {} : { limit: o.limit }),
    }, mode, sharedPrefixOf(given, prefix));
    return signal ? it.abortOn(signal) : it;
  }

  /** A point-in-time view for reads and iterators; release() it when done. */
  snapshot(): Snapshot {
    this.checkOpen();
    return this.engine.snapshot();
  }

  // ---------------------------------------------------------------- transactions

  /** Starts a transaction reading at a snapshot taken now (optimistic unless `locking: 'pessimistic'`). */
  beginTransaction(options?: TransactionOptions): Transaction {
    this.engine.checkWritable();
    return new Transaction(this.engine.transactionHost(), optionsArg<TransactionOptions>('transaction options', options, TRANSACTION_OPTIONS));
  }

  /**
   * Runs fn in a transaction and commits it; on ERR_TXN_CONFLICT (deadlocks included) or
   * ERR_TXN_TIMEOUT retries with a fresh transaction up to `retries` more times (default 3) after a
   * jittered back-off (`backoff`; defaults per `locking`: src/engine/transaction-runner.ts). An
   * exception inside fn rolls back and rethrows. Resolves to fn's result.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T> | T, options: RunTransactionOptions = {}): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('transaction(fn): fn must be a function');
    optionsArg('transaction options', options, RUN_TRANSACTION_OPTIONS);
    return this.engine.runTransaction(fn, planRun(options));
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Key rotation (encryption at rest): from now on every new file uses the provider's current key id
   * (ask the provider to name a new one first). The WAL and the MANIFEST are rolled at once, so only
   * tables still hold the old key; compaction rewrites those in the background, as its lowest
   * priority work, or now and awaited with `{ rewrite: true }`. Resolves to the current key id and
   * the number of tables rewritten. stats().encryption.keyIdsInUse says which old keys are still needed.
   */
  async rotateKey(options?: { rewrite?: boolean }): Promise<{ keyId: string; rewritten: number }> {
    this.engine.checkWritable();
    const rewrite = booleanArg('options.rewrite', optionsArg<{ rewrite?: boolean }>('rotateKey options', options, ROTATE_KEY_OPTIONS)?.rewrite) ?? false;
    const ring = this.engine.keyRing;
    if (!ring) throw new InvalidArgumentError('rotateKey() needs a database opened with the encryption option');
    return this.engine.rotateKey(ring, rewrite);
  }

  /**
   * Writes the memtable (and any waiting immutable ones) to L0 tables, and waits. The memtable
   * frozen is the one holding every write submitted before this call.
   */
  async flush(): Promise<void> {
    this.engine.checkWritable();
    await this.engine.flush();
  }

  /**
   * Compacts everything overlapping [start, end] (both optional, inclusive) down to the last level
   * holding data, and waits. Tombstones and shadowed versions in the range are dropped on the way.
   */
  async compactRange(start?: Key, end?: Key): Promise<void> {
    this.engine.checkWritable();
    const lo = start === undefined ? undefined : copyBytes(keyArg('start', start));
    const hi = end === undefined ? undefined : copyBytes(keyArg('end', end));
    await this.engine.compactRange(lo, hi);
  }

  /** An openable copy of the database as of now, in `dir` (which must not exist or be empty). */
  async checkpoint(dir: string): Promise<CheckpointInfo> {
    this.checkOpen();
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError('checkpoint(dir): dir must be a non-empty string');
    return this.engine.checkpoint(dir);
  }

  /**
   * An incremental backup into `backupDir` at one point in time, while writes go on. Tables the
   * directory already holds are not copied again. BackupEngine.open(backupDir) lists, verifies,
   * restores and purges.
   */
  async backup(backupDir: string, options?: BackupOptions): Promise<BackupInfo & { bytesCopied: number }> {
    this.checkOpen();
    return this.engine.backup(backupDir, optionsArg('backup options', options, BACKUP_OPTIONS));
  }

  /**
   * Reads every block of every live table and checks its checksum. With `onCorruption`, every table
   * is checked and each damaged one reported to it (the call then resolves); without, the first rejects.
   */
  async verifyChecksums(options?: { onCorruption?: (e: CorruptionError) => void }): Promise<void> {
    this.checkOpen();
    const onCorruption = optionsArg<{ onCorruption?: (e: CorruptionError) => void }>('verifyChecksums options', options, VERIFY_OPTIONS)?.onCorruption;
    if (onCorruption !== undefined && typeof onCorruption !== 'function') throw new InvalidArgumentError('options.onCorruption must be a function');
    await this.engine.verifyChecksums(onCorruption);
  }

  /**
   * Read-only DBs: moves the view forward to what the writer process has written since (re-reads
   * CURRENT, the MANIFEST and the WAL tail), atomically: later reads and iterators see the new state,
   * iterators already open keep theirs. Rejects with ERR_BUSY (the old view kept) when the writer
   * kept changing the files; a retry later usually succeeds.
   */
  tryCatchUpWithPrimary(): Promise<void> {
    if (this.engine.isClosed) return Promise.reject(new DatabaseClosedError());
    return this.engine.tryCatchUpWithPrimary();
  }

  stats(): DBStats {
    this.checkOpen();
    return this.engine.stats();
  }

  // ---- bulk load (RocksDB's IngestExternalFile)

  /**
   * Ingests external tables (written with ExternalTableWriter from `stratadb/sstable`; README
   * "Ingesting external tables") as one atomic write: every entry gets one new sequence number, newer
   * than every write acknowledged before, and the tables go in at the deepest level they fit. Files
   * that are not external tables, are damaged or overlap each other are refused before anything
   * changes. `move`: remove the source files once the ingest is installed. Resolves to the sequence
   * and where each file went.
   */
  async ingest(files: string | readonly string[], options?: IngestOptions): Promise<IngestResult> {
    this.engine.checkWritable();
    const list: unknown = typeof files === 'string' ? [files] : files;
    if (!Array.isArray(list) || list.length === 0 || list.some((f) => typeof f !== 'string' || f.length === 0)) {
      throw new InvalidArgumentError(`ingest(files): files must be a path or a non-empty array of paths (got ${describe(files)})`);
    }
    const move = booleanArg('options.move', optionsArg<IngestOptions>('ingest options', options, INGEST_OPTIONS)?.move) ?? false;
    return ingestExternalFiles(makeIngestHost(this.engine), list as string[], { move });
  }

  // ---- sizes, properties, destroy (RocksDB's GetApproximateSizes, GetProperty, DestroyDB)

  /**
   * Approximate bytes the keys in [start, end) occupy: on disk from the tables' index blocks (no data
   * block is read; a table wholly inside the range counts its file size), plus the memtables' entries
   * in the range. start >= end answers 0.
   */
  approximateSize(start: Key, end: Key): Promise<number> {
    try {
      this.checkOpen();
      const lo = copyBytes(keyArg('start', start));
      const hi = copyBytes(keyArg('end', end));
      if (compareBytes(lo, hi) >= 0) return Promise.resolve(0);
      return this.engine.approximateSize(lo, hi);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * A named property as a string (`stratadb.stats`, `stratadb.num-files-at-level<N>`,
   * `stratadb.estimate-num-keys`, …; README "API"), read off stats(). An unknown name answers
   * undefined, as RocksDB's GetProperty answers false, so scripts can probe for names.
   */
  getProperty(name: string): string | undefined {
    this.checkOpen();
    if (typeof name !== 'string') throw new InvalidArgumentError('getProperty(name): name must be a string');
    return this.engine.getProperty(name);
  }

  /**
   * Removes the database in `dir`: only the files a database owns, then the directory if nothing else
   * is left in it. ERR_LOCKED while the database is open anywhere; ERR_INVALID_ARGUMENT (nothing
   * touched) when `dir` holds no database.
   */
  static async destroy(dir: string, options?: { fs?: Options['fs'] }): Promise<DestroyResult> {
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError('destroy(dir): dir must be a non-empty string');
    const o = optionsArg<{ fs?: Options['fs'] }>('destroy options', options, DESTROY_OPTIONS);
    return destroyDatabase(dir, o?.fs);
  }

  // ---- repair (LevelDB's RepairDB, classic-level's repair)

  /**
   * Rebuilds the database in `dir` from the tables and WALs that are still good, when its MANIFEST or
   * CURRENT is lost or damaged or it does not open: every table that verifies is kept, every WAL is
   * replayed up to its first bad record, overlapping tables are merged, and a fresh MANIFEST and
   * CURRENT are written. Files it cannot use go to `dir/lost/`, never deleted (README "Repair").
   * Takes the options open takes (the same `encryption`, the table shape of new tables); ERR_LOCKED
   * while the database is open anywhere; ERR_INVALID_ARGUMENT (nothing touched) when `dir` holds no
   * database files.
   */
  static async repair(dir: string, options?: Options): Promise<RepairReport> {
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError('repair(dir): dir must be a non-empty string');
    const o = validateOptions(options);
    if (o.readOnly) throw new InvalidArgumentError('repair() writes the database: readOnly must not be set');
    return repairDatabase(dir, o);
  }

  // ---- reading the log back (RocksDB's GetUpdatesSince), for replication

  /**
   * The committed batches from the one holding `sequence` (0 reads from the start) up to the sequence
   * published now, in commit order, read from the live and the archived WALs: each is
   * `{ sequence, ops, commitTime }`. Create a new iterator to read on. The WALs it needs stay on disk
   * until it ends or is closed. A sequence no WAL holds any more (flushed and deleted) rejects next()
   * with ERR_INVALID_ARGUMENT (README "Replication"). Throws for bad arguments.
   */
  getUpdatesSince(sequence: number, options?: UpdatesOptions): WalUpdatesIterator {
    this.checkOpen();
    if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) {
      throw new InvalidArgumentError(`getUpdatesSince(sequence): sequence must be a non-negative integer (got ${String(sequence)})`);
    }
    const o = optionsArg<UpdatesOptions>('getUpdatesSince options', options, UPDATES_OPTIONS);
    const signal = signalArg('options.signal', o?.signal);
    throwIfAborted('getUpdatesSince()', signal);
    return this.engine.updatesSince(Math.max(1, sequence), signal);
  }

  /** Closes the database: waits for writes and background work; idempotent. */
  close(): Promise<void> {
    return this.engine.close();
  }

  /** `await using db = await DB.open(dir)`: close() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private checkOpen(): void {
    if (this.engine.isClosed) throw new DatabaseClosedError();
  }
}

function writeSync(o: unknown): boolean {
  const w = optionsArg<WriteOptions>('write options', o, WRITE_OPTIONS);
  return booleanArg('options.sync', w?.sync) === true;
}

function defined<K extends string>(k: K, v: Uint8Array | undefined): { [P in K]?: Uint8Array } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: Uint8Array };
}
