/**
 * Explicit resource management: `await using db = await DB.open(dir)` closes the database,
 * `await using it = db.iterator()` closes the iterator, `await using tx = db.beginTransaction()`
 * rolls back an uncommitted transaction (a committed one is left alone), `using snap = db.snapshot()`
 * releases the snapshot, each at the end of its scope, also when the scope throws. This file is
 * compiled by `npm run build` (tsconfig includes test/), so the declarations are checked to type.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, type Snapshot, type Transaction } from '../../src/index.js';
import { rejectsWith } from '../support/db-check.js';

describe('Symbol.asyncDispose / Symbol.dispose', () => {
  it('await using closes the DB and the iterator; using releases the snapshot', async () => {
    const fs = new MemFileSystem();
    let outer: DB | undefined;
    let snapOut: Snapshot | undefined;
    let itOut: AsyncIterator<unknown> | undefined;
    {
      await using db = await DB.open('/db', { fs });
      outer = db;
      await db.put('a', '1');
      {
        await using it = db.iterator();
        itOut = it;
        expect((await it.next()).done).toBe(false);
        using snap = db.snapshot();
        snapOut = snap;
        expect(snap.released).toBe(false);
      }
      expect(snapOut.released).toBe(true);
      await rejectsWith(() => itOut!.next(), 'ERR_CLOSED', 'iterator after its scope');
      expect((await db.get('a'))!.toString()).toBe('1');
    }
    await rejectsWith(() => outer.get('a'), 'ERR_CLOSED', 'db after its scope');
    // Closed for real: the lock is free for the next open.
    const again = await DB.open('/db', { fs });
    expect((await again.get('a'))!.toString()).toBe('1');
    await again.close();
  });

  it('await using rolls back an uncommitted transaction, also when the scope throws; a committed one stays', async () => {
    const fs = new MemFileSystem();
    await using db = await DB.open('/db', { fs });
    let tx1: Transaction | undefined;
    await expect((async () => {
      await using tx = db.beginTransaction();
      tx1 = tx;
      tx.put('lost', 'x');
      throw new Error('boom');
    })()).rejects.toThrow('boom');
    expect(tx1!.isOpen).toBe(false);
    expect(() => tx1!.put('b', '2')).toThrow(/rolled back/);
    {
      await using tx = db.beginTransaction();
      tx.put('kept', 'y');
      await tx.commit();
    }
    expect(await db.hasMany(['lost', 'kept'])).toEqual([false, true]);
    expect(db.stats().sequence).toBe(1);
  });

  it('disposing twice, or after close()/release()/rollback(), is harmless', async () => {
    const db = await DB.open('/db', { fs: new MemFileSystem() });
    const snap = db.snapshot();
    snap.release();
    snap[Symbol.dispose]();
    const tx = db.beginTransaction();
    tx.rollback();
    await tx[Symbol.asyncDispose]();
    const it = db.keys();
    await it.close();
    await it[Symbol.asyncDispose]();
    await db.close();
    await db[Symbol.asyncDispose]();
  });
});
