/**
 * Optimistic transactions. A transaction reads at the snapshot taken when it begins, sees its own
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
 * The write buffer is a MemTable (one arena, no object per write), with private sequence numbers above
 * every real one so that its newest write of a key wins. Memory: the buffered keys and values once,
 * plus, during commit, one encoded copy of the batch and a packed KeySet of the written keys (key
 * bytes + 12 B each, key-set.ts), which the conflict tracker keeps without copying while other
 * transactions are open. A serializable transaction also logs the keys it read (key-log.ts: key bytes
 * + 12 B each), which a later range delete is checked against. No JS object per key anywhere on the
 * commit path; the ranges deleted are a short list of their own (range-set.ts).
 * Abandoned transactions are rolled back when garbage-collected (FinalizationRegistry), so their
 * snapshot does not pin the conflict window forever; rollback() or commit() does it at once.
 */
import type { Buffer } from 'node:buffer';
import { ByteWriter } from '../base/coding.js';
import { MAX_SEQUENCE, ValueKind, userKeyOf, kindOf, seqOf } from '../base/internal-key.js';
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import { InvalidArgumentError, TooLargeError, TransactionConflictError } from '../errors.js';
import { booleanArg, keyArg, limitArg, optionsArg } from '../base/arguments.js';
import { intersectPrefix, sharedPrefixOf } from '../base/prefix-bounds.js';
import { abortable, signalArg, throwIfAborted } from '../base/abort.js';
import { MemTable, MISS } from '../memtable/memtable.js';
import { MergingIterator } from '../iterator/merging-iterator.js';
import { compareInternalKeys } from '../base/internal-key.js';
import { encodeSingleOp, encodedOpLength } from '../wal/write-batch.js';
import { printableKey, copyToBuffer, copyBytes } from '../base/bytes.js';
import type { ConflictTracker, KeyRange } from './conflict-tracker.js';
import { KeySetBuilder, type KeySet } from './key-set.js';
import { KeyLog } from './key-log.js';
import { RangeSet } from './range-set.js';
import { compareBytes } from '../base/bytes.js';
import { RangeDelSkippingIterator, type TombstoneView } from '../rangedel/range-del-skipping-iterator.js';
import { SnapshotFilterIterator } from './snapshot-filter-iterator.js';
import type { Snapshot } from './snapshot-list.js';
import type { StrataIterator } from '../iterator/strata-iterator.js';

export type Isolation = 'snapshot' | 'serializable';

export interface TransactionOptions {
  isolation?: Isolation;
  sync?: boolean;
}

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
  submitCommit(ops: Uint8Array, count: number, userBytes: number, sync: boolean,
    validate: () => Error | undefined, conflictKeys: KeySet): Promise<void>;
  readonly tracker: ConflictTracker;
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

/** What the finalizer needs; `inTracker` is cleared when the tracker slot is closed early (commit). */
interface Held { snapshot: Snapshot; tracker: ConflictTracker; inTracker: boolean }

const finalizer = new FinalizationRegistry<Held>((held) => {
  if (held.inTracker) held.tracker.close(held.snapshot.sequence);
  held.snapshot.release();
});

export class Transaction {
  readonly isolation: Isolation;
  readonly sync: boolean;
  private readonly snap: Snapshot;
  private state: 'open' | 'committing' | 'committed' | 'rolled-back' = 'open';
  private buffer: MemTable | undefined;
  private localSeq = 0;
  /** Upper bounds, over every buffered write, of the encoded batch and of its key bytes (commit sizes its buffers with them). */
  private encodedBound = 0;
  private keyBound = 0;
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
    this.isolation = iso;
    this.sync = options.sync === true;
    this.snap = host.takeSnapshot();
    host.tracker.open(this.snap.sequence);
    this.held = { snapshot: this.snap, tracker: host.tracker, inTracker: true };
    finalizer.register(this, this.held, this.token);
  }

  /** The sequence number this transaction reads at. */
  get snapshotSequence(): number { return this.snap.sequence; }
  get isOpen(): boolean { return this.state === 'open'; }

  private checkUsable(): void {
    this.host.checkOpen();
    if (this.state !== 'open') throw new InvalidArgumentError(`the transaction was already ${this.state === 'committed' ? 'committed' : this.state === 'committing' ? 'committed (in progress)' : 'rolled back'}`);
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
      const buffer = this.buffer;
      if (buffer) {
        const kind = buffer.get(k, MAX_SEQUENCE);
        // A range this transaction deleted after its latest write of k (or with no write of k) hides it.
        const deletedAt = buffer.rangeDeletions > 0 ? buffer.rangeDelFragments().maxCoveringSeq(k, MAX_SEQUENCE) : 0;
        if (kind !== MISS && buffer.lastSeqFound() > deletedAt) {
          return Promise.resolve(kind === ValueKind.Put ? copyToBuffer(buffer.lastValue()) : undefined);
        }
        if (deletedAt > 0) return Promise.resolve(undefined);
      }
      if (this.isolation === 'serializable') (this.reads ??= new KeyLog()).add(k);
      const r = this.host.readAt(k, this.snap.sequence);
      return r instanceof Promise ? abortable('get()', r, signal) : Promise.resolve(r);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  put(key: Uint8Array | string, value: Uint8Array | string): void {
    this.checkUsable();
    const k = keyArg('key', key);
    const v = keyArg('value', value);
    if (k.length > this.host.maxKeySize) throw new TooLargeError(`key is ${k.length} bytes, over maxKeySize (${this.host.maxKeySize})`);
    if (v.length > this.host.maxValueSize) throw new TooLargeError(`value is ${v.length} bytes, over maxValueSize (${this.host.maxValueSize})`);
    this.write(ValueKind.Put, k, v);
  }

  delete(key: Uint8Array | string): void {
    this.checkUsable();
    const k = keyArg('key', key);
    if (k.length > this.host.maxKeySize) throw new TooLargeError(`key is ${k.length} bytes, over maxKeySize (${this.host.maxKeySize})`);
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
    this.write(ValueKind.RangeDelete, s, e);
  }

  private write(kind: number, k: Uint8Array, v: Uint8Array): void {
    if (!this.buffer) this.buffer = new MemTable();
    this.buffer.add(BUFFER_BASE + ++this.localSeq, kind, k, v);
    this.encodedBound += encodedOpLength(kind, k.length, v.length);
    this.keyBound += k.length;
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
    const bufferMaxSeq = BUFFER_BASE + this.localSeq;
    return this.host.makeIterator<T>(() => {
      const db: InternalIterator = new SnapshotFilterIterator(source.iter, seq);
      const children: InternalIterator[] = [view ? new RangeDelSkippingIterator(db, view, BUFFER_BASE - 1) : db];
      if (buffer) children.push(view ? new RangeDelSkippingIterator(buffer.newIterator(), view, bufferMaxSeq) : buffer.newIterator());
      return new MergingIterator(children, compareInternalKeys);
    }, () => source.release(), o, mode, signal);
  }

  /** Commits atomically; rejects with ERR_TXN_CONFLICT (nothing written) if it lost a race. */
  async commit(): Promise<void> {
    this.checkUsable();
    this.state = 'committing';
    try {
      if (!this.buffer || this.buffer.entries === 0) return; // read-only: never conflicts
      const { ops, keys, userBytes, count } = this.encodeBuffer(this.buffer);
      // The batch and the key set hold what commit needs: the write buffer can be collected while the
      // database memtable takes the batch (no local of this frame refers to it across the await).
      this.buffer = undefined;
      const tracker = this.host.tracker;
      const seq = this.snap.sequence;
      const serializable = this.isolation === 'serializable';
      const reads = this.reads;
      const ranges = this.ranges;
      const held = this.held;
      const validate = (): Error | undefined => {
        const hashes = keys.hashes;
        for (let i = 0, n = keys.count; i < n; i++) {
          if (tracker.writtenAfter(hashes[i]!, seq)) return conflict(`key ${printableKey(keys.key(i))} was written by a commit after this transaction's snapshot`);
        }
        const rangeDeletedSince = tracker.rangeDeletedAfter(seq);
        if (rangeDeletedSince) {
          const k = tracker.keysDeletedAfter(keys, seq);
          if (k) return conflict(`key ${printableKey(k)} was deleted by a range delete committed after this transaction's snapshot`);
        }
        const own = keys.ranges;
        for (let i = 0; own && i < own.count; i++) {
          const k = tracker.rangeWrittenAfter({ lo: own.start(i), loInclusive: true, hi: own.end(i), hiInclusive: false }, seq);
          if (k) return conflict(`key ${printableKey(k)}, in a range this transaction deletes, was written after its snapshot`);
        }
        if (serializable) {
          for (let i = 0, n = reads?.count ?? 0; i < n; i++) {
            if (tracker.writtenAfter(reads!.hash(i), seq) || (rangeDeletedSince && tracker.keyDeletedAfter(reads!.key(i), seq))) {
              return conflict(`key ${printableKey(reads!.key(i))}, read by this transaction, was written by a commit after its snapshot`);
            }
          }
          for (const r of ranges) {
            const k = tracker.rangeWrittenAfter(r, seq);
            if (k) return conflict(`key ${printableKey(k)}, in a range this transaction iterated, was written after its snapshot (phantom)`);
          }
        }
        // Validated: nothing else is ever checked against this snapshot, so the tracker slot closes
        // now, before accept() records our keys. When no other transaction is open, a large commit is
        // then not recorded at all (the write queue keeps it as unrecorded until it is published).
        if (held.inTracker) {
          held.inTracker = false;
          tracker.close(seq);
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

  /**
   * The write buffer as one encoded batch (the union of its deleted ranges, then its newest version
   * of each key that none of its range deletes came after) and the packed set of its keys, in one
   * pass: the buffer yields user keys sorted, newest version first, and the key set keeps the first of
   * each (comparing in its own arena, no slice per key).
   */
  private encodeBuffer(buffer: MemTable): { ops: Uint8Array; keys: KeySet; userBytes: number; count: number } {
    // Sized from the bounds: no doubling copies (a 1,000,000-put batch used to end in a 32 MiB buffer
    // for 19 MB, after copying 31 MiB on the way); exact unless keys were overwritten.
    const w = new ByteWriter(Math.max(16, this.encodedBound));
    const keySet = new KeySetBuilder(buffer.entries, this.keyBound);
    let userBytes = 0;
    let count = 0;
    let deleted: RangeSet | undefined;
    const fragments = buffer.rangeDeletions > 0 ? buffer.rangeDelFragments() : undefined;
    if (fragments) {
      // Ranges first: they take the batch's lowest sequence numbers, below every write that follows.
      deleted = RangeSet.of(fragments.fragments().map((f) => [f.start, f.end] as const));
      for (let i = 0; i < deleted.count; i++) {
        encodeSingleOp(w, ValueKind.RangeDelete, deleted.start(i), deleted.end(i));
        userBytes += deleted.start(i).length + deleted.end(i).length;
        count++;
      }
    }
    const it = buffer.newIterator();
    // A MemTable iterator is synchronous.
    it.seekToFirst();
    while (it.valid()) {
      const ik = it.key();
      const uk = userKeyOf(ik);
      // The newest version of a key, unless one of the transaction's range deletes came after it.
      if ((!fragments || !fragments.deletes(uk, seqOf(ik), MAX_SEQUENCE)) && keySet.append(uk)) {
        const kind = kindOf(ik);
        const value = kind === ValueKind.Put ? it.value() : EMPTY;
        encodeSingleOp(w, kind, uk, value);
        userBytes += uk.length + value.length;
        count++;
      }
      it.next();
    }
    // Overwrites left the buffer oversized: copy down (the WAL and the write queue hold it until the group is applied).
    const ops = w.buf.length - w.length > (w.length >>> 3) ? w.toBytes() : w.view();
    return { ops, keys: keySet.finish(deleted), userBytes, count };
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
      this.host.tracker.close(this.snap.sequence);
    }
    if (!this.snap.released) this.snap.release();
    this.buffer = undefined;
    this.reads = undefined;
  }
}

const EMPTY = new Uint8Array(0);

function conflict(message: string): TransactionConflictError {
  return new TransactionConflictError(`transaction conflict: ${message}`);
}
