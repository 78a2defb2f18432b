/**
 * The transaction API contract (src/mvcc/transaction.ts, db.transaction in src/db.ts; issue #5):
 * own writes visible to get and iterators (forward, reverse, bounded, keys/values) and invisible
 * outside until commit; use after commit, rollback, a refused commit or db.close(); rollback
 * discarding everything; a refused commit writing nothing; size limits and bad options; and
 * db.transaction: resolves to fn's result, rethrows fn's exception after rolling back, retries =
 * extra attempts (total tries = retries + 1) with a fresh snapshot, sync honoured (WAL syncs counted
 * through a FaultFileSystem that injects nothing). Deterministic; each test its own MemFileSystem.
 */
import { describe, expect, it } from 'vitest';
import {
  DB, FaultFileSystem, MemFileSystem, type Isolation, type Options, type Transaction,
} from '../../src/index.js';

const LEVELS: Isolation[] = ['snapshot', 'serializable'];
const CONFLICT = { code: 'ERR_TXN_CONFLICT' };
const INVALID = { code: 'ERR_INVALID_ARGUMENT' };

async function open(options: Options = {}): Promise<DB> {
  return DB.open('/db', { fs: new MemFileSystem(), ...options });
}

async function str(p: Promise<Uint8Array | undefined>): Promise<string | undefined> {
  const v = await p;
  return v === undefined ? undefined : Buffer.from(v).toString();
}

async function scan(it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of it) out.push(`${Buffer.from(k).toString()}=${Buffer.from(v).toString()}`);
  return out;
}

async function dump(db: DB): Promise<string[]> {
  return scan(db.iterator());
}

describe('own writes', () => {
  it.each(LEVELS)('%s: get, iterator, reverse iterator, keys/values, overwrite, delete then get', async (isolation) => {
    const db = await open();
    for (const k of ['a', 'c', 'e']) await db.put(k, `db-${k}`);
    const t = db.beginTransaction({ isolation });
    t.put('b', 'tx-b');
    t.put('c', 'tx-c1');
    t.put('c', 'tx-c2');
    t.delete('e');
    t.put('f', 'tx-f');
    t.delete('f');
    t.delete('never-existed');
    t.put('g', '');
    expect(await str(t.get('b'))).toBe('tx-b');
    expect(await str(t.get('c'))).toBe('tx-c2');
    expect(await t.get('e')).toBeUndefined();
    expect(await t.get('f')).toBeUndefined();
    expect(await str(t.get('g'))).toBe('');
    const want = ['a=db-a', 'b=tx-b', 'c=tx-c2', 'g='];
    expect(await scan(t.iterator())).toEqual(want);
    expect(await scan(t.iterator({ reverse: true }))).toEqual([...want].reverse());
    expect(await scan(t.iterator({ gt: 'a', lte: 'c' }))).toEqual(['b=tx-b', 'c=tx-c2']);
    const keys: string[] = [];
    for await (const k of t.keys({ reverse: true, limit: 2 })) keys.push(Buffer.from(k).toString());
    expect(keys).toEqual(['g', 'c']);
    const values: string[] = [];
    for await (const v of t.values()) values.push(Buffer.from(v).toString());
    expect(values).toEqual(['db-a', 'tx-b', 'tx-c2', '']);
    // nothing is visible outside before commit
    expect(await dump(db)).toEqual(['a=db-a', 'c=db-c', 'e=db-e']);
    await t.commit();
    expect(await dump(db)).toEqual(want);
    await db.close();
  });

  it('a value returned by get is a copy: later buffered writes do not change it', async () => {
    const db = await open();
    const t = db.beginTransaction();
    t.put('k', 'first');
    const v = await t.get('k');
    t.put('k', 'second-longer');
    expect(Buffer.from(v!).toString()).toBe('first');
    t.rollback();
    await db.close();
  });
});

describe('lifecycle', () => {
  const ended = {
    committed: async (t: Transaction) => { t.put('x', '1'); await t.commit(); },
    'committed read-only': async (t: Transaction) => { await t.commit(); },
    'rolled back': async (t: Transaction) => { t.put('x', '1'); t.rollback(); },
    'refused (conflict)': async (t: Transaction, db: DB) => {
      await t.get('x');
      t.put('x', 'late');
      await db.put('x', 'first');
      await expect(t.commit()).rejects.toMatchObject(CONFLICT);
    },
  };
  for (const [how, end] of Object.entries(ended)) {
    it(`a transaction used after it was ${how} -> ERR_INVALID_ARGUMENT`, async () => {
      const db = await open();
      const t = db.beginTransaction();
      await end(t, db);
      expect(t.isOpen).toBe(false);
      await expect(t.get('x')).rejects.toMatchObject(INVALID);
      expect(() => t.put('x', '2')).toThrow(expect.objectContaining(INVALID));
      expect(() => t.delete('x')).toThrow(expect.objectContaining(INVALID));
      expect(() => t.iterator()).toThrow(expect.objectContaining(INVALID));
      expect(() => t.keys()).toThrow(expect.objectContaining(INVALID));
      await expect(t.commit()).rejects.toMatchObject(INVALID);
      expect(() => t.rollback()).not.toThrow(); // idempotent
      expect(db.stats().transactions.open).toBe(0);
      await db.close();
    });
  }

  it('rollback discards every buffered write and releases the snapshot', async () => {
    const db = await open();
    await db.put('keep', '1');
    const t = db.beginTransaction();
    t.put('a', '1');
    t.delete('keep');
    expect(db.stats().transactions.open).toBe(1);
    t.rollback();
    expect(db.stats().transactions.open).toBe(0);
    expect(db.engine.writes.tracker.remembered).toBe(0);
    expect(await dump(db)).toEqual(['keep=1']);
    await db.close();
  });

  it.each(LEVELS)('%s: a refused commit writes nothing (no key, no sequence number)', async (isolation) => {
    const db = await open();
    const t = db.beginTransaction({ isolation });
    for (let i = 0; i < 50; i++) t.put(`k${String(i).padStart(2, '0')}`, 'tx');
    t.delete('x');
    await db.put('x', 'plain');
    const seq = db.stats().sequence;
    await expect(t.commit()).rejects.toMatchObject(CONFLICT);
    expect(db.stats().sequence).toBe(seq);
    expect(await dump(db)).toEqual(['x=plain']);
    expect(db.stats().transactions).toMatchObject({ open: 0, conflicts: 1, commits: 0 });
    await db.close();
  });

  it('after db.close(): an open transaction gets ERR_CLOSED and nothing is written', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs });
    const t = db.beginTransaction();
    t.put('x', '1');
    await db.close();
    await expect(t.commit()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(t.get('x')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(() => db.beginTransaction()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    await expect(db.transaction(() => 1)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    const again = await DB.open('/db', { fs });
    expect(await again.get('x')).toBeUndefined();
    await again.close();
  });

  it('an oversized key or value is refused at put (ERR_TOO_LARGE) and buffers nothing', async () => {
    const db = await open({ maxKeySize: 16, maxValueSize: 32 });
    const t = db.beginTransaction();
    expect(() => t.put('k'.repeat(17), 'v')).toThrow(expect.objectContaining({ code: 'ERR_TOO_LARGE' }));
    expect(() => t.put('k', 'v'.repeat(33))).toThrow(expect.objectContaining({ code: 'ERR_TOO_LARGE' }));
    expect(() => t.delete('k'.repeat(17))).toThrow(expect.objectContaining({ code: 'ERR_TOO_LARGE' }));
    t.put('ok', 'v');
    await t.commit();
    expect(await dump(db)).toEqual(['ok=v']);
    await db.close();
  });

  it('bad options are refused', async () => {
    const db = await open();
    expect(() => db.beginTransaction({ isolation: 'read-committed' as Isolation })).toThrow(expect.objectContaining(INVALID));
    expect(() => db.beginTransaction({ sync: 'yes' as unknown as boolean })).toThrow(expect.objectContaining(INVALID));
    await expect(db.transaction(async () => 1, { retries: -1 })).rejects.toMatchObject(INVALID);
    await expect(db.transaction('nope' as unknown as () => number)).rejects.toMatchObject(INVALID);
    expect(db.stats().transactions.open).toBe(0);
    await db.close();
  });
});

describe('db.transaction', () => {
  it('resolves to the result of fn and commits its writes', async () => {
    const db = await open();
    const r = await db.transaction(async (tx) => { tx.put('a', '1'); return { ok: 42 }; });
    expect(r).toEqual({ ok: 42 });
    expect(await str(db.get('a'))).toBe('1');
    expect(await db.transaction((tx) => { tx.put('b', '2'); return 'sync fn'; })).toBe('sync fn');
    expect(db.stats().transactions).toMatchObject({ open: 0, commits: 2 });
    await db.close();
  });

  it('an exception inside fn rolls back and rethrows it unchanged (nothing written, never retried)', async () => {
    const db = await open();
    const boom = new Error('boom');
    let calls = 0;
    await expect(db.transaction(async (tx) => {
      calls++;
      tx.put('a', '1');
      tx.delete('keep');
      throw boom;
    }, { retries: 5 })).rejects.toBe(boom);
    expect(calls).toBe(1);
    expect(await dump(db)).toEqual([]);
    expect(db.stats().transactions.open).toBe(0);
    await db.close();
  });

  it.each([0, 1, 3])('retries = %i: a fn that always conflicts runs retries + 1 times, then ERR_TXN_CONFLICT', async (retries) => {
    const db = await open();
    let calls = 0;
    const p = db.transaction(async (tx) => {
      calls++;
      await tx.get('x');
      tx.put('x', `tx${calls}`);
      await db.put('x', `plain${calls}`); // always lands after this attempt's snapshot
    }, { retries });
    await expect(p).rejects.toMatchObject(CONFLICT);
    expect(calls).toBe(retries + 1);
    expect(db.stats().transactions).toMatchObject({ open: 0, conflicts: retries + 1, retries, commits: 0 });
    expect(await str(db.get('x'))).toBe(`plain${retries + 1}`);
    await db.close();
  });

  it('a retry runs with a fresh snapshot and can then succeed', async () => {
    const db = await open();
    await db.put('n', '0');
    let calls = 0;
    const r = await db.transaction(async (tx) => {
      calls++;
      const n = Number(await str(tx.get('n')));
      if (calls === 1) await db.put('n', '100');
      tx.put('n', String(n + 1));
      return n;
    }, { retries: 1 });
    expect(r).toBe(100);
    expect(await str(db.get('n'))).toBe('101');
    await db.close();
  });

  it.each([
    [{ sync: true }, 1], [{ sync: false }, 0], [{}, 0],
  ] as const)('options %j: %i WAL sync(s) per commit', async (options, syncs) => {
    let walSyncs = 0;
    const fs = new FaultFileSystem(new MemFileSystem(), {
      injector: (op) => { if (op.kind === 'sync' && op.path.endsWith('.log')) walSyncs++; return undefined; },
    });
    const db = await DB.open('/db', { fs });
    await db.put('warm', 'up');
    const before = walSyncs;
    await db.transaction(async (tx) => { tx.put('a', '1'); }, options);
    expect(walSyncs - before).toBe(syncs);
    const t = db.beginTransaction(options);
    t.put('b', '2');
    await t.commit();
    expect(walSyncs - before).toBe(2 * syncs);
    await db.close();
  });
});
