/**
 * Range deletes across power cuts (MemFileSystem crash clones): a batch holding puts and a range
 * delete is all or nothing at every point a cut can fall inside its WAL record, and a synced range
 * delete survives a cut that keeps no unsynced byte, whether it still lives in the WAL, in an L0
 * table, or was carried down by compaction onto older data in deeper levels.
 * Process kills (SIGKILL) with range deletes in the mix: test/torture/latency-process-kill.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, WriteBatch, type Options } from '../../src/index.js';
import { withSeed, type Rng } from '../support/rng.js';

const DIR = '/db';
const OPTIONS: Options = { writeBufferSize: 64 * 1024, blockSize: 256, compression: 'none' };
const k = (i: number): string => `k${String(i).padStart(3, '0')}`;

async function stateOf(fs: MemFileSystem): Promise<string> {
  const db = await DB.open(DIR, { ...OPTIONS, fs });
  try {
    const rows: string[] = [];
    for await (const [key, v] of db.iterator()) rows.push(`${key.toString()}=${v.toString('hex')}`);
    return rows.join(',');
  } finally {
    await db.close();
  }
}

/** Puts k000..k(n-1) with seeded values, synced; returns the values. */
async function fill(db: DB, rng: Rng, n: number): Promise<Map<string, Buffer>> {
  const values = new Map<string, Buffer>();
  const b = new WriteBatch();
  for (let i = 0; i < n; i++) {
    const v = Buffer.from(rng.bytes(8 + rng.int(40)));
    values.set(k(i), v);
    b.put(k(i), v);
  }
  await db.write(b, { sync: true });
  return values;
}

const show = (m: Map<string, Buffer>): string =>
  [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, v]) => `${key}=${v.toString('hex')}`).join(',');

describe('range deletes across power cuts', () => {
  it('a batch of puts and a range delete is all or nothing wherever the cut falls in its record', async () => {
    await withSeed('range-delete batch atomicity', async (rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open(DIR, { ...OPTIONS, fs });
      const before = await fill(db, rng, 40);
      const lo = 5 + rng.int(10);
      const hi = lo + 5 + rng.int(20);
      const back = lo + rng.int(hi - lo); // put again after the range delete, in the same batch
      const after = new Map(before);
      const b = new WriteBatch();
      const v1 = Buffer.from(rng.bytes(30));
      b.put('n-first', v1).put(k(lo), Buffer.from('shadowed by the range delete'));
      after.set('n-first', v1);
      b.deleteRange(k(lo), k(hi));
      for (let i = lo; i < hi; i++) after.delete(k(i));
      const v2 = Buffer.from(rng.bytes(300)); // long: the record spans more cut points
      b.put(k(back), v2);
      after.set(k(back), v2);
      await db.write(b); // not synced: its record is the unsynced tail
      const seen = new Set<string>();
      for (let pct = 0; pct <= 100; pct++) {
        const got = await stateOf(fs.crashClone({ keepUnsyncedPercent: pct }));
        const which = got === show(before) ? 'before' : got === show(after) ? 'after' : undefined;
        expect(which, `cut keeping ${pct}% of the unsynced tail: a torn batch (${got.slice(0, 120)}...)`).toBeDefined();
        seen.add(which!);
      }
      expect([...seen].sort()).toEqual(['after', 'before']);
      await db.close();
    });
  });

  it('a synced range delete survives a cut keeping nothing unsynced: in the WAL, in L0, and carried down onto deeper levels', async () => {
    await withSeed('synced range delete durability', async (rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open(DIR, { ...OPTIONS, fs });
      const want = await fill(db, rng, 200);
      await db.flush();
      await db.compactRange(); // the data now sits in the bottom level
      const del = async (lo: number, hi: number): Promise<void> => {
        await db.deleteRange(k(lo), k(hi), { sync: true });
        for (let i = lo; i < hi; i++) want.delete(k(i));
      };
      const check = async (where: string): Promise<void> => {
        expect(await stateOf(fs.crashClone({ keepUnsyncedPercent: 0 })), where).toBe(show(want));
      };
      await del(10, 20 + rng.int(30));
      await check('range tombstone in the WAL only');
      await db.flush();
      await del(100 + rng.int(20), 150);
      await check('one tombstone in L0, one in the WAL');
      // An unsynced put after the range delete may be lost, the range delete may not.
      await db.put(k(120), 'late');
      await db.flush();
      want.set(k(120), Buffer.from('late'));
      await check('both in L0 after a flush (flush syncs the table and the MANIFEST)');
      await db.compactRange(k(0), k(60)); // carries the first tombstone down (or drops it at the bottom)
      await check('after compaction of the first range');
      await db.compactRange();
      await check('after compaction of everything');
      await db.close();
    });
  });
});
