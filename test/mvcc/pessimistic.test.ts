/**
 * Pessimistic transactions through the public API: getForUpdate waits in line and reads the newest
 * value, writes lock before they buffer, the snapshot moves only while every read was of a locked
 * key, plain writes that bypass the locks still conflict at commit, deadlocks of 2 and 3
 * transactions, lock timeouts, FIFO hand-over, locks released by commit, rollback and garbage
 * collection, option checks; optimistic getForUpdate; and, in both modes, a commit with no lock queued
 * reaching the write queue in the turn it was called (before a put called after it). Interleavings are driven by hand (each
 * step awaited), timeouts by a short lockTimeoutMs whose rejection is awaited, never a sleep.
 * Not here: the lock table alone (lock-table.test.ts); anomalies and histories in pessimistic mode
 * (anomalies.test.ts, history-checker.test.ts, bank.test.ts run both modes).
 */
import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DB, MemFileSystem, WriteBatch, type Transaction } from '../../src/index.js';

const CONFLICT = { code: 'ERR_TXN_CONFLICT' };
const DEADLOCK = { code: 'ERR_TXN_CONFLICT', name: 'DeadlockError' };
const P = { locking: 'pessimistic' } as const;

async function open(): Promise<DB> {
  return DB.open('/db', { fs: new MemFileSystem() });
}

async function str(p: Promise<Uint8Array | undefined>): Promise<string | undefined> {
  const v = await p;
  return v === undefined ? undefined : Buffer.from(v).toString();
}

/** Lets every settled promise callback run (no timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}

function track<T>(p: Promise<T>): { state: () => 'pending' | 'fulfilled' | 'rejected'; p: Promise<T> } {
  let state: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  p.then(() => { state = 'fulfilled'; }, () => { state = 'rejected'; });
  return { state: () => state, p };
}

describe('pessimistic: locks and reads', () => {
  it('getForUpdate waits for the holder and then reads its commit: two increments, no abort', async () => {
    const db = await open();
    await db.put('x', '10');
    const a = db.beginTransaction(P);
    const b = db.beginTransaction(P);
    expect(await str(a.getForUpdate('x'))).toBe('10');
    const bRead = track(str(b.getForUpdate('x')));
    await settle();
    expect(bRead.state()).toBe('pending');
    a.put('x', '11');
    await a.commit();
    expect(await bRead.p).toBe('11'); // the newest value, not b's snapshot's
    b.put('x', '12');
    await b.commit();
    expect(await str(db.get('x'))).toBe('12');
    await db.close();
  });

  it('a contended put buffers at once and commit waits for its lock; the snapshot moves (no unlocked read)', async () => {
    const db = await open();
    const a = db.beginTransaction(P);
    const b = db.beginTransaction(P);
    a.put('x', 'a');
    b.put('x', 'b'); // queued behind a
    const bCommit = track(b.commit());
    await settle();
    expect(bCommit.state()).toBe('pending');
    await a.commit();
    await bCommit.p;
    expect(await str(db.get('x'))).toBe('b');
    await db.close();
  });

  it('after a read of an unlocked key the snapshot is fixed: locking a key written since is a conflict', async () => {
    const db = await open();
    const t = db.beginTransaction(P);
    expect(await t.get('y')).toBeUndefined(); // an unlocked read at the snapshot
    await db.put('x', 'new');
    await expect(t.getForUpdate('x')).rejects.toMatchObject(CONFLICT);
    // The transaction failed as a whole: a write does not throw it (writes stay synchronous), reads
    // and commit report it, its locks are gone.
    t.put('z', '1');
    await expect(t.get('z')).rejects.toMatchObject(CONFLICT);
    await expect(t.commit()).rejects.toMatchObject(CONFLICT);
    t.rollback();
    const u = db.beginTransaction(P);
    expect(await str(u.getForUpdate('x'))).toBe('new');
    u.rollback();
    await db.close();
  });

  it('with only locked reads the snapshot moves to the newest commit', async () => {
    const db = await open();
    await db.put('a', '1');
    const t = db.beginTransaction(P);
    await db.write(new WriteBatch().put('a', '2').put('b', '2'));
    const before = t.snapshotSequence;
    expect(await str(t.getForUpdate('a'))).toBe('2');
    expect(t.snapshotSequence).toBeGreaterThan(before);
    expect(await str(t.get('b'))).toBe('2'); // the same, newer snapshot for every read after
    t.put('a', '3');
    await t.commit();
    await db.close();
  });

  it('the snapshot does not move past a plain write to a key it read locked (reads would disagree)', async () => {
    const db = await open();
    await db.put('c', '1');
    const t = db.beginTransaction(P);
    expect(await str(t.getForUpdate('c'))).toBe('1');
    await db.put('c', 'plain'); // bypasses t's lock
    await db.put('d', 'x'); // written after t's snapshot: locking it would move the snapshot
    await expect(t.getForUpdate('d')).rejects.toMatchObject(CONFLICT);
    await expect(t.commit()).rejects.toMatchObject(CONFLICT); // read-only, yet refused: its reads failed
    await db.close();
  });

  it('a plain write bypasses the locks, so commit still refuses a lost update', async () => {
    const db = await open();
    await db.put('x', '1');
    const t = db.beginTransaction(P);
    expect(await str(t.getForUpdate('x'))).toBe('1');
    await db.put('x', 'plain'); // no lock taken by plain writes
    t.put('x', '2');
    await expect(t.commit()).rejects.toMatchObject(CONFLICT);
    expect(await str(db.get('x'))).toBe('plain');
    await db.close();
  });

  it('deleteRange in a pessimistic transaction is ERR_NOT_SUPPORTED and buffers nothing', async () => {
    const db = await open();
    const t = db.beginTransaction(P);
    expect(() => t.deleteRange('a', 'b')).toThrow(expect.objectContaining({ code: 'ERR_NOT_SUPPORTED' }));
    t.put('c', '1');
    await t.commit();
    expect(await str(db.get('c'))).toBe('1');
    await db.close();
  });
});

describe('pessimistic: deadlocks, timeouts, fairness', () => {
  it('a cycle of 2: the younger transaction is refused (DeadlockError), the older commits', async () => {
    const db = await open();
    const a = db.beginTransaction(P);
    const b = db.beginTransaction(P);
    await a.getForUpdate('k1');
    await b.getForUpdate('k2');
    const aWait = track(a.getForUpdate('k2'));
    await expect(b.getForUpdate('k1')).rejects.toMatchObject(DEADLOCK);
    await aWait.p;
    a.put('k1', 'a');
    a.put('k2', 'a');
    await a.commit();
    await expect(b.commit()).rejects.toMatchObject(DEADLOCK);
    b.rollback();
    expect(await str(db.get('k2'))).toBe('a');
    expect(db.stats().transactions).toMatchObject({ lockWaits: 2, deadlocks: 1, lockTimeouts: 0, locksHeld: 0, conflicts: 0 });
    await db.close();
  });

  it('a cycle of 3 through deferred puts: the youngest is refused at its commit, the others commit', async () => {
    const db = await open();
    const [a, b, c] = [db.beginTransaction(P), db.beginTransaction(P), db.beginTransaction(P)];
    a.put('k1', 'a');
    b.put('k2', 'b');
    c.put('k3', 'c');
    b.put('k3', 'b'); // b waits for c
    c.put('k1', 'c'); // c waits for a
    a.put('k2', 'a'); // a waits for b: the cycle closes; c (youngest) loses
    const results = await Promise.allSettled([a.commit(), b.commit(), c.commit()]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject(DEADLOCK);
    expect([await str(db.get('k1')), await str(db.get('k2')), await str(db.get('k3'))]).toEqual(['a', 'a', 'b']);
    await db.close();
  });

  it('a wait longer than lockTimeoutMs fails with ERR_TXN_TIMEOUT and releases what the waiter held', async () => {
    const db = await open();
    const holder = db.beginTransaction(P);
    await holder.getForUpdate('x');
    const waiter = db.beginTransaction({ ...P, lockTimeoutMs: 5 });
    await waiter.getForUpdate('y');
    await expect(waiter.getForUpdate('x')).rejects.toMatchObject({ code: 'ERR_TXN_TIMEOUT' });
    expect(db.stats().transactions).toMatchObject({ lockTimeouts: 1, locksHeld: 1 });
    const other = db.beginTransaction({ ...P, lockTimeoutMs: 0 });
    expect(await other.getForUpdate('y')).toBeUndefined(); // y was released at once (a zero timeout would fail on a wait)
    other.rollback();
    holder.rollback();
    await db.close();
  });

  it('waiters get the lock in arrival order (FIFO) and each runs its function once', async () => {
    const db = await open();
    await db.put('order', '');
    const first = db.beginTransaction(P);
    await first.getForUpdate('order');
    const N = 12;
    const calls = new Array<number>(N).fill(0);
    const runs = Array.from({ length: N }, (_, i) => db.transaction(async (tx) => {
      calls[i]!++;
      const cur = await str(tx.getForUpdate('order'));
      tx.put('order', `${cur}${i},`);
    }, P));
    await settle();
    first.rollback();
    await Promise.all(runs);
    expect(await str(db.get('order'))).toBe(Array.from({ length: N }, (_, i) => `${i},`).join(''));
    expect(calls).toEqual(new Array(N).fill(1));
    expect(db.stats().transactions.retries).toBe(0);
    await db.close();
  });

  it('commit and rollback release the locks', async () => {
    const db = await open();
    for (const end of ['commit', 'rollback'] as const) {
      const t = db.beginTransaction(P);
      await t.getForUpdate('x');
      t.put('x', end);
      const next = db.beginTransaction({ ...P, lockTimeoutMs: 0 });
      if (end === 'commit') await t.commit(); else t.rollback();
      await next.getForUpdate('x'); // free now: no wait, so a zero timeout cannot fire
      next.rollback();
    }
    await db.close();
  });

  it('an abandoned transaction\'s locks are released when it is garbage-collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const db = await open();
    await (async () => {
      const t: Transaction = db.beginTransaction(P);
      await t.getForUpdate('x');
      t.put('y', '1');
    })();
    const waiter = db.beginTransaction({ ...P, lockTimeoutMs: Infinity });
    const got = track(waiter.getForUpdate('x'));
    for (let i = 0; i < 20 && got.state() === 'pending'; i++) {
      gc();
      await new Promise((r) => setImmediate(r)); // finalizers run as tasks after a collection
    }
    expect(got.state()).toBe('fulfilled');
    waiter.rollback();
    await db.close();
  });
});

describe('options and optimistic getForUpdate', () => {
  it('refuses a bad locking, lockTimeoutMs or backoff, naming it', async () => {
    const db = await open();
    expect(() => db.beginTransaction({ locking: 'eager' as never })).toThrow(/options.locking/);
    expect(() => db.beginTransaction({ ...P, lockTimeoutMs: -1 })).toThrow(/lockTimeoutMs/);
    expect(() => db.beginTransaction({ ...P, lockTimeoutMs: 1.5 })).toThrow(/lockTimeoutMs/);
    await expect(db.transaction(() => 1, { backoff: { baseMs: -1 } })).rejects.toThrow(/backoff.baseMs/);
    await expect(db.transaction(() => 1, { backoff: { max: 3 } as never })).rejects.toThrow(/unknown option "max"/);
    await expect(db.transaction(() => 1, { locking: 'x' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(db.stats().transactions.open).toBe(0);
    await db.close();
  });

  it('optimistic getForUpdate makes a key read, then written by someone else, a conflict', async () => {
    const db = await open();
    await db.put('x', '1');
    for (const viaForUpdate of [false, true]) {
      const t = db.beginTransaction();
      expect(await str(viaForUpdate ? t.getForUpdate('x') : t.get('x'))).toBe('1');
      await db.put('x', '1');
      t.put('y', 'derived from x');
      if (viaForUpdate) await expect(t.commit()).rejects.toMatchObject(CONFLICT);
      else await t.commit(); // snapshot isolation: a plain read is no write
    }
    await db.close();
  });

  it('db.transaction retries a deadlock victim: both functions end up committed', async () => {
    const db = await open();
    let calls = 0;
    let bothHoldFirst!: () => void;
    const gate = new Promise<void>((r) => { bothHoldFirst = r; });
    let holding = 0;
    const swap = (first: string, second: string): Promise<void> => db.transaction(async (tx) => {
      calls++;
      await tx.getForUpdate(first);
      if (++holding === 2) bothHoldFirst();
      await gate;
      await tx.getForUpdate(second);
      tx.put(first, second);
      tx.put(second, first);
    }, { ...P, backoff: { maxMs: 0 } });
    await Promise.all([swap('a', 'b'), swap('b', 'a')]);
    expect(calls).toBe(3);
    expect(db.stats().transactions.retries).toBe(1);
    await db.close();
  });
});

describe('commit order is call order', () => {
  for (const locking of ['optimistic', 'pessimistic'] as const) {
    it(`${locking}: a commit and a plain put called in the same turn get sequences in that order`, async () => {
      const db = await DB.open('/db', { fs: new MemFileSystem() });
      const tx = db.beginTransaction({ locking });
      tx.put('a', '1');
      const commit = tx.commit(); // no lock is queued: it must reach the write queue before the put below
      const put = db.put('b', '2');
      await Promise.all([commit, put]);
      const order: string[] = [];
      for await (const u of db.getUpdatesSince(1)) order.push(...u.ops.map((o) => o.key.toString()));
      expect(order).toEqual(['a', 'b']);
      await db.close();
    });
  }
});
