/**
 * LockTable on its own: grants, re-entry, FIFO hand-over, deadlock cycles of 2 and 3 owners (the
 * youngest is the victim, the others go on), timeouts driven by a hand-cranked timer (no clock, no
 * sleeps), and the failed owner's locks going to the next waiter. Hashes are small integers: the
 * table never looks at key bytes.
 */
import { describe, expect, it } from 'vitest';
import { LockTable, type LockTimers } from '../../src/mvcc/lock-table.js';

/** Timers that fire only when the test says so. */
function manualTimers(): LockTimers & { fireAll(): number; pending(): number[] } {
  let next = 1;
  const live = new Map<number, { fn: () => void; ms: number }>();
  return {
    set: (fn, ms) => { const id = next++; live.set(id, { fn, ms }); return id; },
    clear: (h) => { live.delete(h as number); },
    pending: () => [...live.values()].map((t) => t.ms),
    fireAll: () => {
      const due = [...live.entries()];
      live.clear();
      for (const [, t] of due) t.fn();
      return due.length;
    },
  };
}

/** Settles pending promise callbacks (no timers involved). */
const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

function track<T>(p: T | Promise<T>): { state: () => string; value: () => T | undefined; error: () => unknown } {
  let state = 'pending', value: T | undefined, error: unknown;
  Promise.resolve(p).then((v) => { state = 'granted'; value = v; }, (e) => { state = 'failed'; error = e; });
  return { state: () => state, value: () => value, error: () => error };
}

describe('LockTable', () => {
  it('grants a free lock at once, re-entry returns the same index, release frees it', () => {
    const t = new LockTable(manualTimers());
    const a = t.newOwner();
    expect(t.acquire(a, 7, 1000)).toBe(0);
    expect(t.acquire(a, 9, 1000)).toBe(1);
    expect(t.acquire(a, 7, 1000)).toBe(0);
    expect(a.count).toBe(2);
    expect(t.holder(7)).toBe(a.id);
    t.releaseAll(a);
    expect(t.size).toBe(0);
    expect(t.holder(7)).toBeUndefined();
  });

  it('hands a released lock to its waiters in arrival order (FIFO), never to a newcomer first', async () => {
    const timers = manualTimers();
    const t = new LockTable(timers);
    const holder = t.newOwner();
    t.acquire(holder, 1, 1000);
    const owners = Array.from({ length: 6 }, () => t.newOwner());
    const order: number[] = [];
    const waits = owners.map((o, i) => Promise.resolve(t.acquire(o, 1, 1000)).then(() => { order.push(i); }));
    await flush();
    expect(order).toEqual([]);
    t.releaseAll(holder);
    for (let i = 0; i < owners.length; i++) {
      await flush();
      expect(order).toEqual(Array.from({ length: i + 1 }, (_, j) => j));
      // A newcomer arriving now queues behind the rest.
      if (i === 2) {
        const late = t.newOwner();
        void Promise.resolve(t.acquire(late, 1, 1000)).then(() => { order.push(99); });
      }
      t.releaseAll(owners[i]!);
    }
    await Promise.all(waits);
    await flush();
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 99]);
    expect(timers.pending()).toEqual([]);
  });

  it('a cycle of 2: the younger owner is the victim, its locks go to the older one', async () => {
    const t = new LockTable(manualTimers());
    const a = t.newOwner();
    const b = t.newOwner();
    t.acquire(a, 1, 1000);
    t.acquire(b, 2, 1000);
    const aWaits = track(t.acquire(a, 2, 1000));
    const bWaits = track(t.acquire(b, 1, 1000)); // closes the cycle: b is younger
    await flush();
    expect(bWaits.state()).toBe('failed');
    expect(bWaits.error()).toMatchObject({ code: 'ERR_TXN_CONFLICT', name: 'DeadlockError' });
    expect(b.failure).toBe(bWaits.error());
    expect(aWaits.state()).toBe('granted');
    expect(t.holder(2)).toBe(a.id);
    expect(() => t.acquire(b, 3, 1000)).toThrow(/deadlock/);
  });

  it('a cycle of 3 closed by the oldest: the youngest is the victim, the one waiting on it goes on', async () => {
    const t = new LockTable(manualTimers());
    const [a, b, c] = [t.newOwner(), t.newOwner(), t.newOwner()];
    t.acquire(a, 1, 1000);
    t.acquire(b, 2, 1000);
    t.acquire(c, 3, 1000);
    const bWaits = track(t.acquire(b, 3, 1000)); // b -> c
    const cWaits = track(t.acquire(c, 1, 1000)); // c -> a
    await flush();
    expect([bWaits.state(), cWaits.state()]).toEqual(['pending', 'pending']);
    const aWaits = track(t.acquire(a, 2, 1000)); // a -> b: cycle a -> b -> c -> a
    await flush();
    expect(cWaits.state()).toBe('failed'); // c is the youngest, though a closed the cycle
    expect(cWaits.error()).toMatchObject({ code: 'ERR_TXN_CONFLICT' });
    expect(bWaits.state()).toBe('granted'); // c's lock on 3 went to b
    expect(aWaits.state()).toBe('pending'); // a still waits for b, which is no longer blocked
    t.releaseAll(b);
    await flush();
    expect(aWaits.state()).toBe('granted');
  });

  it('a cycle through a queue (waiting behind another waiter) is found too', async () => {
    const t = new LockTable(manualTimers());
    const [a, b, c] = [t.newOwner(), t.newOwner(), t.newOwner()];
    t.acquire(a, 1, 1000);
    t.acquire(c, 2, 1000);
    const bWaits = track(t.acquire(b, 1, 1000)); // b first in line for 1
    const cWaits = track(t.acquire(c, 1, 1000)); // c behind b
    const bWaits2 = track(t.acquire(b, 2, 1000)); // b -> c, c -> b (queue order): deadlock
    await flush();
    expect(cWaits.state()).toBe('failed');
    expect(bWaits2.state()).toBe('granted');
    expect(bWaits.state()).toBe('pending');
    t.releaseAll(a);
    await flush();
    expect(bWaits.state()).toBe('granted');
  });

  it('no false deadlock when waits merely chain', async () => {
    const t = new LockTable(manualTimers());
    const [a, b, c] = [t.newOwner(), t.newOwner(), t.newOwner()];
    t.acquire(a, 1, 1000);
    t.acquire(b, 2, 1000);
    const w1 = track(t.acquire(b, 1, 1000));
    const w2 = track(t.acquire(c, 2, 1000));
    const w3 = track(t.acquire(c, 1, 1000));
    await flush();
    expect([w1.state(), w2.state(), w3.state()]).toEqual(['pending', 'pending', 'pending']);
    t.releaseAll(a);
    await flush();
    expect(w1.state()).toBe('granted');
    t.releaseAll(b);
    await flush();
    expect([w2.state(), w3.state()]).toEqual(['granted', 'granted']);
  });

  it('a wait times out with ERR_TXN_TIMEOUT after lockTimeoutMs; what the owner held goes to the next comer', async () => {
    const timers = manualTimers();
    const t = new LockTable(timers);
    const [a, b, c] = [t.newOwner(), t.newOwner(), t.newOwner()];
    t.acquire(a, 1, 1000);
    t.acquire(b, 2, 1000);
    const bWaits = track(t.acquire(b, 1, 250));
    expect(timers.pending()).toEqual([250]);
    timers.fireAll();
    const cGets = track(t.acquire(c, 2, 1000)); // b failed: its lock on 2 is free
    await flush();
    expect(bWaits.error()).toMatchObject({ code: 'ERR_TXN_TIMEOUT', message: expect.stringContaining('250 ms') });
    expect(cGets.state()).toBe('granted');
    expect(t.holder(2)).toBe(c.id);
    expect(timers.pending()).toEqual([]);
  });

  it('releaseAll ends the owner\'s own pending waits (they reject) and their timers', async () => {
    const timers = manualTimers();
    const t = new LockTable(timers);
    const [a, b] = [t.newOwner(), t.newOwner()];
    t.acquire(a, 1, 1000);
    const w = track(t.acquire(b, 1, 1000));
    expect(t.contended).toBe(1);
    t.releaseAll(b);
    expect(t.contended).toBe(0);
    expect(timers.pending()).toEqual([]);
    await flush();
    expect(w.state()).toBe('failed'); // whoever awaited it hears that the wait is over
    expect(w.error()).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    t.releaseAll(a);
    expect(t.size).toBe(0);
  });
});

describe('LockTable timeouts', () => {
  it('an infinite (or longer than a timer can hold) timeout sets no timer: the wait lasts until the grant', async () => {
    const timers = manualTimers();
    const t = new LockTable(timers);
    const [a, b] = [t.newOwner(), t.newOwner()];
    t.acquire(a, 1, 1000);
    const w = track(t.acquire(b, 1, Infinity));
    expect(timers.pending()).toEqual([]);
    t.releaseAll(a);
    await flush();
    expect(w.state()).toBe('granted');
  });

  it('a second wait of one owner for one key is the same wait, not a place behind itself', async () => {
    const t = new LockTable(manualTimers());
    const [a, b] = [t.newOwner(), t.newOwner()];
    t.acquire(a, 1, 1000);
    const w1 = track(t.acquire(b, 1, 1000));
    const w2 = track(t.acquire(b, 1, 1000));
    await flush();
    expect([w1.state(), w2.state(), b.failure]).toEqual(['pending', 'pending', undefined]);
    t.releaseAll(a);
    await flush();
    expect([w1.state(), w2.state()]).toEqual(['granted', 'granted']);
    expect([w1.value(), w2.value(), t.contended]).toEqual([0, 0, 0]);
  });
});

describe('LockTable: a deadlock victim that held the lock waited for', () => {
  it('grants the new waiter at once and leaves no timer behind to fail it later', async () => {
    const timers = manualTimers();
    const t = new LockTable(timers);
    const [a, b] = [t.newOwner(), t.newOwner()];
    t.acquire(a, 1, 1000);
    t.acquire(b, 2, 1000);
    const bWaits = track(t.acquire(b, 1, 1000)); // b -> a
    const aWaits = track(t.acquire(a, 2, 1000)); // a -> b: b (younger) loses, its lock on 2 goes to a
    await flush();
    expect([aWaits.state(), bWaits.state()]).toEqual(['granted', 'failed']);
    expect(timers.pending()).toEqual([]);
    expect(timers.fireAll()).toBe(0);
    expect(a.failure).toBeUndefined();
  });
});

describe('LockTable: a victim that was only a place in a queue', () => {
  it('does not end the deadlock: the waiter behind it now waits for the holder, and the cycle is broken again', async () => {
    const timers = manualTimers();
    const t = new LockTable(timers);
    const [a, b, c] = [t.newOwner(), t.newOwner(), t.newOwner()];
    t.acquire(a, 1, 1000);
    t.acquire(b, 2, 1000);
    const cWaits = track(t.acquire(c, 1, 1000)); // c -> a
    const bWaits = track(t.acquire(b, 1, 1000)); // b -> c (queue order)
    const aWaits = track(t.acquire(a, 2, 1000)); // a -> b: cycle a -> b -> c -> a, c is the youngest
    await flush();
    // Without c, b waits for a directly: still a cycle (a -> b -> a), so b goes too.
    expect([cWaits.state(), bWaits.state(), aWaits.state()]).toEqual(['failed', 'failed', 'granted']);
    expect(timers.pending()).toEqual([]);
  });
});
