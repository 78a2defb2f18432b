/**
 * LockTable: the per-key exclusive locks of pessimistic transactions (README "Transactions: which
 * mode when"), in the main thread. A lock is named by the key's 52-bit hash (keyHash52): two keys
 * that collide share a lock, which can only make a transaction wait, never let two hold one key.
 *
 * Layout: one SeqHashTable maps hash -> owner id (16 B a slot, no JS object per held key); each
 * owner keeps the hashes it holds in one growable Float64Array (8 B a lock), so release walks them
 * without a per-key object anywhere. Only a contended key gets a JS object: its FIFO queue of
 * waiters, created when the first waiter arrives and dropped when the last is granted.
 *
 * Fairness: a released lock goes to the first waiter of its queue; a free lock has no waiters, so
 * a newcomer never overtakes one that waits (no barging).
 *
 * Deadlocks: checked on every new wait, by walking the wait-for graph from the new waiter. A waiter
 * waits for the one just ahead of it in its queue, the first waiter for the holder; that is enough
 * for FIFO queues. A grant only removes edges; the one other way an edge appears is a waiter leaving
 * a queue (its owner failed or ended), so the waiter behind it is checked again then. The youngest
 * owner on the cycle (highest id: ids grow with age) is the victim.
 *
 * Failure: a victim, or a waiter whose timeout expires, fails as a whole: every wait it has rejects
 * with the error, its locks are released at once (so the others go on without its cooperation), and
 * `owner.failure` keeps the error for the transaction to report on its next call. Timers come from
 * `LockTimers`, so tests drive timeouts by hand.
 * Main thread only. Not here: what a lock protects and when it is validated (transaction-locks.ts).
 */
import { SeqHashTable } from './seq-hash-table.js';
import { LockTimeoutError, DeadlockError, InvalidArgumentError, type StrataError } from '../errors.js';

/** setTimeout/clearTimeout, injectable. */
export interface LockTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: LockTimers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending lock wait must not keep the process alive on its own.
    t.unref?.();
    return t;
  },
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

interface Waiter {
  readonly owner: LockOwner;
  readonly hash: number;
  promise: Promise<number> | undefined;
  readonly resolve: (index: number) => void;
  readonly reject: (e: Error) => void;
  timer: unknown;
}

/** One locker (a transaction). Create with LockTable.newOwner(). */
export class LockOwner {
  /** The hashes held, in the order taken: held(i) for i < count. */
  private hashes = new Float64Array(8);
  private n = 0;
  /** Pending waits (normally one; a transaction may also have deferred writes waiting). */
  readonly waits: Waiter[] = [];
  /** Set when the owner lost a deadlock or timed out: it holds nothing from then on. */
  failure: StrataError | undefined;

  /** @internal */
  constructor(readonly id: number) {}

  get count(): number { return this.n; }
  held(i: number): number { return this.hashes[i]!; }
  /** Bytes this owner's list holds. */
  get bytes(): number { return this.hashes.byteLength; }

  /** @internal */
  push(hash: number): number {
    if (this.n === this.hashes.length) {
      const h = new Float64Array(this.n * 2);
      h.set(this.hashes);
      this.hashes = h;
    }
    this.hashes[this.n] = hash;
    return this.n++;
  }

  /** @internal */
  clear(): void {
    this.n = 0;
    if (this.hashes.length > 64) this.hashes = new Float64Array(8);
  }
}

function deadlockError(): DeadlockError {
  return new DeadlockError('transaction deadlock: this transaction was the youngest in a cycle of lock waits');
}

export class LockTable {
  // Every transaction fills and drains it: a floor of 1024 slots (16 KiB) saves a grow and a shrink per transaction.
  private readonly holders = new SeqHashTable(1024, 1024);
  private readonly queues = new Map<number, Waiter[]>();
  private readonly owners = new Map<number, LockOwner>();
  private nextId = 1;
  /** Waits begun, deadlock victims, waits that timed out (for stats). */
  readonly counters = { lockWaits: 0, deadlocks: 0, lockTimeouts: 0 };

  constructor(private readonly timers: LockTimers = realTimers) {}

  /** Locks held over all owners (for tests and stats). */
  get size(): number { return this.holders.size; }
  /** Keys with waiters (for tests). */
  get contended(): number { return this.queues.size; }
  /** Bytes of the holder table (the owners' lists are counted by their owners). */
  get bytes(): number { return this.holders.bytes; }

  newOwner(): LockOwner {
    const o = new LockOwner(this.nextId++);
    this.owners.set(o.id, o);
    return o;
  }

  /** The owner id holding `hash`, or undefined. */
  holder(hash: number): number | undefined { return this.holders.get(hash); }

  /**
   * Takes the lock on `hash` for `owner`: its index in the owner's list at once (a new index when
   * the lock is new to it, an old one when it held it already), or a promise of it that settles when
   * the lock is granted, or rejects with ERR_TXN_TIMEOUT after `timeoutMs` or ERR_TXN_CONFLICT
   * (DeadlockError) when the owner is a deadlock victim. Throws the owner's failure if it has one.
   */
  acquire(owner: LockOwner, hash: number, timeoutMs: number): number | Promise<number> {
    if (owner.failure) throw owner.failure;
    const h = this.holders.get(hash);
    if (h === undefined) {
      this.holders.set(hash, owner.id);
      return owner.push(hash);
    }
    if (h === owner.id) return this.indexOf(owner, hash);
    // Already in line for it (a second write of a key still waited for): the same wait, not a second
    // place in the queue, which would wait for itself.
    for (const w of owner.waits) if (w.hash === hash) return w.promise!;
    let waiter!: Waiter;
    const promise = new Promise<number>((resolve, reject) => {
      const w: Waiter = waiter = { owner, hash, promise: undefined, resolve, reject, timer: undefined };
      let q = this.queues.get(hash);
      if (!q) this.queues.set(hash, q = []);
      q.push(w);
      owner.waits.push(w);
      this.counters.lockWaits++;
      const victim = this.findDeadlockVictim(owner);
      if (victim) {
        this.deadlock(victim);
        // The victim may have held this very lock: then w was granted just now and needs no timer.
        if (victim === owner || !owner.waits.includes(w)) return;
      }
      // NB: setTimeout clamps a delay past 2^31 - 1 ms (Infinity included) to 1 ms.
      if (timeoutMs > 0x7fff_ffff) return;
      w.timer = this.timers.set(() => {
        w.timer = undefined;
        this.counters.lockTimeouts++;
        this.fail(owner, new LockTimeoutError(`lock wait timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    waiter.promise = promise;
    return promise;
  }

  private indexOf(owner: LockOwner, hash: number): number {
    // Re-entry is rare on the hot path (getForUpdate then put of one key); newest first finds it fast.
    for (let i = owner.count - 1; i >= 0; i--) if (owner.held(i) === hash) return i;
    throw new Error('lock table: a held lock is missing from its owner list');
  }

  /**
   * Releases every lock of `owner` and forgets it (commit, rollback, failure, abandonment); a wait
   * still pending rejects with `reason`. Idempotent.
   */
  releaseAll(owner: LockOwner, reason?: StrataError): void {
    const waits = owner.waits.splice(0);
    const behind: LockOwner[] = [];
    for (const w of waits) this.dropWaiter(w, behind);
    for (let i = 0, n = owner.count; i < n; i++) this.release(owner, owner.held(i));
    owner.clear();
    this.owners.delete(owner.id);
    // NB: made only when needed: an error captures a stack, which costs more than the rest of a release.
    if (waits.length > 0) {
      const why = reason ?? new InvalidArgumentError('the transaction ended while it waited for a lock');
      for (const w of waits) w.reject(why);
    }
    // A waiter that lost the one ahead of it now waits for the one ahead of that (or the holder): a
    // new edge, which can close a cycle no new wait will ever check.
    for (const o of behind) {
      if (o.failure || o.waits.length === 0) continue;
      const victim = this.findDeadlockVictim(o);
      if (victim) this.deadlock(victim);
    }
  }

  private release(owner: LockOwner, hash: number): void {
    if (!this.holders.deleteIf(hash, owner.id)) return;
    const q = this.queues.get(hash);
    if (!q) return;
    const next = q.shift()!;
    if (q.length === 0) this.queues.delete(hash);
    this.holders.set(hash, next.owner.id);
    if (next.timer !== undefined) this.timers.clear(next.timer);
    const ws = next.owner.waits;
    ws.splice(ws.indexOf(next), 1);
    next.resolve(next.owner.push(hash));
  }

  private dropWaiter(w: Waiter, behind: LockOwner[]): void {
    if (w.timer !== undefined) this.timers.clear(w.timer);
    const q = this.queues.get(w.hash);
    if (!q) return;
    const i = q.indexOf(w);
    if (i >= 0) q.splice(i, 1);
    if (i >= 0 && i < q.length) behind.push(q[i]!.owner);
    if (q.length === 0) this.queues.delete(w.hash);
  }

  private deadlock(victim: LockOwner): void {
    this.counters.deadlocks++;
    this.fail(victim, deadlockError());
  }

  /** Fails `owner` with `error`: it keeps the error, its waits reject with it, its locks go. Idempotent. */
  fail(owner: LockOwner, error: StrataError): void {
    if (owner.failure) return;
    owner.failure = error;
    this.releaseAll(owner, error);
  }

  /** Who `w` waits for: the waiter just ahead of it, or the holder when it is first. */
  private waitsFor(w: Waiter): LockOwner | undefined {
    const q = this.queues.get(w.hash)!;
    const i = q.indexOf(w);
    if (i > 0) return q[i - 1]!.owner;
    const id = this.holders.get(w.hash);
    return id === undefined ? undefined : this.owners.get(id);
  }

  /** The youngest owner on a wait-for cycle through `start`, or undefined when there is none. */
  private findDeadlockVictim(start: LockOwner): LockOwner | undefined {
    const path: LockOwner[] = [];
    const seen = new Set<LockOwner>();
    const walk = (o: LockOwner): boolean => {
      path.push(o);
      seen.add(o);
      for (const w of o.waits) {
        const next = this.waitsFor(w);
        if (!next) continue;
        if (next === start) return true;
        if (!seen.has(next) && walk(next)) return true;
      }
      path.pop();
      return false;
    };
    if (!walk(start)) return undefined;
    let victim = path[0]!;
    for (const o of path) if (o.id > victim.id) victim = o;
    return victim;
  }
}
