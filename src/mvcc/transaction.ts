/**
 * Transactions, optimistic or pessimistic. A transaction reads at the snapshot taken when it begins, sees its own
 * writes (gets and iterators merge its write buffer over the snapshot) and buffers writes until
 * commit, which goes through the normal group commit as ONE batch: all of it becomes visible at once,
 * or none of it.
 *
 * Range deletes: tx.deleteRange(start, end) buffers a range tombstone in the write buffer, above the
 * writes before it and below the writes after it (ops apply in order, as RocksDB's
 * WriteBatchWithIndex): reads inside the transaction hide its earlier writes and the snapshot's keys
 * in the range, and a later put in the range shows again. At commit the batch holds the union of the
 * ranges first, then the buffered writes no tombstone of the transaction deleted, so the same order
 * holds in the database.
 *
 * Isolation: 'snapshot' (default) refuses the commit with ERR_TXN_CONFLICT when any key it writes was
 * committed by someone else after its snapshot (no lost updates; write skew is allowed). A range
 * delete is a write of the whole range: a key written inside a range deleted by a later commit, or a
 * range deleted over a key (or a range) another commit wrote since, conflicts. 'serializable' also
 * refuses when any key it read, or any range it iterated (phantoms), was written after its snapshot,
 * range deletes included. The check runs inside the write-queue leader, in commit order, right before sequence
 * numbers are assigned: there is no check-then-enqueue gap. A refused commit writes nothing.
 *
 * The write buffer is a WriteLog (write-log.ts): the puts and deletes appended in the WriteBatch wire
 * format to one byte buffer, a Uint32Array hash index to each key's newest op, and the range deletes
 * beside them; private sequence numbers above every real one order its ops and range deletes. An
 * iterator shows the buffer as it was when the iterator was made (its sorted view is taken then; later
 * writes are not seen), as it shows the database as of then. Memory, per op of key length k and value
 * length v: k + v + ~3 B in the log (up to 1.5x that while it grows) plus 5-11 B of index per distinct
 * key, no JS object per write. At commit the log is the batch itself when no key was written twice and
 * nothing range-deleted (write-buffer-batch.ts), and the index is dropped. The packed KeySet of the
 * written keys (key bytes + 12 B each, key-set.ts) is made from the batch only when needed: when a
 * commit after the snapshot is remembered (the check compares them), or when the conflict tracker
 * records this commit because another transaction is open (it keeps the set without copying).
 * A serializable transaction also logs the keys it read (key-log.ts: key bytes + 12 B each), which a
 * later range delete is checked against. No JS object per key anywhere on the commit path; the ranges
 * deleted are a short list of their own (range-set.ts).
 * Abandoned transactions are rolled back when garbage-collected (FinalizationRegistry), so their
 * snapshot does not pin the conflict window forever; rollback() or commit() does it at once.
 *
 * Locking: 'optimistic' (default) finds conflicts at commit, as above. 'pessimistic' also locks every
 * key it writes or reads with getForUpdate (lock-table.ts), held until commit or rollback: the lock
 * holder reads a key's newest value and no other transaction can commit it meanwhile, so the work is
 * not redone. Its snapshot moves forward while every read was of a locked key, and the commit check
 * still runs (transaction-locks.ts says why). Range deletes are refused there (ERR_NOT_SUPPORTED);
 * serializable reads and ranges fall back to the commit-time validation (no shared or range locks).
 * Not here: the write buffer (write-log.ts, write-log-iterator.ts), the batch (write-buffer-batch.ts), the commit check (commit-check.ts).
 */
import type { Buffer } from 'node:buffer';
import { MAX_SEQUENCE, ValueKind } from '../base/internal-key.js';
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import { InternalError, InvalidArgumentError, NotSupportedError, TooLargeError } from '../errors.js';
import { booleanArg, keyArg, limitArg, optionsArg } from '../base/arguments.js';
import { intersectPrefix, sharedPrefixOf } from '../base/prefix-bounds.js';
import { abortable, signalArg, throwIfAborted } from '../base/abort.js';
import { MergingIterator } from '../iterator/merging-iterator.js';
import { compareInternalKeys } from '../base/internal-key.js';
import { printableKey, copyToBuffer, copyBytes } from '../base/bytes.js';
import type { ConflictTracker, KeyRange } from './conflict-tracker.js';
import { keyHash52, keySetOfOps, type KeySet } from './key-set.js';
import { encodeWriteLog } from './write-buffer-batch.js';
import { WriteLog } from './write-log.js';
import { WriteLogIterator } from './write-log-iterator.js';
import { KeyLog } from './key-log.js';
import { compareBytes } from '../base/bytes.js';
import { RangeDelSkippingIterator, type TombstoneView } from '../rangedel/range-del-skipping-iterator.js';
import { SnapshotFilterIterator } from './snapshot-filter-iterator.js';
import type { Snapshot } from './snapshot-list.js';
import type { StrataIterator } from '../iterator/strata-iterator.js';
import type { LockTable } from './lock-table.js';
import { TransactionLocks } from './transaction-locks.js';
import { checkCommit, conflict } from './commit-check.js';

export type Isolation = 'snapshot' | 'serializable';
export type Locking = 'optimistic' | 'pessimistic';

export interface TransactionOptions {
  isolation?: Isolation;
  sync?: boolean;
  /** 'optimistic' (default): conflicts are found at commit. 'pessimistic': writes and getForUpdate lock keys. */
  locking?: Locking;
  /** Pessimistic: how long one lock wait may last before ERR_TXN_TIMEOUT (default 1000; Infinity waits forever). */
  lockTimeoutMs?: number;
}

/** The default lock wait of a pessimistic transaction: long enough for a queue of short transactions. */
export const DEFAULT_LOCK_TIMEOUT_MS = 1000;

/** What a transaction needs from the database (implemented by src/engine/transaction-host.ts). */
export interface TransactionHost {
  takeSnapshot(): Snapshot;
  readAt(key: Uint8Array, seq: number): MaybePromise<Buffer | undefined>;
  /** An internal iterator over the whole database as of now (the caller filters by sequence) and its release. */
  /** The DB's merged source as of `readSeq` (range tombstones newer than it are not honoured). */
  /** `prefix`: every key the read can return starts with it (tables lacking it may be skipped). */
  openSource(readSeq: number, prefix?: Uint8Array): { iter: InternalIterator; release(): void };
  /** A public iterator over an internal source. */
  /** With `signal`, the iterator fails with ERR_ABORTED once it fires (StrataIterator.abortOn). */
  makeIterator<T>(build: () => InternalIterator, release: () => void, options: TxIteratorOptions, mode: 'entries' | 'keys' | 'values',
    signal?: AbortSignal): T;
  /** `conflictKeys`: the batch's keys, made when first called (only the conflict check or the tracker needs them). */
  submitCommit(ops: Uint8Array, count: number, userBytes: number, sync: boolean,
    validate: () => Error | undefined, conflictKeys: () => KeySet): Promise<void>;
  readonly tracker: ConflictTracker;
  /** The pessimistic transactions' key locks (one table per database). */
  readonly locks: LockTable;
  readonly maxKeySize: number;
  readonly maxValueSize: number;
  checkOpen(): void;
}

/** Resolved bounds handed to the host (bytes only). */
export interface TxIteratorOptions {
  gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array;
  reverse?: boolean; limit?: number;
}

/** What users pass to tx.iterator(): bounds as bytes or utf-8 strings. */
export interface TransactionIteratorOptions {
  gt?: Uint8Array | string; gte?: Uint8Array | string; lt?: Uint8Array | string; lte?: Uint8Array | string;
  reverse?: boolean; limit?: number;
  /** Only keys starting with these bytes, as db.iterator({ prefix }) (intersected with the bounds). */
  prefix?: Uint8Array | string;
  /** Once it fires, the next step rejects with ERR_ABORTED and the iterator is closed (as db.iterator). */
  signal?: AbortSignal;
}

const TX_ITERATOR_OPTIONS = ['gt', 'gte', 'lt', 'lte', 'reverse', 'limit', 'prefix', 'signal'] as const;
/** What tx.get() takes. */
export interface TransactionReadOptions { signal?: AbortSignal }
const TX_READ_OPTIONS = ['signal'] as const;

/** Buffer writes get sequence numbers above every real one (real ones stay below 2^52). */
const BUFFER_BASE = 2 ** 52;

/**
 * What the finalizer needs; `inTracker` is cleared when the tracker slot (opened at `trackerSeq`, the
 * first snapshot) is closed early (commit). A pessimistic snapshot may move on: `snapshot` is the current one.
 * `bufferBytes`: what the write buffer held when last reported to the tracker (stats().memory.transactionBuffers).
 */
interface Held { snapshot: Snapshot; tracker: ConflictTracker; trackerSeq: number; inTracker: boolean; locks: TransactionLocks | undefined; bufferBytes: number }

const finalizer = new FinalizationRegistry<Held>((held) => {
  if (held.inTracker) held.tracker.close(held.trackerSeq);
  held.tracker.addBufferBytes(-held.bufferBytes);
  held.snapshot.release();
  held.locks?.release();
});

export class Transaction {
  readonly isolation: Isolation;
  readonly sync: boolean;
  readonly locking: Locking;
  private snap: Snapshot;
  /** Pessimistic: set by the first read of an unlocked key; from then on the snapshot cannot move. */
  private isSnapshotFixed = false;
  private readonly locks: TransactionLocks | undefined;
  /** Optimistic getForUpdate keys (validated as writes). */
  private forUpdate: KeyLog | undefined;
  private state: 'open' | 'committing' | 'committed' | 'rolled-back' = 'open';
  /** The buffered writes (write-log.ts), made at the first write. */
  private buffer: WriteLog | undefined;
  private reads: KeyLog | undefined;
  private readonly ranges: KeyRange[] = [];
  private readonly token = {};
  private readonly held: Held;

  /** @internal use db.beginTransaction() */
  constructor(private readonly host: TransactionHost, options: TransactionOptions = {}) {
    const iso = options.isolation ?? 'snapshot';
    if (iso !== 'snapshot' && iso !== 'serializable') {
      throw new InvalidArgumentError("options.isolation must be 'snapshot' or 'serializable'");
    }
    booleanArg('options.sync', options.sync);
    const locking = options.locking ?? 'optimistic';
    if (locking !== 'optimistic' && locking !== 'pessimistic') {
      throw new InvalidArgumentError("options.locking must be 'optimistic' or 'pessimistic'");
    }
    const timeout = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !(timeout >= 0) || (!Number.isInteger(timeout) && timeout !== Infinity)) {
      throw new InvalidArgumentError('options.lockTimeoutMs must be a non-negative integer or Infinity');
    }
    this.isolation = iso;
    this.sync = options.sync === true;
    this.locking = locking;
    this.locks = locking === 'pessimistic' ? new TransactionLocks(host.locks, timeout) : undefined;
    this.snap = host.takeSnapshot();
    host.tracker.open(this.snap.sequence);
    this.held = { snapshot: this.snap, tracker: host.tracker, trackerSeq: this.snap.sequence, inTracker: true, locks: this.locks, bufferBytes: 0 };
    finalizer.register(this, this.held, this.token);
  }

  /** The sequence number this transaction reads at. */
  get snapshotSequence(): number { return this.snap.sequence; }
  get isOpen(): boolean { return this.state === 'open'; }
  /** @internal Bytes the write buffer holds now (its log, index, sorted view and range deletes). */
  get bufferedBytes(): number { return this.buffer?.bytes ?? 0; }

  /** `isWrite`: writes never throw a lock failure (they stay synchronous and timing-free); reads and commit report it. */
  private checkUsable(isWrite = false): void {
    this.host.checkOpen();
    if (this.state !== 'open') throw new InvalidArgumentError(`the transaction was already ${this.state === 'committed' ? 'committed' : this.state === 'committing' ? 'committed (in progress)' : 'rolled back'}`);
    if (!isWrite && this.locks?.failure) throw this.locks.failure;
  }

  /**
   * A lock was granted: the validation point of its key. If the key was written after the snapshot,
   * the snapshot moves to now while every read so far was of a locked key, else the transaction fails.
   */
  private readonly granted = (hash: number): number => {
    const tracker = this.host.tracker;
    if (tracker.writtenAfter(hash, this.snap.sequence)) {
      if (this.isSnapshotFixed) {
        throw conflict('a key it locks was written after its snapshot, and it has read unlocked keys at that snapshot');
      }
      if (this.locks!.isAnyWrittenSince((h, seq) => tracker.writtenAfter(h, seq))) {
        throw conflict('a plain write changed a key it holds locked, so its snapshot cannot move');
      }
      const old = this.snap;
      this.snap = this.host.takeSnapshot();
      this.held.snapshot = this.snap;
      old.release();
    }
    return this.snap.sequence;
  };

  /**
   * Takes the write lock of `k` (pessimistic), before the write is buffered; a contended one is waited
   * for at commit. A failure (now or later) is kept for the next read or the commit to report.
   */
  private lockForWrite(k: Uint8Array): void {
    const locks = this.locks;
    if (!locks || locks.failure) return;
    const hash = keyHash52(k);
    try {
      locks.lockForWrite(hash, this.granted);
    } catch {
      // recorded in locks.failure
    }
  }

  /**
   * Reads `key` for update. Pessimistic: locks it first (waiting in line, up to lockTimeoutMs) and
   * reads the newest committed value, which nobody else can change until this transaction ends.
   * Optimistic: reads at the snapshot, and commit fails if anyone wrote the key since, as if this
   * transaction had written it (RocksDB's GetForUpdate). Its own writes are seen in both modes.
   */
  async getForUpdate(key: Uint8Array | string, options?: TransactionReadOptions): Promise<Buffer | undefined> {
    this.checkUsable();
    const k = keyArg('key', key);
    const signal = signalArg('options.signal', optionsArg<TransactionReadOptions>('getForUpdate() options', options, TX_READ_OPTIONS)?.signal);
    throwIfAborted('getForUpdate()', signal);
    const locks = this.locks;
    if (locks) {
      const hash = keyHash52(k);
      const wait = locks.lock(hash, this.granted);
      if (wait) await abortable('getForUpdate()', wait, signal);
      this.checkUsable();
    } else {
      (this.forUpdate ??= new KeyLog()).add(k);
    }
    return this.read(k, signal, false);
  }

  /**
   * The value at the snapshot, or this transaction's own latest write. `signal`: rejects with
   * ERR_ABORTED once it fires (a read in flight finishes and is dropped; the key still counts as read).
   */
  get(key: Uint8Array | string, options?: TransactionReadOptions): Promise<Buffer | undefined> {
    try {
      this.checkUsable();
      const k = keyArg('key', key);
      const signal = signalArg('options.signal', optionsArg<TransactionReadOptions>('get() options', options, TX_READ_OPTIONS)?.signal);
      throwIfAborted('get()', signal);
      return this.read(k, signal, true);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Own writes first, then the snapshot; `isPlain`: a read of a key this transaction may not hold locked. */
  private read(k: Uint8Array, signal: AbortSignal | undefined, isPlain: boolean): Promise<Buffer | undefined> {
    try {
      const buffer = this.buffer;
      if (buffer) {
        const off = buffer.find(k);
        // A range this transaction deleted after its latest write of k (or with no write of k) hides it.
        const deletedAt = buffer.rangeDeletions > 0 ? buffer.rangeDelFragments().maxCoveringSeq(k, MAX_SEQUENCE) : 0;
        if (off >= 0 && buffer.seqAt(off) > deletedAt) {
          return Promise.resolve(buffer.kindAt(off) === ValueKind.Put ? copyToBuffer(buffer.valueAt(off)) : undefined);
        }
        if (deletedAt > 0) return Promise.resolve(undefined);
      }
      if (isPlain) {
        this.isSnapshotFixed = true;
        if (this.isolation === 'serializable') (this.reads ??= new KeyLog()).add(k);
      }
      const r = this.host.readAt(k, this.snap.sequence);
      return r instanceof Promise ? abortable('get()', r, signal) : Promise.resolve(r);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  put(key: Uint8Array | string, value: Uint8Array | string): void {
    this.checkUsable(true);
    const k = keyArg('key', key);
    const v = keyArg('value', value);
    if (k.length > this.host.maxKeySize) throw new TooLargeError(`key is ${k.length} bytes, over maxKeySize (${this.host.maxKeySize})`);
    if (v.length > this.host.maxValueSize) throw new TooLargeError(`value is ${v.length} bytes, over maxValueSize (${this.host.maxValueSize})`);
    this.lockForWrite(k);
    this.write(ValueKind.Put, k, v);
  }

  delete(key: Uint8Array | string): void {
    this.checkUsable(true);
    const k = keyArg('key', key);
    if (k.length > this.host.maxKeySize) throw new TooLargeError(`key is ${k.length} bytes, over maxKeySize (${this.host.maxKeySize})`);
    this.lockForWrite(k);
    this.write(ValueKind.Delete, k, EMPTY);
  }

  /**
   * Deletes every key in [start, end) (half-open, as WriteBatch.deleteRange): the snapshot's keys and
   * this transaction's earlier writes there; a later write in the range is seen again. start must be
   * before end (ERR_INVALID_ARGUMENT, nothing buffered). At commit it is a write of the whole range.
   */
  deleteRange(start: Uint8Array | string, end: Uint8Array | string): void {
    this.checkUsable();
    const s = keyArg('start', start);
    const e = keyArg('end', end);
    if (compareBytes(s, e) >= 0) throw new InvalidArgumentError(`deleteRange: start ${printableKey(s)} must be before end ${printableKey(e)}`);
    const longer = Math.max(s.length, e.length);
    if (longer > this.host.maxKeySize) throw new TooLargeError(`a range key is ${longer} bytes, over maxKeySize (${this.host.maxKeySize})`);
    // A range lock table would be a second structure on every lock path, for a rare operation.
    if (this.locks) throw new NotSupportedError('deleteRange() in a pessimistic transaction (lock the keys with delete(), or use an optimistic one)');
    this.write(ValueKind.RangeDelete, s, e);
  }

  private write(kind: number, k: Uint8Array, v: Uint8Array): void {
    const buffer = this.buffer ??= new WriteLog(BUFFER_BASE);
    if (kind === ValueKind.RangeDelete) buffer.deleteRange(k, v);
    else buffer.append(kind, k, v);
    this.reportBufferBytes();
  }

  /** Tells the tracker how much the write buffer holds now (a few field reads: called on every write). */
  private reportBufferBytes(): void {
    const now = this.buffer?.bytes ?? 0;
    if (now !== this.held.bufferBytes) this.host.tracker.addBufferBytes(now - this.held.bufferBytes);
    this.held.bufferBytes = now;
  }

  /**
   * An iterator over the snapshot merged with this transaction's writes. Under 'serializable' its
   * whole bound range counts as read (a phantom check), whether or not it is iterated to the end.
   */
  iterator(options?: TransactionIteratorOptions): StrataIterator<[Buffer, Buffer]> {
    return this.makeIterator(options, 'entries');
  }

  keys(options?: TransactionIteratorOptions): StrataIterator<Buffer> {
    return this.makeIterator(options, 'keys');
  }

  values(options?: TransactionIteratorOptions): StrataIterator<Buffer> {
    return this.makeIterator(options, 'values');
  }

  private makeIterator<T>(given: TransactionIteratorOptions | undefined, mode: 'entries' | 'keys' | 'values'): T {
    this.checkUsable();
    const options = optionsArg<TransactionIteratorOptions>('iterator options', given, TX_ITERATOR_OPTIONS) ?? {};
    booleanArg('options.reverse', options.reverse);
    limitArg('options.limit', options.limit);
    const signal = signalArg('options.signal', options.signal);
    let o: TxIteratorOptions = {};
    for (const b of ['gt', 'gte', 'lt', 'lte'] as const) {
      if (options[b] !== undefined) o[b] = copyBytes(keyArg(`options.${b}`, options[b]));
    }
    const prefix = options.prefix === undefined ? undefined : copyBytes(keyArg('options.prefix', options.prefix));
    const shared = copyBytes(sharedPrefixOf(o, prefix));
    if (prefix !== undefined) o = intersectPrefix(o, prefix);
    if (options.reverse !== undefined) o.reverse = options.reverse;
    if (options.limit !== undefined) o.limit = options.limit;
    this.isSnapshotFixed = true;
    if (this.isolation === 'serializable') {
      this.ranges.push({
        lo: o.gt ?? o.gte, loInclusive: o.gt === undefined,
        hi: o.lt ?? o.lte, hiInclusive: o.lt === undefined,
      });
    }
    const seq = this.snap.sequence;
    const source = this.host.openSource(seq, shared.length > 0 ? shared : undefined);
    const buffer = this.buffer;
    // The transaction's own range deletes as of now, over both sides: every snapshot entry is older
    // than them (the whole deleted stretch is skipped), buffered writes only when written before.
    const view: TombstoneView | undefined = buffer && buffer.rangeDeletions > 0
      ? { fragments: [buffer.rangeDelFragments()], readSeq: MAX_SEQUENCE, load: () => undefined }
      : undefined;
    // The buffered writes as of now: later writes do not change this iterator (write-log-iterator.ts).
    const own = buffer && buffer.opCount > 0
      ? { buf: buffer.buffer, limit: buffer.byteLength, offsets: buffer.sortedOffsets(), maxSeq: buffer.maxSeq }
      : undefined;
    this.reportBufferBytes(); // the sorted view, when made
    return this.host.makeIterator<T>(() => {
      const db: InternalIterator = new SnapshotFilterIterator(source.iter, seq);
      const children: InternalIterator[] = [view ? new RangeDelSkippingIterator(db, view, BUFFER_BASE - 1) : db];
      if (own) {
        const it = new WriteLogIterator(own.buf, own.limit, own.offsets, BUFFER_BASE);
        children.push(view ? new RangeDelSkippingIterator(it, view, own.maxSeq) : it);
      }
      return new MergingIterator(children, compareInternalKeys);
    }, () => source.release(), o, mode, signal);
  }

  /** Commits atomically; rejects with ERR_TXN_CONFLICT (nothing written) if it lost a race. */
  async commit(): Promise<void> {
    this.checkUsable(true); // a lock failure is reported below, and ends the transaction as a refused commit does
    this.state = 'committing';
    try {
      // No await unless a lock is still queued: a commit is ordered where it was called
      const settling = this.locks?.settle();
      if (settling) await settling;
      if (!this.buffer || this.buffer.entries === 0) return; // read-only: never conflicts
      const { ops, userBytes, count } = encodeWriteLog(this.buffer);
      // The batch holds what commit needs: the index (and a log that was re-encoded) can be collected
      // while the database memtable takes the batch (no local of this frame refers to it across the await).
      this.buffer = undefined;
      this.reportBufferBytes(); // from here the batch is the write queue's (pendingWrites)
      // The conflict keys cost key + 12 B each: made only when the check has commits to compare them
      // with, or when the tracker records this commit for another open transaction.
      let keySet: KeySet | undefined;
      const keys = (): KeySet => keySet ??= keySetOfOps(ops, count, malformed);
      const tracker = this.host.tracker;
      const held = this.held;
      const check = {
        tracker, keys, trackerSeq: held.trackerSeq, readSeq: this.snap.sequence, locks: this.locks,
        forUpdate: this.forUpdate, reads: this.isolation === 'serializable' ? this.reads : undefined,
        ranges: this.isolation === 'serializable' ? this.ranges : undefined,
      };
      const validate = (): Error | undefined => {
        const refused = checkCommit(check);
        if (refused) return refused;
        // Validated: nothing else is ever checked against this snapshot, so the tracker slot closes
        // now, before accept() records our keys. When no other transaction is open, a large commit is
        // then not recorded at all (the write queue keeps it as unrecorded until it is published).
        if (held.inTracker) {
          held.inTracker = false;
          tracker.close(held.trackerSeq);
        }
        return undefined;
      };
      await this.host.submitCommit(ops, count, userBytes, this.sync, validate, keys);
      this.state = 'committed';
    } catch (e) {
      this.state = 'rolled-back'; // a refused commit wrote nothing
      throw e;
    } finally {
      if (this.state === 'committing') this.state = 'committed';
      this.end();
    }
  }

  /** Discards the buffered writes and releases the snapshot. Idempotent after the first call. */
  rollback(): void {
    if (this.state === 'committed' || this.state === 'rolled-back') return;
    if (this.state === 'committing') throw new InvalidArgumentError('rollback() while commit() is in progress');
    this.state = 'rolled-back';
    this.end();
  }

  /**
   * `await using tx = db.beginTransaction()`: rolls back at the end of the scope unless committed (a
   * commit in progress is left to settle on its own).
   */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.state === 'open') this.rollback();
    return Promise.resolve();
  }

  private end(): void {
    finalizer.unregister(this.token);
    if (this.held.inTracker) {
      this.held.inTracker = false;
      this.host.tracker.close(this.held.trackerSeq);
    }
    if (!this.snap.released) this.snap.release();
    // After the commit is published: the next holder reads it.
    this.locks?.release();
    this.buffer = undefined;
    this.reportBufferBytes();
    this.reads = undefined;
    this.forUpdate = undefined;
  }
}

const EMPTY = new Uint8Array(0);

function malformed(offset: number, detail: string): never {
  throw new InternalError(`a transaction's batch is malformed at ${offset}: ${detail}`);
}
