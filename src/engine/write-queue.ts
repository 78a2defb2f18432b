/**
 * Group commit (DESIGN.md "Data flow: Write"). Writers queue; the first one to find no leader leads:
 * it takes the whole queue as one group, lets each member validate in commit order (transactions),
 * assigns consecutive sequence numbers, appends ONE WAL record for the group with a synchronous
 * write, fdatasyncs once if any member asked for sync, applies the group to the memtable, publishes
 * the new last sequence and resolves every member. Writers arriving while a group waits for its
 * fdatasync form the next, larger group.
 *
 * Why the memtable insert waits for the sync: a write must not become visible before it is durable
 * as promised, and visibility must follow sequence order (LevelDB holds its writer queue the same way).
 *
 * The leader starts in a microtask, not inside the first caller: every write submitted in the same
 * synchronous run (32 puts issued at once, or the continuations a finished group resolves) joins one
 * group and one WAL write. A lone awaited put pays that one microtask and no timer (an async function
 * runs synchronously until its first await, and we await only real promises).
 *
 * Failure: a WAL append or sync failure rejects the whole group and is reported to the host, which
 * makes the database refuse further writes (ERR_READ_ONLY): an acknowledged write is never lost.
 *
 * Large requests (the host's isLarge: a batch held as a flushable batch, write-path.ts) form a group
 * of their own: a group never holds one beside other requests, and makeRoom is asked for it first.
 *
 * Exclusive work (a memtable switch asked for by flush(), close() or key rotation) queues behind the
 * writes submitted before it and runs in the leader between groups, never while a group is between
 * its WAL append and its memtable insert: the WAL a group is appended to and the memtable it is
 * applied to are always a pair. A switch that ran during a group's fdatasync would put the group's
 * record in the old WAL and its entries in the new memtable; the old WAL is deleted once the old
 * memtable is flushed, and a crash then loses the acknowledged group.
 * Main thread only.
 */
import type { MaybePromise } from '../base/internal-iterator.js';
import { shouldYield } from '../base/yield-guard.js';
import type { KeySet } from '../mvcc/key-set.js';

export interface WriteRequest {
  /** Encoded operations (WriteBatch wire format), owned by the request (never mutated after enqueue). */
  ops: Uint8Array;
  /** Number of operations, i.e. sequence numbers the request consumes. */
  count: number;
  /** Key + value bytes, for stats and the write-stall rate. */
  userBytes: number;
  sync: boolean;
  /**
   * Optional commit-time check, called by the leader in commit order just before sequence numbers are
   * assigned (transactions' conflict validation). Returning an error rejects this member only: it gets
   * no sequence numbers and writes nothing.
   */
  validate?: () => Error | undefined;
  /** Keys this request writes, or how to make them (transactions: made once, when first needed); else decoded from ops. */
  conflictKeys?: KeySet | (() => KeySet);
  /** Called for accepted members after the group is applied, with the member's first sequence. */
  onCommitted?: (firstSeq: number) => void;
  /** The host's index of a large request's ops, made once by isLarge (null: not large). */
  flushable?: Uint32Array | null;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface WriteQueueHost {
  /**
   * Called for each member accepted into a group, in commit order, right after its validate(): the
   * host records what it writes for the conflict checks of open transactions.
   */
  accept(req: WriteRequest): void;
  /** Refuses writes (sticky error, closed): the error to reject with, or undefined. */
  writeError(): Error | undefined;
  /** Make room for the request at the head of the queue (memtable switch, stalls). Undefined when ready. */
  makeRoom(first: WriteRequest): MaybePromise<void>;
  /** Whether `req` must be a group of its own (a large batch: see the header). */
  isLarge(req: WriteRequest): boolean;
  /** The sequence number of the last applied write. */
  lastSequence(): number;
  /** Appends the group to the WAL as one record (synchronous write). Throws on I/O failure. */
  appendToWal(group: readonly WriteRequest[], firstSeq: number, commitTimeMs: number): void;
  /** fdatasync of the current WAL. */
  syncWal(): Promise<void>;
  /** Inserts the group into the memtable and publishes lastSequence = firstSeq + count - 1. */
  apply(group: readonly WriteRequest[], firstSeq: number): void;
  /** A WAL write or sync failed: the host turns read-only. */
  onWalFailure(e: unknown): void;
  now(): number;
}

/** Past this many bytes a group is cut, so one huge batch does not hold many small writers hostage. */
const MAX_GROUP_BYTES = 1 << 20;

/** Work that must run with no write group in flight (see the header). */
class Exclusive {
  constructor(
    readonly run: () => Promise<void>,
    readonly resolve: () => void,
    readonly reject: (e: unknown) => void,
  ) {}
}

export class WriteQueue {
  private readonly queue: (WriteRequest | Exclusive)[] = [];
  private leading = false;
  /** A lead() is queued as a microtask. */
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Resolutions waiting in setImmediate: later ones must queue behind them (commit order). */
  private deferred = 0;

  constructor(private readonly host: WriteQueueHost) {}

  /** Enqueues a request; it settles through its own resolve/reject. */
  submit(req: WriteRequest): void {
    const err = this.host.writeError();
    if (err) { req.reject(err); return; }
    this.queue.push(req);
    this.kick();
  }

  /**
   * Runs `fn` after every write submitted before this call is settled and before any submitted after
   * it, with no group in flight; writes wait while it runs. Rejects with the write error (closed,
   * read-only) without running when writes are refused by then.
   */
  exclusive(fn: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push(new Exclusive(fn, resolve, reject));
      this.kick();
    });
  }

  /** Starts a leader in a microtask unless one runs or is queued (see the header: writers gather first). */
  private kick(): void {
    if (this.leading || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.startLead);
  }

  private readonly startLead = (): void => {
    this.scheduled = false;
    if (!this.leading) void this.lead();
  };

  get pending(): number { return this.queue.length; }

  /** Bytes of the encoded requests waiting for a group (stats().memory.pendingWrites). */
  get pendingBytes(): number {
    let n = 0;
    for (const r of this.queue) if (!(r instanceof Exclusive)) n += r.ops.byteLength;
    return n;
  }

  /** Resolves when no group is in flight and the queue is empty (close, flush). */
  whenIdle(): Promise<void> {
    if (!this.leading && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async lead(): Promise<void> {
    this.leading = true;
    try {
      while (this.queue.length > 0) {
        const err = this.host.writeError();
        if (err) { this.rejectAll(err); break; }
        const first = this.queue[0]!;
        if (first instanceof Exclusive) {
          this.queue.shift();
          await this.runExclusive(first);
          continue;
        }
        const room = this.host.makeRoom(first);
        if (room) {
          try { await room; } catch (e) { this.rejectAll(e); break; }
          continue; // state may have changed while waiting
        }
        // Nothing ran since makeRoom: `first` is still the head of the queue.
        const group = this.takeGroup(this.host.isLarge(first));
        if (group.length === 0) continue;
        const firstSeq = this.host.lastSequence() + 1;
        let needSync = false;
        for (const r of group) if (r.sync) { needSync = true; break; }
        try {
          this.host.appendToWal(group, firstSeq, this.host.now());
          if (needSync) await this.host.syncWal();
        } catch (e) {
          this.host.onWalFailure(e);
          for (const r of group) r.reject(e);
          continue; // the next iteration rejects the rest through writeError()
        }
        this.host.apply(group, firstSeq);
        let seq = firstSeq;
        for (const r of group) {
          if (r.onCommitted) r.onCommitted(seq);
          seq += r.count;
        }
        // Resolve through one setImmediate when the event loop has not turned for a while
        // (yield-guard.ts), and behind any resolution already deferred: promises settle in commit
        // order (setImmediate is FIFO).
        if (this.deferred > 0 || shouldYield()) {
          this.deferred++;
          setImmediate(() => {
            this.deferred--;
            for (const r of group) r.resolve();
          });
        } else {
          for (const r of group) r.resolve();
        }
      }
    } finally {
      this.leading = false;
      if (this.queue.length > 0) void this.lead();
      else {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    }
  }

  private async runExclusive(x: Exclusive): Promise<void> {
    let error: unknown;
    let failed = false;
    try { await x.run(); } catch (e) { error = e; failed = true; }
    const settle = failed ? () => x.reject(error) : () => x.resolve();
    // Behind the resolutions already deferred, so callers see settlements in queue order.
    if (this.deferred > 0) {
      this.deferred++;
      setImmediate(() => { this.deferred--; settle(); });
    } else {
      settle();
    }
  }

  /**
   * Takes members in order, validating each (commit order), up to MAX_GROUP_BYTES, an exclusive
   * entry or a large request; `large`: the head is one, and is taken alone.
   */
  private takeGroup(large: boolean): WriteRequest[] {
    const group: WriteRequest[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const r = this.queue[0]!;
      if (r instanceof Exclusive) break;
      if (group.length > 0 && bytes + r.ops.length > MAX_GROUP_BYTES) break;
      // A large request is taken only as the head makeRoom was asked for, and alone.
      if (!large && this.host.isLarge(r)) break;
      this.queue.shift();
      if (r.validate) {
        let e: Error | undefined;
        try { e = r.validate(); } catch (x) { e = x as Error; }
        if (e) { r.reject(e); if (large) break; continue; }
      }
      this.host.accept(r);
      group.push(r);
      bytes += r.ops.length;
      if (large) break;
    }
    return group;
  }

  private rejectAll(e: unknown): void {
    const all = this.queue.splice(0);
    for (const r of all) r.reject(e);
  }
}
