/**
 * The locks one pessimistic transaction holds (README "Transactions": pessimistic mode), and the
 * sequence each locked key is validated from.
 *
 * Why a sequence per key: a lock keeps other transactions off a key from the moment it is granted,
 * but a commit between the transaction's snapshot and the grant has already happened. At the grant
 * the transaction checks the conflict tracker: if the key was written after its read snapshot, it
 * either moves its snapshot forward (allowed while every read it made was of a key it holds locked:
 * other transactions cannot have changed those, so the newer snapshot reads them the same; a plain
 * write can, which isAnyWrittenSince checks) or fails with ERR_TXN_CONFLICT (it read something
 * unlocked at the old snapshot, or a plain write changed a locked key). The snapshot in force at the
 * grant is the key's validation point. Plain writes (db.put, db.write) take no locks, so commit
 * still checks every locked key for a write after its point: the same hash lookup an optimistic
 * commit makes, but it can only fail when a plain write raced the transaction.
 *
 * Writes are synchronous calls (tx.put stays `void`): a put whose lock is free takes it before its
 * write is buffered; a contended one queues its wait and buffers, and commit waits for every queued
 * lock first. A wait that fails (timeout, deadlock) fails the transaction as a whole: its locks are
 * released at once and its next call, commit included, reports the error.
 * Memory per lock: 8 B in the owner's list, 8 B here, one SeqHashTable slot in the table.
 * Main thread only. Not here: the lock table itself (lock-table.ts).
 */
import type { LockOwner, LockTable } from './lock-table.js';
import type { StrataError } from '../errors.js';

export class TransactionLocks {
  readonly owner: LockOwner;
  /** seqs[i]: the validation point of the owner's lock i (-1 until its grant is checked). */
  private seqs = new Float64Array(8).fill(-1);
  private pending: Promise<void>[] = [];

  constructor(private readonly table: LockTable, private readonly timeoutMs: number) {
    this.owner = table.newOwner();
  }

  /** The error that failed this transaction's locking, if any. */
  get failure(): StrataError | undefined { return this.owner.failure; }
  get count(): number { return this.owner.count; }
  hash(i: number): number { return this.owner.held(i); }
  seq(i: number): number { return this.seqs[i]!; }
  get bytes(): number { return this.owner.bytes + this.seqs.byteLength; }

  /**
   * Locks `hash`; `granted()` runs when it is held, before anything else of the transaction, and
   * returns the validation sequence for a lock new to it (it may throw: the transaction fails). Returns
   * undefined when done at once, else a promise that settles once granted and checked (it rejects with
   * the failure).
   */
  lock(hash: number, granted: (hash: number) => number): Promise<void> | undefined {
    const r = this.table.acquire(this.owner, hash, this.timeoutMs);
    if (typeof r === 'number') {
      this.onGrant(r, hash, granted);
      return undefined;
    }
    return r.then((i) => this.onGrant(i, hash, granted));
  }

  /** lock(), for a write: a wait is queued for commit instead of awaited (a failure is kept in `failure`). */
  lockForWrite(hash: number, granted: (hash: number) => number): void {
    const p = this.lock(hash, granted);
    if (p) this.pending.push(p.catch(() => undefined));
  }

  private onGrant(index: number, hash: number, granted: (hash: number) => number): void {
    if (this.owner.failure) throw this.owner.failure;
    // Grants may be checked out of order (a queued one resumes after a later one granted at once).
    if (index < this.seqs.length && this.seqs[index]! >= 0) return; // held already: its point stands
    let seq: number;
    try {
      seq = granted(hash);
    } catch (e) {
      this.fail(e as StrataError);
      throw e;
    }
    if (index >= this.seqs.length) {
      const s = new Float64Array(Math.max(index + 1, this.seqs.length * 2)).fill(-1);
      s.set(this.seqs);
      this.seqs = s;
    }
    this.seqs[index] = seq;
  }

  /**
   * True when a key this transaction holds was written after its validation point: only a plain write
   * can do that, and then the snapshot must not move (what was read of that key would not hold at the
   * newer snapshot). O(locks held), paid only when the snapshot is about to move.
   */
  isAnyWrittenSince(writtenAfter: (hash: number, seq: number) => boolean): boolean {
    for (let i = 0, n = this.owner.count; i < n && i < this.seqs.length; i++) {
      const seq = this.seqs[i]!;
      if (seq >= 0 && writtenAfter(this.owner.held(i), seq)) return true;
    }
    return false;
  }

  /** Fails the transaction with `e` and releases its locks. */
  fail(e: StrataError): void {
    this.table.fail(this.owner, e);
  }

  /**
   * Waits for every queued write lock; rejects (or throws, with none queued) with the failure, if any.
   * Undefined when nothing is queued: commit then submits in the same turn it was called, so commits
   * and plain writes reach the write queue in the order they were called.
   */
  settle(): Promise<void> | undefined {
    if (this.pending.length === 0) {
      if (this.owner.failure) throw this.owner.failure;
      return undefined;
    }
    return (async () => {
      while (this.pending.length > 0) await Promise.all(this.pending.splice(0));
      if (this.owner.failure) throw this.owner.failure;
    })();
  }

  release(): void {
    this.table.releaseAll(this.owner);
  }
}
