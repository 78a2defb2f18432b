/**
 * `signal` on get, getMany, has, hasMany, getSync and iterators: an aborted signal refuses the call
 * with ERR_ABORTED (the reason as cause) before it reads; an abort during a read that has to wait
 * rejects it; an abort while an iterator is open fails its next read and lets go of its files.
 * Argument checks. Each test has its own MemFileSystem.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem } from '../../src/index.js';
import { openMem, rejectsWith, throwsWith } from '../support/db-check.js';

const key = (i: number): string => `k${String(i).padStart(5, '0')}`;

function aborted(reason = 'stop'): AbortSignal {
  const c = new AbortController();
  c.abort(reason);
  return c.signal;
}

/** Registered iterators of the engine (those still pinning a Version). */
function openIterators(db: DB): number {
  return (db.engine as unknown as { iterators: Set<unknown> }).iterators.size;
}

describe('signal on point reads', () => {
  it('an aborted signal refuses get, getMany, has, hasMany and getSync with ERR_ABORTED', async () => {
    const { db } = await openMem();
    await db.put('a', '1');
    const signal = aborted('enough');
    const e = await rejectsWith(() => db.get('a', { signal }), 'ERR_ABORTED', 'get');
    expect(e.cause).toBe('enough');
    await rejectsWith(() => db.getMany(['a'], { signal }), 'ERR_ABORTED', 'getMany');
    await rejectsWith(() => db.has('a', { signal }), 'ERR_ABORTED', 'has');
    await rejectsWith(() => db.hasMany(['a'], { signal }), 'ERR_ABORTED', 'hasMany');
    throwsWith(() => db.getSync('a', { signal }), 'ERR_ABORTED', 'getSync');
    // A live signal changes nothing.
    const live = new AbortController().signal;
    expect((await db.get('a', { signal: live }))!.toString()).toBe('1');
    expect(await db.getMany(['a', 'b'], { signal: live })).toEqual([Buffer.from('1'), undefined]);
    expect(await db.has('a', { signal: live })).toBe(true);
    expect(await db.hasMany(['a', 'b'], { signal: live })).toEqual([true, false]);
    await db.close();
  });

  it('an abort during a read that has to wait (a table not yet open) rejects it', async () => {
    const fs = new MemFileSystem();
    let db = await DB.open('/db', { fs, compactionExecutor: 'inline' });
    await db.put('a', '1');
    await db.flush();
    await db.close();
    for (const call of ['get', 'getMany', 'has', 'hasMany'] as const) {
      db = await DB.open('/db', { fs, compactionExecutor: 'inline' });
      const c = new AbortController();
      const p = call === 'get' ? db.get('a', { signal: c.signal })
        : call === 'getMany' ? db.getMany(['a'], { signal: c.signal })
          : call === 'has' ? db.has('a', { signal: c.signal })
            : db.hasMany(['a'], { signal: c.signal });
      c.abort();
      await rejectsWith(() => p, 'ERR_ABORTED', call);
      // The read was only dropped: the same call without a signal answers.
      expect(await db.has('a')).toBe(true);
      await db.close();
    }
  });

  it('a signal that is not an AbortSignal is ERR_INVALID_ARGUMENT', async () => {
    const { db } = await openMem();
    /* eslint-disable @typescript-eslint/no-explicit-any -- the point is to pass what the types forbid */
    await rejectsWith(() => db.get('a', { signal: new AbortController() } as any), 'ERR_INVALID_ARGUMENT', 'get controller');
    await rejectsWith(() => db.getMany(['a'], { signal: true } as any), 'ERR_INVALID_ARGUMENT', 'getMany true');
    expect(() => db.iterator({ signal: 'x' } as any)).toThrow(/options.signal must be an AbortSignal/);
    /* eslint-enable @typescript-eslint/no-explicit-any */
    await db.close();
  });
});

describe('signal on iterators', () => {
  it('an already aborted signal: the first next()/nextv() rejects with ERR_ABORTED, nothing stays pinned', async () => {
    const { db } = await openMem();
    await db.put('a', '1');
    const it = db.iterator({ signal: aborted() });
    expect(openIterators(db)).toBe(0);
    await rejectsWith(() => it.next(), 'ERR_ABORTED', 'next');
    await rejectsWith(() => it.nextv(10), 'ERR_ABORTED', 'nextv');
    const keys = db.keys({ signal: aborted() });
    await rejectsWith(() => keys.nextv(10), 'ERR_ABORTED', 'keys nextv');
    await it.close();
    await db.close();
  });

  it('an abort while open releases the iterator at once and fails its next reads', async () => {
    const { db } = await openMem({ compactionExecutor: 'inline', writeBufferSize: 4096 });
    for (let i = 0; i < 300; i++) await db.put(key(i), `value-${i}`);
    await db.flush();
    for (let i = 300; i < 310; i++) await db.put(key(i), `value-${i}`);
    const c = new AbortController();
    const it = db.iterator({ signal: c.signal });
    expect((await it.next()).value![0].toString()).toBe(key(0));
    expect((await it.nextv(5)).length).toBe(5);
    expect(openIterators(db)).toBe(1);
    c.abort('user left');
    expect(openIterators(db)).toBe(0); // released at the abort, not at the next read
    const e = await rejectsWith(() => it.next(), 'ERR_ABORTED', 'next after abort');
    expect(e.cause).toBe('user left');
    await rejectsWith(() => it.nextv(3), 'ERR_ABORTED', 'nextv after abort');
    await it.close();
    // An abort after close changes nothing; so does one on an iterator that has ended.
    const c2 = new AbortController();
    const all = await db.keys({ signal: c2.signal, gte: key(305) }).nextv(100);
    expect(all.length).toBe(5);
    c2.abort();
    await db.close();
  });

  it('an abort during a read in flight (a table being opened) rejects that read and closes the iterator', async () => {
    const fs = new MemFileSystem();
    let db = await DB.open('/db', { fs, compactionExecutor: 'inline' });
    for (let i = 0; i < 50; i++) await db.put(key(i), 'v');
    await db.flush();
    await db.close();
    db = await DB.open('/db', { fs, compactionExecutor: 'inline' });
    const c = new AbortController();
    const it = db.keys({ signal: c.signal });
    const p = it.nextv(50);
    c.abort(); // the nextv waits for the table to open: it sees the abort when that returns
    await rejectsWith(() => p, 'ERR_ABORTED', 'nextv in flight');
    await rejectsWith(() => it.next(), 'ERR_ABORTED', 'next after abort');
    expect(openIterators(db)).toBe(0);
    await db.close();
  });
});

describe('signal on transaction reads', () => {
  it('tx.get and tx iterators take signal as db.get and db.iterator do; bad options are refused', async () => {
    const fs = new MemFileSystem();
    let db = await DB.open('/db', { fs, compactionExecutor: 'inline' });
    for (let i = 0; i < 50; i++) await db.put(key(i), 'v');
    await db.flush();
    await db.close();
    db = await DB.open('/db', { fs, compactionExecutor: 'inline' });
    const tx = db.beginTransaction();
    tx.put(key(100), 'own');
    const e = await rejectsWith(() => tx.get(key(1), { signal: aborted('enough') }), 'ERR_ABORTED', 'tx.get aborted');
    expect(e.cause).toBe('enough');
    // A read that waits for a table to open, aborted meanwhile.
    const c = new AbortController();
    const p = tx.get(key(2), { signal: c.signal });
    c.abort();
    await rejectsWith(() => p, 'ERR_ABORTED', 'tx.get in flight');
    expect((await tx.get(key(2), { signal: new AbortController().signal }))!.toString()).toBe('v');
    const it = tx.keys({ signal: aborted() });
    await rejectsWith(() => it.nextv(10), 'ERR_ABORTED', 'tx keys aborted');
    expect(openIterators(db)).toBe(0);
    const c2 = new AbortController();
    const it2 = tx.iterator({ signal: c2.signal });
    expect((await it2.next()).value![0].toString()).toBe(key(0));
    expect(openIterators(db)).toBe(1);
    c2.abort();
    expect(openIterators(db)).toBe(0);
    await rejectsWith(() => it2.next(), 'ERR_ABORTED', 'tx iterator after abort');
    await rejectsWith(() => tx.get(key(1), { signl: 1 } as never), 'ERR_INVALID_ARGUMENT', 'tx.get unknown option');
    await rejectsWith(() => tx.get(key(1), { signal: 'x' } as never), 'ERR_INVALID_ARGUMENT', 'tx.get bad signal');
    throwsWith(() => tx.iterator({ signal: {} } as never), 'ERR_INVALID_ARGUMENT', 'tx.iterator bad signal');
    // The transaction is still usable and commits its write.
    await tx.commit();
    expect((await db.get(key(100)))!.toString()).toBe('own');
    await db.close();
  });
});
