/**
 * Isolation anomalies, one directed scenario each (issue #5 "Tests"): lost update, write skew,
 * phantoms, read-only transactions, snapshot visibility, and plain writes conflicting like commits
 * (including writes still in flight when a transaction begins). Each scenario interleaves two
 * parties by hand (awaiting each step), so the outcome is deterministic: no randomness, no timing.
 * Every scenario runs under both locking modes: pessimistic transactions keep each isolation level's
 * promises; where they reach them differently (writers of one key queue instead of conflicting, a
 * lock taken on a key written since a fixed snapshot fails at once) the test says so.
 * Every test opens its own database on its own MemFileSystem.
 * Not here: the Transaction and db.transaction API contract (transaction.test.ts), randomized
 * histories (history-checker.test.ts), model runs (model-txn.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, WriteBatch, type Isolation, type Locking, type Options, type Transaction } from '../../src/index.js';

const LEVELS: Isolation[] = ['snapshot', 'serializable'];
const MODES: Locking[] = ['optimistic', 'pessimistic'];
const CONFLICT = { code: 'ERR_TXN_CONFLICT' };

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

describe.each(MODES)('%s locking', (locking) => {
  describe('lost update and write skew', () => {
    it.each(LEVELS)('lost update is refused (%s)', async (isolation) => {
      const db = await open();
      await db.put('x', '10');
      const a = db.beginTransaction({ locking, isolation });
      const b = db.beginTransaction({ locking, isolation });
      a.put('x', String(Number(await str(a.get('x'))) + 1));
      b.put('x', String(Number(await str(b.get('x'))) + 5));
      await a.commit();
      await expect(b.commit()).rejects.toMatchObject(CONFLICT);
      expect(await str(db.get('x'))).toBe('11');
      await db.close();
    });

    it.each(LEVELS)('blind writes of the same key: the first committer wins, or (pessimistic) the first locker (%s)', async (isolation) => {
      const db = await open();
      const a = db.beginTransaction({ locking, isolation });
      const b = db.beginTransaction({ locking, isolation });
      a.put('x', 'a');
      b.put('x', 'b');
      if (locking === 'optimistic') {
        await b.commit();
        await expect(a.commit()).rejects.toMatchObject(CONFLICT);
        expect(await str(db.get('x'))).toBe('b');
      } else {
        // b waits for a's lock; having read nothing, b then moves its snapshot past a's commit.
        const bCommit = b.commit();
        await a.commit();
        await bCommit;
        expect(await str(db.get('x'))).toBe('b');
      }
      await db.close();
    });

    it.each(LEVELS)('conflicting commits issued together: exactly one wins, or (pessimistic) all commit in lock order (%s)', async (isolation) => {
      const db = await open();
      const txs = Array.from({ length: 5 }, () => db.beginTransaction({ locking, isolation }));
      txs.forEach((t, i) => t.put('x', `t${i}`));
      const results = await Promise.allSettled(txs.map((t) => t.commit()));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      if (locking === 'optimistic') {
        expect(won).toEqual([0]); // validation runs in commit (queue) order
        for (const r of results.slice(1)) expect(r).toMatchObject({ status: 'rejected', reason: CONFLICT });
        expect(await str(db.get('x'))).toBe('t0');
      } else {
        expect(won).toEqual([0, 1, 2, 3, 4]); // FIFO: each waited for the one before
        expect(await str(db.get('x'))).toBe('t4');
      }
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
        const a = db.beginTransaction({ locking, isolation });
        const b = db.beginTransaction({ locking, isolation });
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
      const t = db.beginTransaction({ locking, isolation: 'serializable' });
      expect(await t.get('flag')).toBeUndefined();
      t.put('other', '1');
      await db.put('flag', 'set');
      await expect(t.commit()).rejects.toMatchObject(CONFLICT);
      await db.close();
    });

    it('serializable: reading a key this transaction wrote first is not a read dependency', async () => {
      const db = await open();
      const t = db.beginTransaction({ locking, isolation: 'serializable' });
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
        const o = db.beginTransaction({ locking, isolation: 'serializable' });
        o.put('item:5', 'new');
        await o.commit();
      },
      'a delete of a key in the range': async (db: DB) => { await db.delete('item:2'); },
    };

    for (const [how, insert] of Object.entries(insertBy)) {
      it.each([['serializable', false], ['snapshot', true]] as const)(`by ${how}: %s allows it = %s`, async (isolation, allowed) => {
        const db = await open();
        for (const i of [1, 2, 7]) await db.put(`item:${i}`, 'v');
        const t = db.beginTransaction({ locking, isolation });
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
      const t = db.beginTransaction({ locking, isolation: 'serializable' });
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
      const t = db.beginTransaction({ locking, isolation: 'serializable' });
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
      const t = db.beginTransaction({ locking, isolation });
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
      }, { isolation, locking, retries: 5 });
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
      const t = db.beginTransaction({ locking, isolation });
      await db.put('a', 'a1');
      await db.delete('b');
      await db.put('c', 'c1');
      const other = db.beginTransaction({ locking });
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
      const t = db.beginTransaction({ locking });
      const before = await scan(t.iterator());
      await db.put('b', 'outside');
      t.put('c', 'mine');
      expect(before).toEqual(['a=1']);
      expect(await scan(t.iterator())).toEqual(['a=1', 'c=mine']);
      await t.commit();
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
        const t = db.beginTransaction({ locking, isolation });
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
      const t = db.beginTransaction({ locking });
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
      const t = db.beginTransaction({ locking, isolation });
      expect(await str(t.get('x'))).toBe('0'); // the snapshot predates the plain write
      await inFlight;
      t.put('x', 'tx');
      await expect(t.commit()).rejects.toMatchObject(CONFLICT);
      expect(await str(db.get('x'))).toBe('plain');
      await db.close();
    });

    // A committing transaction closes its tracker slot once validated (before its keys would be
    // recorded): alone, it is then not recorded at all, yet a transaction that begins while its WAL
    // sync is in flight must still conflict with it (takeSnapshot records the unrecorded commit).
    it.each(LEVELS)('a synced transaction commit in flight, alone when validated, conflicts with one begun meanwhile (%s)', async (isolation) => {
      const db = await open();
      await db.put('x', '0');
      const a = db.beginTransaction({ locking, isolation, sync: true });
      a.put('x', 'a');
      const committing = a.commit(); // validated and accepted now; the leader awaits the WAL sync
      const b = db.beginTransaction({ locking, isolation }); // a is still in flight: its write lands above b's snapshot
      expect(await str(b.get('x'))).toBe('0');
      await committing;
      expect(db.engine.writes.tracker.remembered).toBe(1);
      b.put('x', 'b');
      await expect(b.commit()).rejects.toMatchObject(CONFLICT);
      expect(await str(db.get('x'))).toBe('a');
      expect(db.engine.writes.tracker.remembered).toBe(0);
      await db.close();
    });

    it('a lone transaction commit is never recorded (nothing open could conflict with it)', async () => {
      const db = await open();
      const t = db.beginTransaction({ locking });
      for (let i = 0; i < 1000; i++) t.put(`k${i}`, 'v');
      await t.commit();
      expect(db.engine.writes.tracker.remembered).toBe(0);
      expect(db.engine.writes.tracker.rememberedHashes).toBe(0);
      expect(db.stats().transactions.open).toBe(0);
      await db.close();
    });

    // NB: fails today, same cause: the only open transaction ends while the write is in flight, and
    // trimming drops every remembered commit, including the one not yet published.
    it('a commit in flight stays remembered when the last open transaction ends meanwhile', async () => {
      const db = await open();
      await db.put('x', '0');
      const early = db.beginTransaction({ locking });
      const inFlight = db.put('x', 'plain', { sync: true });
      early.rollback();
      const t = db.beginTransaction({ locking });
      expect(await str(t.get('x'))).toBe('0');
      await inFlight;
      t.put('x', 'tx');
      await expect(t.commit()).rejects.toMatchObject(CONFLICT);
      await db.close();
    });
  });
});
