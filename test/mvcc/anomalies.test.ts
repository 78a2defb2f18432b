/**
 * Isolation anomalies, one directed scenario each (issue #5 "Tests"): lost update, write skew,
 * phantoms, read-only transactions, snapshot visibility, own writes, use after end, rollback,
 * refused commits writing nothing, plain writes conflicting like commits, and the db.transaction
 * contract (result, rethrow, retries = extra attempts, sync honoured). Each scenario interleaves two
 * parties by hand (awaiting each step), so the outcome is deterministic: no randomness, no timing.
 * Every test opens its own database on its own MemFileSystem.
 * Not here: randomized histories (history-checker.test.ts), model runs (model-txn.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  DB, FaultFileSystem, MemFileSystem, WriteBatch, type Isolation, type Options, type Transaction,
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

describe('lost update and write skew', () => {
  it.each(LEVELS)('lost update is refused (%s)', async (isolation) => {
    const db = await open();
    await db.put('x', '10');
    const a = db.beginTransaction({ isolation });
    const b = db.beginTransaction({ isolation });
    a.put('x', String(Number(await str(a.get('x'))) + 1));
    b.put('x', String(Number(await str(b.get('x'))) + 5));
    await a.commit();
    await expect(b.commit()).rejects.toMatchObject(CONFLICT);
    expect(await str(db.get('x'))).toBe('11');
    await db.close();
  });

  it.each(LEVELS)('blind writes of the same key also conflict (%s): the first committer wins', async (isolation) => {
    const db = await open();
    const a = db.beginTransaction({ isolation });
    const b = db.beginTransaction({ isolation });
    a.put('x', 'a');
    b.put('x', 'b');
    await b.commit();
    await expect(a.commit()).rejects.toMatchObject(CONFLICT);
    expect(await str(db.get('x'))).toBe('b');
    await db.close();
  });

  it.each(LEVELS)('two conflicting commits issued together (one write group): exactly one wins (%s)', async (isolation) => {
    const db = await open();
    const txs = Array.from({ length: 5 }, () => db.beginTransaction({ isolation }));
    txs.forEach((t, i) => t.put('x', `t${i}`));
    const results = await Promise.allSettled(txs.map((t) => t.commit()));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toEqual([0]); // validation runs in commit (queue) order
    for (const r of results.slice(1)) expect(r).toMatchObject({ status: 'rejected', reason: CONFLICT });
    expect(await str(db.get('x'))).toBe('t0');
    await db.close();
  });

  it.each([['snapshot', true], ['serializable', false]] as const)(
    'write skew (on-call doctors): %s allows it = %s', async (isolation, allowed) => {
      const db = await open();
      await db.put('alice', 'on');
      await db.put('bob', 'on');
      const goOff = async (t: Transaction, me: string, other: string): Promise<void> => {
        if ((await str(t.get(me))) === 'on' && (await str(t.get(other))) === 'on') t.put(me, 'off');
      };
      const a = db.beginTransaction({ isolation });
      const b = db.beginTransaction({ isolation });
      await goOff(a, 'alice', 'bob');
      await goOff(b, 'bob', 'alice');
      await a.commit();
      if (allowed) {
        await b.commit();
        expect(await dump(db)).toEqual(['alice=off', 'bob=off']); // the invariant broke: write skew
      } else {
        await expect(b.commit()).rejects.toMatchObject(CONFLICT);
        expect(await dump(db)).toEqual(['alice=off', 'bob=on']);
      }
      await db.close();
    });

  it('serializable: a read of a missing key conflicts with its later insertion', async () => {
    const db = await open();
    const t = db.beginTransaction({ isolation: 'serializable' });
    expect(await t.get('flag')).toBeUndefined();
    t.put('other', '1');
    await db.put('flag', 'set');
    await expect(t.commit()).rejects.toMatchObject(CONFLICT);
    await db.close();
  });

  it('serializable: reading a key this transaction wrote first is not a read dependency', async () => {
    const db = await open();
    const t = db.beginTransaction({ isolation: 'serializable' });
    t.put('y', 'mine');
    expect(await str(t.get('y'))).toBe('mine');
    await db.put('z', 'unrelated');
    await t.commit();
    expect(await str(db.get('y'))).toBe('mine');
    await db.close();
  });
});

describe('phantoms (range read, then an insert into the range)', () => {
  const insertBy = {
    'a plain put': async (db: DB) => { await db.put('item:5', 'new'); },
    'a batch': async (db: DB) => { await db.write(new WriteBatch().put('zzz', '1').put('item:5', 'new')); },
    'another transaction': async (db: DB) => {
      const o = db.beginTransaction({ isolation: 'serializable' });
      o.put('item:5', 'new');
      await o.commit();
    },
    'a delete of a key in the range': async (db: DB) => { await db.delete('item:2'); },
  };

  for (const [how, insert] of Object.entries(insertBy)) {
    it.each([['serializable', false], ['snapshot', true]] as const)(`by ${how}: %s allows it = %s`, async (isolation, allowed) => {
      const db = await open();
      for (const i of [1, 2, 7]) await db.put(`item:${i}`, 'v');
      const t = db.beginTransaction({ isolation });
      const seen = await scan(t.iterator({ gte: 'item:', lt: 'item;' }));
      expect(seen).toEqual(['item:1=v', 'item:2=v', 'item:7=v']);
      await insert(db);
      t.put('count', String(seen.length));
      if (allowed) {
        await t.commit();
        expect(await str(db.get('count'))).toBe('3');
      } else {
        await expect(t.commit()).rejects.toMatchObject(CONFLICT);
        expect(await db.get('count')).toBeUndefined();
      }
      await db.close();
    });
  }

  it('serializable: writes outside the iterated range, and at an exclusive bound, do not conflict', async () => {
    const db = await open();
    const t = db.beginTransaction({ isolation: 'serializable' });
    await scan(t.iterator({ gt: 'b', lt: 'd' }));
    for await (const k of t.keys({ gte: 'm', lte: 'n', reverse: true })) expect(k).toBeUndefined(); // empty range
    await db.put('b', 'bound'); // gt: excluded
    await db.put('d', 'bound'); // lt: excluded
    await db.put('a', 'outside');
    await db.put('l', 'outside');
    await db.put('n0', 'outside');
    t.put('w', '1');
    await t.commit();
    await db.close();
  });

  it.each([
    ['gt bound (inclusive-side key inside)', { gt: 'b', lt: 'd' }, 'c'],
    ['lte bound', { gte: 'm', lte: 'n' }, 'n'],
    ['reverse iteration', { gte: 'm', lt: 'p', reverse: true }, 'm'],
    ['a limit (the whole bounded range counts, not only what was returned)', { gte: 'a', lt: 'k', limit: 1 }, 'j'],
    ['an unbounded iterator', {}, '\u00ff'],
  ] as const)('serializable: an insert through %s conflicts', async (_name, bounds, key) => {
    const db = await open();
    await db.put('a0', 'first');
    const t = db.beginTransaction({ isolation: 'serializable' });
    await scan(t.iterator(bounds));
    await db.put(key, 'phantom');
    t.put('w', '1');
    await expect(t.commit()).rejects.toMatchObject(CONFLICT);
    await db.close();
  });
});

describe('read-only transactions never conflict', () => {
  it.each(LEVELS)('%s: reads and scans of keys overwritten meanwhile; commit succeeds and changes nothing', async (isolation) => {
    const db = await open();
    await db.put('x', '1');
    const t = db.beginTransaction({ isolation });
    expect(await str(t.get('x'))).toBe('1');
    expect(await scan(t.iterator())).toEqual(['x=1']);
    await db.put('x', '2');
    await db.put('y', 'new');
    const seqBefore = db.stats().sequence;
    await t.commit();
    expect(db.stats().sequence).toBe(seqBefore);
    expect(db.stats().transactions.conflicts).toBe(0);
    await db.close();
  });

  it.each(LEVELS)('%s: db.transaction with reads only never retries', async (isolation) => {
    const db = await open();
    await db.put('x', '1');
    let calls = 0;
    const r = await db.transaction(async (tx) => {
      calls++;
      const v = await str(tx.get('x'));
      await db.put('x', String(Number(v) + 1)); // a write after the snapshot, on a key it read
      return v;
    }, { isolation, retries: 5 });
    expect(r).toBe('1');
    expect(calls).toBe(1);
    await db.close();
  });
});

describe('snapshot visibility', () => {
  it.each(LEVELS)('%s: never sees a write committed after it began (get, iterator, reverse), even across flush and compaction', async (isolation) => {
    const db = await open({ writeBufferSize: 4096 });
    await db.put('a', 'a0');
    await db.put('b', 'b0');
    const t = db.beginTransaction({ isolation });
    await db.put('a', 'a1');
    await db.delete('b');
    await db.put('c', 'c1');
    const other = db.beginTransaction();
    other.put('d', 'd1');
    await other.commit();
    await db.flush();
    await db.compactRange();
    expect(await str(t.get('a'))).toBe('a0');
    expect(await str(t.get('b'))).toBe('b0');
    expect(await t.get('c')).toBeUndefined();
    expect(await t.get('d')).toBeUndefined();
    expect(await scan(t.iterator())).toEqual(['a=a0', 'b=b0']);
    expect(await scan(t.iterator({ reverse: true }))).toEqual(['b=b0', 'a=a0']);
    t.rollback();
    expect(await dump(db)).toEqual(['a=a1', 'c=c1', 'd=d1']);
    await db.close();
  });

  it('an iterator opened before a write keeps its view while the transaction writes more', async () => {
    const db = await open();
    await db.put('a', '1');
    const t = db.beginTransaction();
    const before = await scan(t.iterator());
    await db.put('b', 'outside');
    t.put('c', 'mine');
    expect(before).toEqual(['a=1']);
    expect(await scan(t.iterator())).toEqual(['a=1', 'c=mine']);
    await t.commit();
    await db.close();
  });
});

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
    expect(db.tracker.remembered).toBe(0);
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

describe('plain writes conflict like committed transactions', () => {
  const plain = {
    put: (db: DB) => db.put('x', 'plain'),
    delete: (db: DB) => db.delete('x'),
    'batch write': (db: DB) => db.write(new WriteBatch().put('other', '1').delete('x')),
  };
  for (const [how, write] of Object.entries(plain)) {
    it.each(LEVELS)(`a plain ${how} after the snapshot conflicts with a transaction writing the key (%s)`, async (isolation) => {
      const db = await open();
      await db.put('x', 'orig');
      const t = db.beginTransaction({ isolation });
      t.put('x', 'tx');
      await write(db);
      await expect(t.commit()).rejects.toMatchObject(CONFLICT);
      expect(await str(db.get('x'))).not.toBe('tx');
      await db.close();
    });
  }

  it('a plain write BEFORE the snapshot does not conflict', async () => {
    const db = await open();
    await db.put('x', 'plain');
    const t = db.beginTransaction();
    t.put('x', 'tx');
    await t.commit();
    expect(await str(db.get('x'))).toBe('tx');
    await db.close();
  });

  // NB: fails today (lost update). The plain write is accepted by the write-queue leader while no
  // transaction is open, so its keys are not recorded; the transaction begins while the write's
  // fdatasync is in flight (snapshot below the write), and its commit is then checked against nothing.
  it.each(LEVELS)('a synced plain write in flight when the transaction begins conflicts with it (%s)', async (isolation) => {
    const db = await open();
    await db.put('x', '0');
    const inFlight = db.put('x', 'plain', { sync: true }); // the leader now awaits the WAL sync
    const t = db.beginTransaction({ isolation });
    expect(await str(t.get('x'))).toBe('0'); // the snapshot predates the plain write
    await inFlight;
    t.put('x', 'tx');
    await expect(t.commit()).rejects.toMatchObject(CONFLICT);
    expect(await str(db.get('x'))).toBe('plain');
    await db.close();
  });

  // NB: fails today, same cause: the only open transaction ends while the write is in flight, and
  // trimming drops every remembered commit, including the one not yet published.
  it('a commit in flight stays remembered when the last open transaction ends meanwhile', async () => {
    const db = await open();
    await db.put('x', '0');
    const early = db.beginTransaction();
    const inFlight = db.put('x', 'plain', { sync: true });
    early.rollback();
    const t = db.beginTransaction();
    expect(await str(t.get('x'))).toBe('0');
    await inFlight;
    t.put('x', 'tx');
    await expect(t.commit()).rejects.toMatchObject(CONFLICT);
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
