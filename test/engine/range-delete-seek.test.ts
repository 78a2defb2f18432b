/**
 * The cost of a seek near range tombstones, counted (never timed), and its exactness:
 * - a seek into a range cleared moments ago, with the cleared keys still in the memtable, jumps the
 *   range in the memtable too (memtable iterator steps, both directions), also with keys re-entered
 *   into the cleared range;
 * - making iterators over thousands of tombstones fragments them once per source, not per iterator;
 * - a seeded model run where puts and deletes re-enter deleted ranges in the same memtable (alone and
 *   in one batch with the range delete, before and after it), under snapshots, in both directions,
 *   with bounds and seeks, checked against the sorted map of test/support/model.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DB, MemFileSystem, WriteBatch } from '../../src/index.js';
import { MemTableIterator } from '../../src/memtable/memtable-iterator.js';
import { FragmentSet } from '../../src/rangedel/fragment-set.js';
import { Model, type ScanOptions } from '../support/model.js';
import { withSeed, type Rng } from '../support/rng.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (u: Uint8Array): string => new TextDecoder().decode(u);
const key = (i: number): string => `k${String(i).padStart(6, '0')}`;

async function keys(db: DB, o: Record<string, unknown>): Promise<string[]> {
  const out: string[] = [];
  for await (const [k] of db.iterator(o)) out.push(str(k));
  return out;
}

/** Memtable iterator moves (next and prev) while fn runs. */
async function memtableSteps(fn: () => Promise<void>): Promise<number> {
  const next = vi.spyOn(MemTableIterator.prototype, 'next');
  const prev = vi.spyOn(MemTableIterator.prototype, 'prev');
  try {
    await fn();
    return next.mock.calls.length + prev.mock.calls.length;
  } finally {
    next.mockRestore();
    prev.mockRestore();
  }
}

afterEach(() => { vi.restoreAllMocks(); });

describe('seeks near range tombstones', () => {
  it('a seek into a cleared range of 100k keys still in the memtable steps O(1) entries, both ways, re-entered keys too', async () => {
    // A write buffer far above the data: the keys and the tombstone stay in one memtable.
    const db = await DB.open('/db', { fs: new MemFileSystem(), compactionExecutor: 'inline', writeBufferSize: 256 * 1024 * 1024 });
    const n = 100_000;
    await db.put('a', 'before');
    for (let i = 0; i < n; i += 1000) {
      const b = new WriteBatch();
      for (let j = i; j < i + 1000; j++) b.put(key(j), 'x');
      await db.write(b);
    }
    await db.put('zz', 'after');
    await db.deleteRange(key(0), 'k~');
    expect(db.stats().rangeDeletions.memtables).toBe(1);
    expect(db.stats().rangeDeletions.tables).toBe(0);

    let got: string[] = [];
    let steps = await memtableSteps(async () => { got = await keys(db, { gte: key(50_000), limit: 1 }); });
    expect(got).toEqual(['zz']);
    expect(steps).toBeLessThan(20);
    steps = await memtableSteps(async () => { got = await keys(db, { lt: key(50_000), reverse: true, limit: 1 }); });
    expect(got).toEqual(['a']);
    expect(steps).toBeLessThan(20);

    // Keys written into the cleared range afterwards are seen, and the jumps stop only at them.
    await db.put(key(70_000), 'again');
    await db.delete(key(30_000));
    steps = await memtableSteps(async () => { got = await keys(db, { gte: key(50_000), limit: 2 }); });
    expect(got).toEqual([key(70_000), 'zz']);
    expect(steps).toBeLessThan(20);
    steps = await memtableSteps(async () => { got = await keys(db, { lt: key(90_000), reverse: true }); });
    expect(got).toEqual([key(70_000), 'a']);
    expect(steps).toBeLessThan(20);
    steps = await memtableSteps(async () => { got = await keys(db, {}); });
    expect(got).toEqual(['a', key(70_000), 'zz']);
    expect(steps).toBeLessThan(20);
    await db.close();
  });

  it('1,000 iterators over 5,000 tombstones (in the memtable and in tables) fragment them once per source', async () => {
    const db = await DB.open('/db', { fs: new MemFileSystem(), compactionExecutor: 'inline' });
    const live = async (from: number): Promise<void> => {
      const b = new WriteBatch();
      for (let i = from; i < from + 5000; i++) b.put(key(2 * i), 'x').put(key(2 * i + 1), 'y');
      await db.write(b);
    };
    const tombstones = async (from: number): Promise<void> => {
      const b = new WriteBatch();
      for (let i = from; i < from + 2500; i++) b.deleteRange(key(2 * i), key(2 * i + 1));
      await db.write(b);
    };
    await live(0);
    await tombstones(0);
    await db.flush();
    await live(5000);
    await tombstones(5000);
    const stats = db.stats().rangeDeletions;
    expect(stats.memtables).toBe(2500);
    expect(stats.tableEntries).toBe(2500);

    const builds = vi.spyOn(FragmentSet, 'fromTombstones');
    for (let i = 0; i < 1000; i++) {
      // Seeks into deleted keys (even keys below 5,000 and in [10,000, 15,000)) and live ones alike.
      const k = (i * 7919) % 15_000;
      const got = await keys(db, { gte: key(k), limit: 1 });
      const deleted = k % 2 === 0 && (k < 5000 || (k >= 10_000 && k < 15_000));
      expect(got).toEqual([key(deleted ? k + 1 : k)]);
    }
    expect(builds.mock.calls.length).toBeLessThanOrEqual(2);
    builds.mockRestore();
    await db.close();
  });

  it('puts and deletes re-entering deleted ranges in the same memtable match a sorted map (seeded)', async () => {
    await withSeed('range-delete-seek model', async (rng: Rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open('/db', { fs, compactionExecutor: 'inline' });
      const model = new Model();
      const snaps: { snap: ReturnType<DB['snapshot']>; state: Model }[] = [];
      const universe = 120;
      const pick = (): Uint8Array => enc(key(rng.int(universe)));
      const range = (): [Uint8Array, Uint8Array] => {
        const a = rng.int(universe);
        const b = a + 1 + rng.int(40);
        return [enc(key(a)), enc(key(b))];
      };
      const value = (step: number): Uint8Array => enc(`v${step}`);
      const log: string[] = [];

      const check = async (snap?: { snap: ReturnType<DB['snapshot']>; state: Model }): Promise<void> => {
        const m = snap?.state ?? model;
        const o: ScanOptions = {};
        if (rng.next() < 0.5) o[rng.next() < 0.5 ? 'gt' : 'gte'] = pick();
        if (rng.next() < 0.5) o[rng.next() < 0.5 ? 'lt' : 'lte'] = pick();
        o.reverse = rng.next() < 0.5;
        if (rng.next() < 0.3) o.limit = 1 + rng.int(5);
        const want = m.scan(o).map(([k, v]) => `${str(k)}=${str(v)}`);
        const got: string[] = [];
        for await (const [k, v] of db.iterator({ ...o, snapshot: snap?.snap })) got.push(`${str(k)}=${str(v)}`);
        expect(got, `scan ${JSON.stringify({ ...o, gt: o.gt && str(o.gt), gte: o.gte && str(o.gte), lt: o.lt && str(o.lt), lte: o.lte && str(o.lte) })}`).toEqual(want);
        // A seek inside an open iterator: the next three entries from the target on, in its direction.
        const target = pick();
        const it = db.iterator({ reverse: o.reverse, snapshot: snap?.snap });
        it.seek(target);
        const seen = (await it.nextv(3)).map(([k, v]) => `${str(k)}=${str(v)}`);
        await it.close();
        const from: ScanOptions = o.reverse ? { lte: target, reverse: true, limit: 3 } : { gte: target, limit: 3 };
        expect(seen, `seek ${str(target)} reverse=${o.reverse}`).toEqual(m.scan(from).map(([k, v]) => `${str(k)}=${str(v)}`));
      };

      try {
        for (let step = 0; step < 400; step++) {
          const r = rng.next();
          if (r < 0.3) {
            const k = pick();
            log.push(`put ${str(k)}`);
            await db.put(k, value(step));
            model.put(k, value(step));
          } else if (r < 0.37) {
            const k = pick();
            log.push(`delete ${str(k)}`);
            await db.delete(k);
            model.delete(k);
          } else if (r < 0.5) {
            const [a, b] = range();
            log.push(`deleteRange ${str(a)} ${str(b)}`);
            await db.deleteRange(a, b);
            model.deleteRange(a, b);
          } else if (r < 0.62) {
            // One batch: writes inside a range before and after deleting it.
            const [a, b] = range();
            const inside = (): Uint8Array => enc(key(Number(str(a).slice(1)) + rng.int(Number(str(b).slice(1)) - Number(str(a).slice(1)))));
            const batch = new WriteBatch();
            const ops: string[] = [];
            for (let i = rng.int(3); i > 0; i--) { const k = inside(); batch.put(k, value(step)); model.put(k, value(step)); ops.push(`put ${str(k)}`); }
            batch.deleteRange(a, b);
            model.deleteRange(a, b);
            ops.push(`deleteRange ${str(a)} ${str(b)}`);
            for (let i = 1 + rng.int(3); i > 0; i--) {
              const k = inside();
              if (rng.next() < 0.8) { batch.put(k, value(step)); model.put(k, value(step)); ops.push(`put ${str(k)}`); }
              else { batch.delete(k); model.delete(k); ops.push(`delete ${str(k)}`); }
            }
            log.push(`batch [${ops.join(', ')}]`);
            await db.write(batch);
          } else if (r < 0.66 && snaps.length < 3) {
            log.push('snapshot');
            snaps.push({ snap: db.snapshot(), state: model.clone() });
          } else if (r < 0.68 && snaps.length > 0) {
            log.push('release snapshot');
            snaps.shift()!.snap.release();
          } else if (r < 0.7) {
            log.push('flush');
            await db.flush();
          } else {
            await check();
            for (const s of snaps) await check(s);
          }
        }
      } catch (e) {
        console.error(`operation log (${log.length}):\n${log.join('\n')}`);
        throw e;
      } finally {
        for (const s of snaps) s.snap.release();
        await db.close();
      }
    });
  });
});
