/**
 * iterator.seek(target) through stratadb/level respects the iterator's range, as abstract-level's
 * README requires: a target outside the range ends the iterator, in both directions and through
 * sublevels (whose ranges become prefixed ranges of the parent). abstract-level's own suite checks
 * this without asserting, so these are our own. The native DB iterator keeps RocksDB's behaviour
 * (a target before the range start snaps to the start); the last case pins that difference.
 */
import { describe, expect, it } from 'vitest';
import { StrataLevel } from '../../src/level-adapter/index.js';
import { DB } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { withSeed } from '../support/rng.js';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

interface Range { gt?: string; gte?: string; lt?: string; lte?: string }

async function seeded(db: { keys(o: object): { seek(t: string): void; all(): Promise<string[]> } },
  range: Range & { reverse?: boolean }, target: string): Promise<string[]> {
  const it = db.keys(range);
  it.seek(target);
  return it.all();
}

/** What abstract-level promises: [] when target is outside the range, else the range from target on. */
function expected(range: Range & { reverse?: boolean }, target: string, keys: string[]): string[] {
  const inside = (k: string): boolean =>
    (range.gte !== undefined ? k >= range.gte : range.gt === undefined || k > range.gt) &&
    (range.lte !== undefined ? k <= range.lte : range.lt === undefined || k < range.lt);
  if (!inside(target)) return [];
  const from = keys.filter((k) => inside(k) && (range.reverse ? k <= target : k >= target));
  return range.reverse ? from.reverse() : from;
}

describe('stratadb/level: seek outside the range ends the iterator', () => {
  it('forward and reverse, on the root and through a sublevel', async () => {
    // Two databases: the root of one holding sublevel entries would see them in its own range.
    const db = new StrataLevel(await tempDir());
    const parent = new StrataLevel(await tempDir());
    await db.open();
    await parent.open();
    const sub = parent.sublevel<string, string>('s', {});
    for (const k of DIGITS) { await db.put(k, k); await sub.put(k, k); }
    for (const d of [db, sub]) {
      expect(await seeded(d, { gt: '5' }, '4')).toEqual([]);
      expect(await seeded(d, { gt: '5' }, '5')).toEqual([]);
      expect(await seeded(d, { gte: '5' }, '5')).toEqual(['5', '6', '7', '8', '9']);
      expect(await seeded(d, { gt: '5' }, '7')).toEqual(['7', '8', '9']);
      expect(await seeded(d, { lt: '5', reverse: true }, '6')).toEqual([]);
      expect(await seeded(d, { lt: '5', reverse: true }, '5')).toEqual([]);
      expect(await seeded(d, { lte: '5', reverse: true }, '5')).toEqual(['5', '4', '3', '2', '1', '0']);
      expect(await seeded(d, { gt: '2', lt: '7', reverse: true }, '8')).toEqual([]);
      expect(await seeded(d, { gt: '2', lt: '7', reverse: true }, '4')).toEqual(['4', '3']);
    }
    // values() and iterator() take the same path; a later seek back into the range works again.
    const it = sub.iterator({ gt: '5' });
    it.seek('4');
    expect(await it.next()).toBeUndefined();
    it.seek('8');
    expect(await it.next()).toEqual(['8', '8']);
    await it.close();
    const vs = db.values({ gte: '3', lte: '6', reverse: true });
    vs.seek('7');
    expect(await vs.all()).toEqual([]);
    await db.close();
    await parent.close();
  });

  it('agrees with the contract on random ranges and targets', async () => {
    await withSeed('level seek-range', async (rng) => {
      const db = new StrataLevel(await tempDir());
      const parent = new StrataLevel(await tempDir());
      await db.open();
      await parent.open();
      const sub = parent.sublevel<string, string>('x', {});
      const keys = Array.from({ length: 40 }, (_, i) => String(i * 5).padStart(3, '0'));
      for (const k of keys) { await db.put(k, k); await sub.put(k, k); }
      const any = (): string => String(rng.int(210)).padStart(3, '0');
      for (let i = 0; i < 200; i++) {
        const range: Range & { reverse?: boolean } = { reverse: rng.int(2) === 1 };
        const lo = any();
        const hi = any();
        if (rng.int(3) > 0) range[rng.int(2) ? 'gt' : 'gte'] = lo;
        if (rng.int(3) > 0) range[rng.int(2) ? 'lt' : 'lte'] = hi;
        const target = any();
        const d = rng.int(2) ? db : sub;
        expect(await seeded(d, range, target), JSON.stringify({ range, target })).toEqual(expected(range, target, keys));
      }
      await db.close();
      await parent.close();
    });
  });

  it('the native iterator keeps snapping a target before the range start to the start', async () => {
    const db = await DB.open(await tempDir(), { compactionExecutor: 'inline' });
    for (const k of DIGITS) await db.put(k, k);
    const it = db.keys({ gt: '5' });
    it.seek(Buffer.from('4'));
    const got: string[] = [];
    for await (const k of it) got.push(k.toString());
    expect(got).toEqual(['6', '7', '8', '9']);
    await db.close();
  });
});
