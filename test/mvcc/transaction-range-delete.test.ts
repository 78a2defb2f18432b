/**
 * tx.deleteRange (src/mvcc/transaction.ts): read-your-own range deletes (the snapshot's keys and the
 * transaction's earlier writes hidden, later writes seen again; get and iterators both ways, with
 * bounds), conflicts as a write of the whole range under both isolation levels (lost update, write
 * skew, phantoms; plain db.deleteRange and db.write commits count like any commit), atomic commits
 * (a reopen, and a crash clone at every cut of the WAL, show all of a commit or none), and a
 * fast-check property comparing a transaction's view, and then the database, with a sorted-map model.
 * Each test has its own MemFileSystem; randomness is seeded from SEED (printed on failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, WriteBatch, type Isolation, type Transaction } from '../../src/index.js';
import { compareBytes } from '../../src/base/bytes.js';
import { testSeed } from '../support/rng.js';

const LEVELS: Isolation[] = ['snapshot', 'serializable'];
const CONFLICT = { code: 'ERR_TXN_CONFLICT' };

async function open(fs = new MemFileSystem()): Promise<DB> {
  return DB.open('/db', { fs });
}

const s = (u: Uint8Array): string => Buffer.from(u).toString();

async function str(p: Promise<Uint8Array | undefined>): Promise<string | undefined> {
  const v = await p;
  return v === undefined ? undefined : s(v);
}

async function scan(it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of it) out.push(`${s(k)}=${s(v)}`);
  return out;
}

async function seed(db: DB, keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g']): Promise<void> {
  for (const k of keys) await db.put(k, `db-${k}`);
}

describe('read your own range deletes', () => {
  it.each(LEVELS)('%s: the snapshot and earlier writes in [start, end) are hidden, later writes seen', async (isolation) => {
    const db = await open();
    await seed(db);
    await db.flush(); // some keys in a table, some in the memtable
    await db.put('c', 'db-c2');
    const tx = db.beginTransaction({ isolation });
    tx.put('cc', 'tx-cc-before');
    tx.put('h', 'tx-h');
    tx.deleteRange('b', 'f');
    tx.put('d', 'tx-d-after');
    expect(await str(tx.get('a'))).toBe('db-a');
    expect(await str(tx.get('b'))).toBeUndefined(); // start: deleted
    expect(await str(tx.get('c'))).toBeUndefined();
    expect(await str(tx.get('cc'))).toBeUndefined(); // own write before the range delete
    expect(await str(tx.get('d'))).toBe('tx-d-after'); // own write after it
    expect(await str(tx.get('e'))).toBeUndefined();
    expect(await str(tx.get('f'))).toBe('db-f'); // end: kept
    expect(await str(tx.get('h'))).toBe('tx-h');
    const all = ['a=db-a', 'd=tx-d-after', 'f=db-f', 'g=db-g', 'h=tx-h'];
    expect(await scan(tx.iterator())).toEqual(all);
    expect(await scan(tx.iterator({ reverse: true }))).toEqual([...all].reverse());
    expect(await scan(tx.iterator({ gte: 'b', lt: 'f' }))).toEqual(['d=tx-d-after']);
    expect(await scan(tx.iterator({ gt: 'a', lte: 'f', reverse: true }))).toEqual(['f=db-f', 'd=tx-d-after']);
    // a delete after the range delete, and a put again after a second range delete
    tx.delete('d');
    tx.deleteRange('a', 'b\0');
    tx.put('a', 'tx-a');
    expect(await str(tx.get('d'))).toBeUndefined();
    expect(await scan(tx.iterator())).toEqual(['a=tx-a', 'f=db-f', 'g=db-g', 'h=tx-h']);
    // outside, nothing until commit
    expect(await str(db.get('c'))).toBe('db-c2');
    await tx.commit();
    expect(await scan(db.iterator())).toEqual(['a=tx-a', 'f=db-f', 'g=db-g', 'h=tx-h']);
    await db.close();
  });

  it('db.transaction: a commit of range deletes only; a later put in the range survives it', async () => {
    const db = await open();
    await seed(db);
    await db.transaction(async (tx) => {
      tx.deleteRange('a', 'c');
      tx.deleteRange('b', 'e'); // overlapping: committed as one range [a, e)
      tx.put('b', 'tx-b');
    });
    expect(await scan(db.iterator())).toEqual(['b=tx-b', 'e=db-e', 'f=db-f', 'g=db-g']);
    expect(db.stats().rangeDeletions.memtables).toBe(1);
    await db.close();
  });
});

describe('conflicts: a range delete is a write of the whole range', () => {
  it.each(LEVELS)('%s: a write inside a range another commit deleted since the snapshot is a lost update', async (isolation) => {
    for (const plain of ['deleteRange', 'write', 'transaction'] as const) {
      const db = await open();
      await seed(db);
      const tx = db.beginTransaction({ isolation });
      tx.put('d', 'tx-d'); // d is in [c, f) but not its start
      if (plain === 'deleteRange') await db.deleteRange('c', 'f');
      else if (plain === 'write') await db.write(new WriteBatch().put('zz', '1').deleteRange('c', 'f'));
      else await db.transaction(async (t) => { t.deleteRange('c', 'f'); });
      await expect(tx.commit(), plain).rejects.toMatchObject(CONFLICT);
      expect(await str(db.get('d'))).toBeUndefined();
      await db.close();
    }
  });

  it.each(LEVELS)('%s: at the bounds: the start conflicts, the end does not', async (isolation) => {
    const db = await open();
    await seed(db);
    const atStart = db.beginTransaction({ isolation });
    const atEnd = db.beginTransaction({ isolation });
    atStart.put('c', 'x');
    atEnd.put('f', 'x');
    await db.deleteRange('c', 'f');
    await expect(atStart.commit()).rejects.toMatchObject(CONFLICT);
    await atEnd.commit();
    expect(await scan(db.iterator())).toEqual(['a=db-a', 'b=db-b', 'f=x', 'g=db-g']);
    await db.close();
  });

  it.each(LEVELS)('%s: tx.deleteRange over a key or a range another commit wrote since the snapshot', async (isolation) => {
    const db = await open();
    await seed(db);
    const t1 = db.beginTransaction({ isolation });
    const t2 = db.beginTransaction({ isolation });
    const t3 = db.beginTransaction({ isolation });
    const t4 = db.beginTransaction({ isolation });
    t1.deleteRange('c', 'f');
    t2.deleteRange('a', 'd');
    t3.deleteRange('f', 'h');
    t4.deleteRange('a', 'c'); // touches [c, ...) without sharing a key
    await db.put('e', 'other'); // inside t1's range
    await db.deleteRange('c', 'd'); // overlaps t2's range, only touches t4's
    await expect(t1.commit()).rejects.toMatchObject(CONFLICT);
    await expect(t2.commit()).rejects.toMatchObject(CONFLICT);
    await t3.commit();
    await t4.commit();
    expect(await scan(db.iterator())).toEqual(['d=db-d', 'e=other']);
    await db.close();
  });

  it('serializable: write skew through a range delete is refused; snapshot isolation allows it', async () => {
    for (const isolation of LEVELS) {
      const db = await open();
      await db.put('on-call:alice', '1');
      await db.put('on-call:bob', '1');
      // Each removes the others if someone else is still on call: under serializable one must lose.
      const alice = db.beginTransaction({ isolation });
      const bob = db.beginTransaction({ isolation });
      expect(await str(alice.get('on-call:bob'))).toBe('1');
      expect(await scan(bob.iterator({ gte: 'on-call:', lt: 'on-call;' }))).toHaveLength(2);
      alice.delete('on-call:alice');
      bob.deleteRange('on-call:bob', 'on-call:bob\0');
      await bob.commit();
      if (isolation === 'serializable') await expect(alice.commit()).rejects.toMatchObject(CONFLICT);
      else await alice.commit();
      const left = await scan(db.iterator());
      expect(left, isolation).toEqual(isolation === 'serializable' ? ['on-call:alice=1'] : []);
      await db.close();
    }
  });

  it('serializable: a point read or an iterated range that a later plain range delete covers conflicts; snapshot does not', async () => {
    for (const isolation of LEVELS) {
      const db = await open();
      await seed(db);
      const reader = db.beginTransaction({ isolation });
      const scanner = db.beginTransaction({ isolation });
      const outside = db.beginTransaction({ isolation });
      expect(await str(reader.get('d'))).toBe('db-d');
      expect(await scan(scanner.iterator({ gt: 'e', lt: 'zz' }))).toEqual(['f=db-f', 'g=db-g']);
      expect(await str(outside.get('a'))).toBe('db-a');
      await scan(outside.iterator({ gte: 'b', lt: 'c' }));
      for (const tx of [reader, scanner, outside]) tx.put(`w-${tx.snapshotSequence}-${Math.random()}`, '1');
      await db.write(new WriteBatch().deleteRange('c', 'f\0'));
      const results = await Promise.allSettled([reader.commit(), scanner.commit(), outside.commit()]);
      const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok'));
      expect(codes, isolation).toEqual(isolation === 'serializable' ? ['ERR_TXN_CONFLICT', 'ERR_TXN_CONFLICT', 'ok'] : ['ok', 'ok', 'ok']);
      await db.close();
    }
  });

  it('a range delete committed before the snapshot does not conflict', async () => {
    const db = await open();
    await seed(db);
    await db.deleteRange('a', 'z');
    const tx = db.beginTransaction({ isolation: 'serializable' });
    expect(await str(tx.get('d'))).toBeUndefined();
    tx.put('d', 'again');
    await tx.commit();
    expect(await scan(db.iterator())).toEqual(['d=again']);
    await db.close();
  });
});

describe('atomic commit', () => {
  it('a reopen shows the whole commit, and a refused commit shows nothing', async () => {
    const fs = new MemFileSystem();
    let db = await open(fs);
    await seed(db);
    const won = db.beginTransaction();
    const lost = db.beginTransaction();
    won.put('a', 'tx-a');
    won.deleteRange('b', 'e');
    won.put('c', 'tx-c');
    won.put('x', 'tx-x');
    lost.put('zz', 'lost');
    lost.deleteRange('a', 'b'); // overlaps the key `won` writes
    await won.commit();
    await expect(lost.commit()).rejects.toMatchObject(CONFLICT);
    await db.close();
    db = await open(fs);
    expect(await scan(db.iterator())).toEqual(['a=tx-a', 'c=tx-c', 'e=db-e', 'f=db-f', 'g=db-g', 'x=tx-x']);
    await db.close();
  });

  it('a crash at any cut of the WAL leaves all of the commit or none of it', async () => {
    {
      const fs = new MemFileSystem();
      const db = await open(fs);
      await seed(db, ['a', 'b', 'c', 'd']);
      await db.flush();
      const before = await scan(db.iterator());
      const tx = db.beginTransaction();
      tx.put('b2', 'tx');
      tx.deleteRange('a', 'c');
      tx.put('a', 'tx-a');
      tx.delete('d');
      await tx.commit(); // not synced: a crash may keep any prefix of its WAL record
      const after = await scan(db.iterator());
      const seen = new Set<string>();
      // every cut of the unsynced tail (the commit's WAL record), from none of it to all of it
      for (let pct = 0; pct <= 100; pct += 4) {
        const crashed = fs.crashClone({ keepUnsyncedPercent: pct, keepUnsyncedEntries: true });
        const reopened = await open(crashed);
        const state = await scan(reopened.iterator());
        await reopened.close();
        expect([JSON.stringify(before), JSON.stringify(after)], JSON.stringify(state)).toContain(JSON.stringify(state));
        seen.add(JSON.stringify(state));
      }
      // the cuts reached both outcomes
      expect([...seen]).toEqual([JSON.stringify(before), JSON.stringify(after)]);
      await db.close();
    }
  });
});

// ---------------------------------------------------------------- model

type Op =
  | { t: 'put'; k: string; v: string }
  | { t: 'del'; k: string }
  | { t: 'range'; s: string; e: string }
  | { t: 'get'; k: string }
  | { t: 'scan'; lo?: string; hi?: string; reverse: boolean };

const KEYS = ['', 'a', 'a\0', 'ab', 'b', 'ba', 'bb', 'c', 'cd', 'd'];
const keyArb = fc.constantFrom(...KEYS);
const rangeArb = fc.tuple(keyArb, keyArb).filter(([x, y]) => compareBytes(Buffer.from(x), Buffer.from(y)) < 0);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(keyArb, fc.nat(99)).map(([k, v]): Op => ({ t: 'put', k, v: `v${v}` })) },
  { weight: 1, arbitrary: keyArb.map((k): Op => ({ t: 'del', k })) },
  { weight: 2, arbitrary: rangeArb.map(([s0, e]): Op => ({ t: 'range', s: s0, e })) },
  { weight: 2, arbitrary: keyArb.map((k): Op => ({ t: 'get', k })) },
  {
    weight: 1,
    arbitrary: fc.record({ lo: fc.option(keyArb, { nil: undefined }), hi: fc.option(keyArb, { nil: undefined }), reverse: fc.boolean() })
      .map((o): Op => ({ t: 'scan', ...o })),
  },
);

const cmp = (x: string, y: string): number => compareBytes(Buffer.from(x), Buffer.from(y));
const inRange = (k: string, lo: string, hi: string): boolean => cmp(lo, k) <= 0 && cmp(k, hi) < 0;

/** Applies a write to a sorted-map model. */
function applyModel(m: Map<string, string>, op: Op): void {
  if (op.t === 'put') m.set(op.k, op.v);
  else if (op.t === 'del') m.delete(op.k);
  else if (op.t === 'range') for (const k of [...m.keys()]) if (inRange(k, op.s, op.e)) m.delete(k);
}

function modelScan(m: Map<string, string>, lo?: string, hi?: string, reverse = false): string[] {
  const keys = [...m.keys()].filter((k) => (lo === undefined || cmp(lo, k) <= 0) && (hi === undefined || cmp(k, hi) < 0)).sort(cmp);
  if (reverse) keys.reverse();
  return keys.map((k) => `${k}=${m.get(k)}`);
}

async function applyTx(tx: Transaction, m: Map<string, string>, op: Op): Promise<void> {
  if (op.t === 'put') tx.put(op.k, op.v);
  else if (op.t === 'del') tx.delete(op.k);
  else if (op.t === 'range') tx.deleteRange(op.s, op.e);
  else if (op.t === 'get') expect(await str(tx.get(op.k)), `get ${JSON.stringify(op.k)}`).toBe(m.get(op.k));
  else {
    const o = { ...(op.lo !== undefined ? { gte: op.lo } : {}), ...(op.hi !== undefined ? { lt: op.hi } : {}), reverse: op.reverse };
    expect(await scan(tx.iterator(o)), `scan ${JSON.stringify(op)}`).toEqual(modelScan(m, op.lo, op.hi, op.reverse));
  }
  applyModel(m, op);
}

describe('model', () => {
  it("a transaction's view and its commit match a sorted map with range deletes (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb.filter((o) => o.t === 'put' || o.t === 'del' || o.t === 'range'), { maxLength: 12 }),
        fc.boolean(),
        fc.array(opArb, { maxLength: 25 }),
        fc.constantFrom(...LEVELS),
        async (dbOps, flushFirst, txOps, isolation) => {
          const db = await open();
          const model = new Map<string, string>();
          for (const op of dbOps) {
            if (op.t === 'put') await db.put(op.k, op.v);
            else if (op.t === 'del') await db.delete(op.k);
            else if (op.t === 'range') await db.deleteRange(op.s, op.e);
            applyModel(model, op);
          }
          if (flushFirst) await db.flush();
          const tx = db.beginTransaction({ isolation });
          // Snapshot isolation: a write after the snapshot, outside every key the ops write, is not
          // seen and does not conflict (serializable scans would conflict with it).
          if (isolation === 'snapshot') await db.put('zz', 'later');
          for (const op of txOps) await applyTx(tx, model, op);
          await tx.commit();
          if (isolation === 'snapshot') model.set('zz', 'later');
          expect(await scan(db.iterator())).toEqual(modelScan(model));
          await db.close();
        },
      ),
      { seed: testSeed(), numRuns: 150 },
    );
  });
});
