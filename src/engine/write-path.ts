/**
 * The engine's side of the group commit (write-queue.ts's WriteQueueHost): what a write group does
 * between the queue's steps. It owns the published sequence (the last write visible to reads), the
 * conflict records of writes in flight for open transactions, and the reusable encoders, so the
 * path from put() to the memtable allocates only the request itself.
 *
 * One write, in order: makeRoom (write stall, then a memtable switch when full) → accept (conflict
 * records) → appendToWal (one record for the group) → syncWal (if asked) → apply (memtable insert,
 * publish). Main thread only.
 *
 * Large batches bypass the memtable (Pebble's flushable batches): a request that would take half the
 * write buffer or more in the memtable (its encoded bytes plus MEMTABLE_BYTES_PER_OP per op: a
 * 1,000,000-put transaction of 16-byte ops is 19 MiB encoded but 74 MiB as memtable entries), and
 * holds no range delete, is a group of its own (write-queue.ts). makeRoom gives it a slot among the
 * maxWriteBufferNumber memtables and switches a non-empty active memtable, so it is the first thing
 * in its WAL; apply() queues it as a FlushableBatch (its bytes as they are, plus 8 B per op) instead
 * of copying it into the memtable, and seals the WAL so that it stays the only thing there: the next
 * makeRoom, before any stall, rolls to a new WAL, and an exclusive roll is queued at once for when no
 * write follows (the batch's flush waits for it: memtable-set.ts).
 * Recovery replays such a WAL into an ordinary memtable, like any other.
 */
import type { MaybePromise } from '../base/internal-iterator.js';
import { ByteWriter } from '../base/coding.js';
import { ByteSlab } from '../base/byte-slab.js';
import { DatabaseClosedError, InternalError } from '../errors.js';
import { encodeSingleOp } from '../wal/write-batch.js';
import { WalGroupEncoder } from '../wal/wal-record.js';
import { ConflictTracker } from '../mvcc/conflict-tracker.js';
import { keySetOfOps, type KeySet } from '../mvcc/key-set.js';
import type { ResolvedOptions } from '../options.js';
import { WriteQueue, type WriteRequest, type WriteQueueHost } from './write-queue.js';
import { memtableFull } from '../memtable/memtable.js';
import { FlushableBatch, indexOps } from '../memtable/flushable-batch.js';
import type { MemtableSet } from './memtable-set.js';
import type { BackgroundError } from './background-error.js';
import type { WriteStall } from './write-stall.js';
import type { StatsCounters } from './stats.js';

/**
 * What a MemTable spends per entry beyond the op's encoded bytes (trailer, entry row, hash and run
 * slots): 77 B per 16-byte put whose op is 19 B (bench/RESULTS-txn.md), rounded down.
 */
export const MEMTABLE_BYTES_PER_OP = 56;

export interface WritePathHost {
  readonly o: ResolvedOptions;
  readonly memtables: MemtableSet;
  readonly failure: BackgroundError;
  readonly stall: WriteStall;
  readonly counters: StatsCounters;
  /** Writes are refused as closed (close() itself still runs its final flush through the queue). */
  closed(): boolean;
  /** Resolves when a flush made room (or flushing stopped). */
  waitForFlush(): Promise<void>;
  /** The published sequence moved: the VersionSet records it for the next edit. */
  onPublished(seq: number): void;
}

export class WritePath implements WriteQueueHost {
  readonly queue: WriteQueue;
  readonly tracker: ConflictTracker;
  private published: number;
  /** Members accepted while no transaction was open, until their group is published. */
  private unrecorded: WriteRequest[] = [];
  private readonly encoder = new WalGroupEncoder();
  private readonly single = new ByteWriter(64);
  /** Where a single op's request copy lives (byte-slab.ts: no ArrayBuffer per put). */
  private readonly slab = new ByteSlab();

  constructor(private readonly host: WritePathHost, lastSequence: number) {
    this.published = lastSequence;
    this.tracker = new ConflictTracker(() => this.published);
    this.queue = new WriteQueue(this);
  }

  /** The sequence of the last write visible to reads. */
  lastSequence(): number { return this.published; }

  /** Read-only views: a catch-up moved the published sequence to what the writer had. */
  setPublished(seq: number): void { this.published = seq; }

  /** One put or delete, encoded into a reusable buffer (the request takes a copy from the slab). */
  submitSingle(kind: number, k: Uint8Array, v: Uint8Array, sync: boolean): Promise<void> {
    const w = this.single;
    w.reset();
    encodeSingleOp(w, kind, k, v);
    return this.submit(this.slab.copy(w.view()), 1, k.length + v.length, sync);
  }

  submit(ops: Uint8Array, count: number, userBytes: number, sync: boolean,
    extra?: Pick<WriteRequest, 'validate' | 'conflictKeys' | 'onCommitted'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.submit({ ops, count, userBytes, sync, resolve, reject, ...extra });
    });
  }

  /**
   * A transaction's snapshot is being taken: writes accepted while no transaction was open, and still
   * in flight, land above it, so they are recorded for its conflict check now.
   */
  recordInFlight(): void {
    for (const r of this.unrecorded) this.tracker.record(this.published + 1, conflictKeysOf(r), true);
    this.unrecorded.length = 0;
  }

  // ---------------------------------------------------------------- WriteQueueHost

  accept(r: WriteRequest): void {
    // Nobody can conflict with it yet; but a transaction may begin before the group is published
    // (while it awaits its WAL sync): recordInFlight records these then.
    if (this.tracker.openTransactions === 0) { this.unrecorded.push(r); return; }
    // Recorded at published + 1: above every open snapshot, which is all the check needs.
    this.tracker.record(this.published + 1, conflictKeysOf(r));
  }

  writeError(): Error | undefined {
    if (this.host.closed()) return new DatabaseClosedError();
    return this.host.failure.refusal();
  }

  /**
   * Room for the next write group: a sealed WAL rolls over first (never behind a stall: the flush a
   * stall waits for may be waiting for this roll), then write stalls, then a full memtable (or, for
   * a large batch, any non-empty one) is switched.
   */
  makeRoom(first: WriteRequest): MaybePromise<void> {
    const memtables = this.host.memtables;
    if (memtables.sealed) return memtables.switch();
    return this.host.stall.check(first.userBytes) ?? this.makeRoomForMemtable(this.isLarge(first));
  }

  isLarge(r: WriteRequest): boolean {
    if (r.flushable === undefined) {
      const inMemtable = r.ops.length + r.count * MEMTABLE_BYTES_PER_OP;
      r.flushable = r.count > 0 && inMemtable >= this.host.o.writeBufferSize / 2 ? indexOps(r.ops, r.count, opsFail) ?? null : null;
    }
    return r.flushable !== null;
  }

  appendToWal(group: readonly WriteRequest[], firstSeq: number, now: number): void {
    // Parts, not one array: a 100 MiB value is framed in place, never copied into a group buffer.
    const parts = this.encoder.encodeParts(group, firstSeq, now);
    try {
      this.host.memtables.currentWal!.appendGroupParts(parts);
      this.host.counters.walBytesWritten += this.encoder.byteLength;
    } finally {
      this.encoder.release(); // a large batch is referenced, not copied: do not pin it past the write
    }
  }

  syncWal(): Promise<void> { return this.host.memtables.currentWal!.sync(); }

  apply(group: readonly WriteRequest[], firstSeq: number): void {
    const memtables = this.host.memtables;
    const m = memtables.mem;
    const counters = this.host.counters;
    let seq = firstSeq;
    const only = group.length === 1 ? group[0]! : undefined;
    // makeRoom left the batch alone in its WAL; checked again, as the bypass is only right then.
    if (only?.flushable && m.entries === 0 && !memtables.sealed) {
      memtables.addFlushable(new FlushableBatch(only.ops, only.flushable, firstSeq));
      seq += only.count;
      counters.userBytesWritten += only.userBytes;
      counters.writes += only.count;
      void this.queue.exclusive(() => memtables.sealed ? memtables.switch() : Promise.resolve())
        .catch(() => undefined)
        .finally(() => memtables.releaseUnsealWaiters());
    } else {
      for (const r of group) {
        seq = m.addOps(r.ops, 0, r.ops.length, r.count, seq, opsFail);
        counters.userBytesWritten += r.userBytes;
        counters.writes += r.count;
      }
    }
    this.published = seq - 1;
    this.host.onPublished(this.published);
    this.unrecorded.length = 0;
  }

  onWalFailure(e: unknown): void {
    this.unrecorded.length = 0;
    this.host.failure.set(e, 'WAL write or sync failed');
  }

  now(): number { return this.host.o.clock(); }

  private makeRoomForMemtable(large: boolean): MaybePromise<void> {
    const { memtables, o } = this.host;
    const stall = this.host.stall;
    if (large ? memtables.mem.entries === 0 && memtables.immutable.length < o.maxWriteBufferNumber - 1 : !memtableFull(memtables.mem, o)) {
      stall.proceed();
      return undefined;
    }
    if (memtables.immutable.length >= o.maxWriteBufferNumber - 1) {
      stall.enter('memtables-full');
      const t0 = performance.now();
      return this.host.waitForFlush().then(() => { this.host.counters.stopMs += performance.now() - t0; });
    }
    stall.proceed();
    return memtables.switch();
  }
}

/** The keys a write request writes, packed (for the conflict tracker; decoded only when needed). */
export function conflictKeysOf(r: WriteRequest): KeySet {
  const keys = r.conflictKeys;
  if (keys === undefined) return keySetOfOps(r.ops, r.count, opsFail);
  return typeof keys === 'function' ? keys() : keys;
}

function opsFail(offset: number, detail: string): never {
  throw new InternalError(`encoded operations malformed at ${offset}: ${detail}`);
}
