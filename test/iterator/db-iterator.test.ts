import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { compareInternalKeys, makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { ConcatIterator } from '../../src/iterator/concat-iterator.js';
import { DBIterator, type DBIteratorOptions } from '../../src/iterator/db-iterator.js';
import { MergingIterator } from '../../src/iterator/merging-iterator.js';
import { StrataError } from '../../src/errors.js';
import { ArrayIterator, type ArrayIteratorMode, type Entry } from '../support/array-iterator.js';
import { settle, sortEntries, toEntries, userKeyArb, versionArb, type Version } from '../support/cursor-model.js';
import { makeRng, testSeed } from '../support/rng.js';

const seed = testSeed();
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

type Pair = [key: Uint8Array, value: Uint8Array];

/** The model: newest version with seq <= S per user key (seq = index + 1), Deletes hide, sorted. */
function visibleAt(versions: readonly Version[], snapshotSeq: number): Pair[] {
  const newest = new Map<string, { seq: number; v: Version }>();
  versions.forEach((v, i) => {
    const seq = i + 1;
    if (seq > snapshotSeq) return;
    const k = hex(v.userKey);
    const cur = newest.get(k);
    if (!cur || cur.seq < seq) newest.set(k, { seq, v });
  });
  return [...newest.values()]
    .filter(({ v }) => v.kind === ValueKind.Put)
    .map(({ v }): Pair => [v.userKey, v.value])
    .sort((a, b) => compareBytes(a[0], b[0]));
}

function inBounds(k: Uint8Array, o: DBIteratorOptions): boolean {
  return (
    (o.gt === undefined || compareBytes(k, o.gt) > 0) &&
    (o.gte === undefined || compareBytes(k, o.gte) >= 0) &&
    (o.lt === undefined || compareBytes(k, o.lt) < 0) &&
    (o.lte === undefined || compareBytes(k, o.lte) <= 0)
  );
}

function capOf(limit: number | undefined): number {
  return limit !== undefined && Number.isInteger(limit) && limit >= 0 ? limit : Infinity;
}

/** Calls next() up to max times, copying what it yields; checks sync answers when asked to. */
async function drain(it: DBIterator, max: number, expectSync: boolean): Promise<Pair[]> {
  const out: Pair[] = [];
  while (out.length < max) {
    const r = it.next();
    if (expectSync) expect(typeof r).toBe('boolean');
    if (!(await r)) break;
    out.push([it.key().slice(), it.value().slice()]);
  }
  return out;
}

function children(entries: readonly Entry[], assign: readonly number[], modes: readonly ArrayIteratorMode[], rngSeed: number) {
  const parts: Entry[][] = modes.map(() => []);
  entries.forEach((e, i) => parts[(assign[i] ?? i) % modes.length]!.push(e));
  const rng = makeRng(rngSeed);
  return parts.map((p, i) => new ArrayIterator(p, { mode: modes[i]!, rng }));
}

/** A DBIterator over sync children holding the given (userKey, seq, kind, value) versions. */
function dbIter(data: [string, number, number, string][], options: DBIteratorOptions, mode: ArrayIteratorMode = 'sync') {
  const entries = sortEntries(data.map(([k, seq, kind, v]) => ({ key: makeInternalKey(enc(k), seq, kind), value: enc(v) })));
  const child = new ArrayIterator(entries, { mode });
  return { it: new DBIterator(new MergingIterator([child], compareInternalKeys), options), child };
}

const strings = (pairs: Pair[]) => pairs.map(([k, v]) => `${dec(k)}=${dec(v)}`);

describe('DBIterator', () => {
  it('matches the visibility model: snapshots, tombstones, bounds, reverse, limit, seek', async () => {
    const optionalKey = fc.option(userKeyArb, { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.array(versionArb, { maxLength: 60 }),
        fc.integer({ min: 0, max: 62 }),
        fc.record({ gt: optionalKey, gte: optionalKey, lt: optionalKey, lte: optionalKey }),
        fc.boolean(),
        fc.oneof(fc.constant(undefined), fc.constant(-1), fc.constant(Infinity), fc.integer({ min: 0, max: 8 })),
        fc.array(fc.constantFrom<ArrayIteratorMode>('sync', 'async', 'mixed'), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.option(fc.record({ after: fc.nat(6), target: userKeyArb }), { nil: undefined }),
        fc.nat(),
        async (versions, snapshotSeq, bounds, reverse, limit, modes, assign, seekPlan, rngSeed) => {
          const options: DBIteratorOptions = { snapshotSeq, reverse, limit };
          for (const [name, b] of Object.entries(bounds)) if (b !== undefined) Object.assign(options, { [name]: b });
          const entries = toEntries(versions);
          const kids = children(entries, assign, modes, rngSeed);
          const it = new DBIterator(new MergingIterator(kids, compareInternalKeys), options);
          const expectSync = modes.every((m) => m === 'sync');

          let list = visibleAt(versions, snapshotSeq).filter(([k]) => inBounds(k, options));
          if (reverse) list = list.reverse();
          const cap = capOf(limit);
          let want: Pair[];
          let got: Pair[];
          if (!seekPlan) {
            want = list.slice(0, cap);
            got = await drain(it, Infinity, expectSync);
          } else {
            const first = list.slice(0, Math.min(seekPlan.after, cap));
            const t = seekPlan.target;
            const rest = list.filter(([k]) => (reverse ? compareBytes(k, t) <= 0 : compareBytes(k, t) >= 0));
            want = [...first, ...rest.slice(0, cap - first.length)];
            got = await drain(it, seekPlan.after, expectSync);
            it.seek(t);
            got.push(...(await drain(it, Infinity, expectSync)));
          }
          expect(got.map(([k, v]) => `${hex(k)}=${hex(v)}`)).toEqual(want.map(([k, v]) => `${hex(k)}=${hex(v)}`));
          // Exhausted stays exhausted.
          expect(await it.next()).toBe(false);
          await settle(it.close());
          expect(kids.every((k) => k.closeCount === 1)).toBe(true);
        },
      ),
      { seed, numRuns: 400 },
    );
  });

  it('keeps the newest visible version per key in reverse, across many versions', async () => {
    // Versions of b: 1 put, 2 put, 3 delete, 4 put, 5 put(invisible at 4), 6 delete(invisible).
    const data: [string, number, number, string][] = [
      ['a', 7, ValueKind.Put, 'a7'],
      ['b', 1, ValueKind.Put, 'b1'], ['b', 2, ValueKind.Put, 'b2'], ['b', 3, ValueKind.Delete, ''],
      ['b', 4, ValueKind.Put, 'b4'], ['b', 5, ValueKind.Put, 'b5'], ['b', 6, ValueKind.Delete, ''],
      ['c', 2, ValueKind.Put, 'c2'], ['c', 3, ValueKind.Delete, ''],
    ];
    const at = async (snapshotSeq: number, reverse: boolean) => {
      const { it } = dbIter(data, { snapshotSeq, reverse }, 'async');
      return strings(await drain(it, Infinity, false));
    };
    expect(await at(2, true)).toEqual(['c=c2', 'b=b2']);
    expect(await at(3, true)).toEqual([]); // b and c deleted at 3, a not yet written
    expect(await at(4, true)).toEqual(['b=b4']);
    expect(await at(5, true)).toEqual(['b=b5']);
    expect(await at(7, true)).toEqual(['a=a7']);
    expect(await at(7, false)).toEqual(['a=a7']);
    expect(await at(5, false)).toEqual(['b=b5']);
    expect(await at(0, false)).toEqual([]);
  });

  it('hides an all-deleted range and walks past it', async () => {
    const data: [string, number, number, string][] = [['a', 1, ValueKind.Put, 'a'], ['z', 2, ValueKind.Put, 'z']];
    for (let i = 0; i < 200; i++) {
      const k = `m${String(i).padStart(3, '0')}`;
      data.push([k, 10 + i, ValueKind.Put, k], [k, 1000 + i, ValueKind.Delete, '']);
    }
    for (const reverse of [false, true]) {
      const { it } = dbIter(data, { snapshotSeq: 5000, reverse });
      expect(strings(await drain(it, Infinity, true))).toEqual(reverse ? ['z=z', 'a=a'] : ['a=a', 'z=z']);
      const { it: bounded } = dbIter(data, { snapshotSeq: 5000, reverse, gt: enc('a'), lt: enc('z') });
      expect(await drain(bounded, Infinity, true)).toEqual([]);
    }
  });

  it('gt vs gte and lt vs lte at an existing key, the stricter of two bounds, and empty keys', async () => {
    const data: [string, number, number, string][] = ['', 'a', 'b', 'c', 'd'].map((k, i) => [k, i + 1, ValueKind.Put, k || '∅']);
    const keys = async (o: Omit<DBIteratorOptions, 'snapshotSeq'>) =>
      (await drain(dbIter(data, { snapshotSeq: 10, ...o }).it, Infinity, true)).map(([k]) => dec(k) || '∅');
    expect(await keys({ gte: enc('b') })).toEqual(['b', 'c', 'd']);
    expect(await keys({ gt: enc('b') })).toEqual(['c', 'd']);
    expect(await keys({ lte: enc('b') })).toEqual(['∅', 'a', 'b']);
    expect(await keys({ lt: enc('b') })).toEqual(['∅', 'a']);
    expect(await keys({ lt: enc('b'), reverse: true })).toEqual(['a', '∅']);
    expect(await keys({ gt: enc('b'), reverse: true })).toEqual(['d', 'c']);
    expect(await keys({ gt: enc('b'), gte: enc('b') })).toEqual(['c', 'd']); // tie: exclusive wins
    expect(await keys({ gt: enc('a'), gte: enc('c') })).toEqual(['c', 'd']); // larger lower bound wins
    expect(await keys({ lt: enc('d'), lte: enc('b') })).toEqual(['∅', 'a', 'b']);
    expect(await keys({ lt: enc('c'), lte: enc('c'), reverse: true })).toEqual(['b', 'a', '∅']);
    expect(await keys({ gte: new Uint8Array(0), lte: new Uint8Array(0) })).toEqual(['∅']);
    expect(await keys({ gt: new Uint8Array(0) })).toEqual(['a', 'b', 'c', 'd']);
    expect(await keys({ lt: new Uint8Array(0), reverse: true })).toEqual([]);
    expect(await keys({ gt: enc('c'), lt: enc('b') })).toEqual([]);
  });

  it('limit: 0 yields nothing without touching the data; -1, Infinity and undefined mean no limit', async () => {
    const data: [string, number, number, string][] = ['a', 'b', 'c'].map((k, i) => [k, i + 1, ValueKind.Put, k]);
    const zero = dbIter(data, { snapshotSeq: 9, limit: 0 });
    expect(zero.it.next()).toBe(false);
    expect(zero.child.moves).toBe(0);
    for (const limit of [-1, Infinity, undefined]) {
      expect(strings(await drain(dbIter(data, { snapshotSeq: 9, limit }).it, Infinity, true))).toEqual(['a=a', 'b=b', 'c=c']);
    }
    const two = dbIter(data, { snapshotSeq: 9, limit: 2, reverse: true }).it;
    expect(strings(await drain(two, Infinity, true))).toEqual(['c=c', 'b=b']);
    two.seek(enc('c')); // the count survives a seek
    expect(two.next()).toBe(false);
  });

  it('seek clamps to the bounds and repositions an exhausted iterator', async () => {
    const data: [string, number, number, string][] = ['a', 'b', 'c', 'd', 'e'].map((k, i) => [k, i + 1, ValueKind.Put, k]);
    const { it } = dbIter(data, { snapshotSeq: 9, gt: enc('a'), lte: enc('d') });
    expect(strings(await drain(it, Infinity, true))).toEqual(['b=b', 'c=c', 'd=d']);
    it.seek(enc('0')); // below the lower bound: starts at the bound
    expect(strings(await drain(it, 1, true))).toEqual(['b=b']);
    it.seek(enc('a')); // equal to an exclusive bound
    expect(strings(await drain(it, 1, true))).toEqual(['b=b']);
    it.seek(enc('cc'));
    expect(strings(await drain(it, Infinity, true))).toEqual(['d=d']);
    it.seek(enc('z')); // past the upper bound
    expect(await drain(it, Infinity, true)).toEqual([]);
    const { it: rev } = dbIter(data, { snapshotSeq: 9, reverse: true, lt: enc('e') });
    rev.seek(enc('zz'));
    expect(strings(await drain(rev, 1, true))).toEqual(['d=d']);
    const target = enc('c');
    rev.seek(target);
    target[0] = 0x7a; // the iterator copied the target
    expect(strings(await drain(rev, Infinity, true))).toEqual(['c=c', 'b=b', 'a=a']);
  });

  it('rejects kinds other than Put and Delete, and keys without a trailer, with ERR_INTERNAL (sticky)', async () => {
    const { it } = dbIter([['a', 1, ValueKind.Put, 'a'], ['b', 2, ValueKind.RangeDelete, 'x']], { snapshotSeq: 9 });
    expect(it.next()).toBe(true);
    let err: unknown;
    try {
      it.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).code).toBe('ERR_INTERNAL');
    expect(() => it.next()).toThrow(err as Error);
    it.seek(enc('a')); // no recovery from a broken stream
    expect(() => it.next()).toThrow(err as Error);

    const short = new DBIterator(new ArrayIterator([{ key: enc('abc'), value: enc('') }], { compare: compareBytes }), {
      snapshotSeq: 1,
      reverse: true,
    });
    expect(() => short.next()).toThrow(expect.objectContaining({ code: 'ERR_INTERNAL' }));
  });

  it('propagates an inner failure as a rejection and keeps failing', async () => {
    const { it, child } = dbIter([['a', 1, ValueKind.Put, 'a'], ['b', 2, ValueKind.Put, 'b']], { snapshotSeq: 9 }, 'async');
    expect(await it.next()).toBe(true);
    child.failNext = new Error('read failed');
    await expect(async () => it.next()).rejects.toThrow('read failed');
    await expect(async () => it.next()).rejects.toThrow('read failed');
    await settle(it.close());
    expect(child.closeCount).toBe(1);
    expect(it.close()).toBeUndefined();
    expect(child.closeCount).toBe(1);
  });

  it('reverse copies values correctly across large and small entries', async () => {
    const big = new Uint8Array(3 << 20).fill(7);
    const entries = sortEntries([
      { key: makeInternalKey(enc('a'), 1, ValueKind.Put), value: enc('small-a') },
      { key: makeInternalKey(enc('b'), 2, ValueKind.Put), value: big },
      { key: makeInternalKey(enc('b'), 3, ValueKind.Put), value: enc('newer-b') },
      { key: makeInternalKey(enc('c'), 4, ValueKind.Put), value: big },
    ]);
    const it = new DBIterator(new ArrayIterator(entries), { snapshotSeq: 9, reverse: true });
    const got = await drain(it, Infinity, true);
    expect(got.map(([k, v]) => [dec(k), v.length])).toEqual([['c', big.length], ['b', 7], ['a', 7]]);
    expect(got[0]![1].every((x) => x === 7)).toBe(true);
    expect(dec(got[1]![1])).toBe('newer-b');
  });

  it('works over a memtable child merged with a lazily opened level', async () => {
    // Level: keys k00..k29 at seq 1..30 in three tables; memtable: newer puts and deletes.
    const levelEntries = Array.from({ length: 30 }, (_, i) => ({
      key: makeInternalKey(enc(`k${String(i).padStart(2, '0')}`), i + 1, ValueKind.Put),
      value: enc(`old${i}`),
    }));
    const files = [0, 10, 20].map((s) => levelEntries.slice(s, s + 10));
    let opens = 0;
    const level = new ConcatIterator(
      files,
      compareInternalKeys,
      (f) => {
        opens++;
        return Promise.resolve(new ArrayIterator(f, { mode: 'async' }));
      },
      (f) => f[0]!.key,
      (f) => f[f.length - 1]!.key,
    );
    const mem = new ArrayIterator(
      sortEntries([
        { key: makeInternalKey(enc('k05'), 100, ValueKind.Delete), value: new Uint8Array(0) },
        { key: makeInternalKey(enc('k15'), 101, ValueKind.Put), value: enc('new15') },
        { key: makeInternalKey(enc('k25'), 102, ValueKind.Put), value: enc('new25') },
      ]),
    );
    const it = new DBIterator(new MergingIterator([mem, level], compareInternalKeys), {
      snapshotSeq: 101, gte: enc('k04'), lt: enc('k26'), reverse: true,
    });
    const got = strings(await drain(it, Infinity, false)).map((s) => s.replace(/^k(\d+)=/, '$1:'));
    expect(got[0]).toBe('25:old25'); // seq 102 is above the snapshot
    expect(got).toContain('15:new15');
    expect(got.some((s) => s.startsWith('05:'))).toBe(false);
    expect(got.length).toBe(21);
    expect(got[got.length - 1]).toBe('04:old4');
    expect(opens).toBe(3);
    await settle(it.close());
  });
});
