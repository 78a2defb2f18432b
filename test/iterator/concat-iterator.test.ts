import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InternalIterator, MaybePromise } from '../../src/base/internal-iterator.js';
import { compareInternalKeys, makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { ConcatIterator } from '../../src/iterator/concat-iterator.js';
import { ArrayIterator, type ArrayIteratorMode, type Entry } from '../support/array-iterator.js';
import { checkCursorOps, cursorOpsArb, seekTargetArb, settle, toEntries, versionArb } from '../support/cursor-model.js';
import { makeRng, testSeed } from '../support/rng.js';

const seed = testSeed();

interface TableFile {
  id: number;
  entries: Entry[];
  smallest: Uint8Array;
  largest: Uint8Array;
}

/** A level: files, an opener that counts opens and tracks how many iterators are open at once. */
class Level {
  opens = 0;
  openNow = 0;
  maxOpenAtOnce = 0;
  readonly opened: ArrayIterator[] = [];
  constructor(
    readonly files: TableFile[],
    private readonly mode: ArrayIteratorMode = 'sync',
    private readonly isOpenAsync = false,
    private readonly rngSeed = 1,
  ) {}

  iterator(): ConcatIterator<TableFile> {
    return new ConcatIterator(
      this.files,
      compareInternalKeys,
      (f) => this.open(f),
      (f) => f.smallest,
      (f) => f.largest,
    );
  }

  private open(f: TableFile): MaybePromise<InternalIterator> {
    const it = new ArrayIterator(f.entries, { mode: this.mode, rng: makeRng(this.rngSeed + f.id) });
    const close = it.close.bind(it);
    it.close = () => {
      this.openNow--;
      return close();
    };
    this.opens++;
    this.openNow++;
    this.maxOpenAtOnce = Math.max(this.maxOpenAtOnce, this.openNow);
    this.opened.push(it);
    return this.isOpenAsync ? Promise.resolve(it) : it;
  }
}

/** Cuts sorted entries into consecutive non-empty files at the given cut points. */
function cutFiles(entries: Entry[], cuts: readonly number[]): TableFile[] {
  const points = [...new Set(cuts.map((c) => c % Math.max(1, entries.length)))].filter((c) => c > 0).sort((a, b) => a - b);
  const bounds = [0, ...points, entries.length];
  const files: TableFile[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const part = entries.slice(bounds[i], bounds[i + 1]);
    if (part.length === 0) continue;
    files.push({ id: i, entries: part, smallest: part[0]!.key, largest: part[part.length - 1]!.key });
  }
  return files;
}

const ik = (s: string, seq: number): Uint8Array => makeInternalKey(new TextEncoder().encode(s), seq, ValueKind.Put);
const entry = (s: string, seq: number): Entry => ({ key: ik(s, seq), value: new TextEncoder().encode(s) });

describe('ConcatIterator', () => {
  it('matches a sorted-array model under random cursor operations, one table open at a time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(versionArb, { maxLength: 50 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom<ArrayIteratorMode>('sync', 'async', 'mixed'),
        fc.boolean(),
        cursorOpsArb(50),
        fc.nat(),
        async (versions, cuts, mode, isOpenAsync, ops, rngSeed) => {
          const entries = toEntries(versions);
          const level = new Level(cutFiles(entries, cuts), mode, isOpenAsync, rngSeed);
          const it = level.iterator();
          await checkCursorOps(it, entries, ops, mode === 'sync' && !isOpenAsync);
          expect(level.maxOpenAtOnce).toBeLessThanOrEqual(1);
          await settle(it.close());
          expect(level.openNow).toBe(0);
          expect(level.opened.every((o) => o.closeCount === 1)).toBe(true);
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it('seek and seekForPrev open exactly the one table that can hold the answer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(versionArb, { minLength: 1, maxLength: 50 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        seekTargetArb(50),
        fc.boolean(),
        async (versions, cuts, target, isOpenAsync) => {
          const entries = toEntries(versions);
          const files = cutFiles(entries, cuts);
          const inRange = (k: Uint8Array) => compareInternalKeys(k, files[files.length - 1]!.largest) <= 0;
          const level = new Level(files, 'sync', isOpenAsync);
          const it = level.iterator();
          await settle(it.seek(target));
          expect(level.opens).toBe(inRange(target) ? 1 : 0);
          expect(it.valid()).toBe(inRange(target));

          const level2 = new Level(files, 'sync', isOpenAsync);
          const it2 = level2.iterator();
          await settle(it2.seekForPrev(target));
          const isAfterFirst = compareInternalKeys(target, files[0]!.smallest) >= 0;
          expect(level2.opens).toBe(isAfterFirst ? 1 : 0);
          expect(it2.valid()).toBe(isAfterFirst);
        },
      ),
      { seed, numRuns: 200 },
    );
  });

  it('opens tables lazily while walking and never reopens the current one', async () => {
    const files: TableFile[] = [0, 1, 2, 3].map((f) => {
      const entries = [0, 1, 2].map((j) => entry(`k${f}${j}`, 100 - (f * 3 + j)));
      return { id: f, entries, smallest: entries[0]!.key, largest: entries[2]!.key };
    });
    const level = new Level(files, 'async', true);
    const it = level.iterator();
    await settle(it.seekToFirst());
    expect(level.opens).toBe(1);
    for (let i = 0; i < 5; i++) await settle(it.next()); // into the second file
    expect(level.opens).toBe(2);
    await settle(it.seek(ik('k10', 100))); // same file: no new open
    expect(level.opens).toBe(2);
    await settle(it.prev()); // back into file 0
    expect(it.key()).toEqual(files[0]!.entries[2]!.key);
    expect(level.opens).toBe(3);
    await settle(it.seekToLast());
    let n = 0;
    while (it.valid()) {
      n++;
      await settle(it.prev());
    }
    expect(n).toBe(12);
    expect(level.openNow).toBe(0); // walking off the start released the last table
  });

  it('skips empty tables in both directions', async () => {
    const a = [entry('a', 9), entry('b', 8)];
    const c = [entry('e', 5), entry('f', 4)];
    const files: TableFile[] = [
      { id: 0, entries: a, smallest: a[0]!.key, largest: a[1]!.key },
      { id: 1, entries: [], smallest: ik('c', 7), largest: ik('d', 6) },
      { id: 2, entries: [], smallest: ik('d', 5), largest: ik('d', 4) },
      { id: 3, entries: c, smallest: c[0]!.key, largest: c[1]!.key },
    ];
    const it = new Level(files).iterator();
    const seen: Uint8Array[] = [];
    await settle(it.seekToFirst());
    while (it.valid()) {
      seen.push(it.key().slice());
      await settle(it.next());
    }
    expect(seen).toEqual([...a, ...c].map((e) => e.key));
    await settle(it.seek(ik('c', 7))); // lands in an empty table, moves on to the next
    expect(it.key()).toEqual(c[0]!.key);
    await settle(it.seekForPrev(ik('d', 4)));
    expect(it.key()).toEqual(a[1]!.key);
    await settle(it.prev());
    expect(it.key()).toEqual(a[0]!.key);
  });

  it('an empty level is never valid and opens nothing', async () => {
    const level = new Level([]);
    const it = level.iterator();
    for (const move of [() => it.seekToFirst(), () => it.seekToLast(), () => it.seek(ik('a', 1)), () => it.seekForPrev(ik('a', 1))]) {
      await settle(move());
      expect(it.valid()).toBe(false);
    }
    expect(level.opens).toBe(0);
    expect(it.close()).toBeUndefined();
  });

  it('closes a table whose open was still in flight when close() was called', async () => {
    const files = cutFiles([entry('a', 2), entry('b', 1)], []);
    let release: (it: InternalIterator) => void = () => {};
    const it = new ConcatIterator(
      files,
      compareInternalKeys,
      () => new Promise<InternalIterator>((resolve) => { release = resolve; }),
      (f) => f.smallest,
      (f) => f.largest,
    );
    const moving = it.seekToFirst();
    expect(it.close()).toBeUndefined();
    const late = new ArrayIterator(files[0]!.entries);
    release(late);
    await settle(moving);
    expect(late.closeCount).toBe(1);
    expect(it.valid()).toBe(false);
  });

  it('closes a table whose open for a seek was still in flight when close() was called', async () => {
    const files = cutFiles([entry('a', 2), entry('b', 1)], []);
    let release: (it: InternalIterator) => void = () => {};
    const it = new ConcatIterator(
      files,
      compareInternalKeys,
      () => new Promise<InternalIterator>((resolve) => { release = resolve; }),
      (f) => f.smallest,
      (f) => f.largest,
    );
    const moving = it.seek(ik('b', 9));
    expect(it.close()).toBeUndefined();
    const late = new ArrayIterator(files[0]!.entries);
    release(late);
    await settle(moving);
    expect(late.closeCount).toBe(1);
    expect(it.valid()).toBe(false);
  });

  it('a seek whose open fails leaves the level not valid, and the next seek opens again', async () => {
    const files = cutFiles([entry('a', 3), entry('b', 2), entry('c', 1)], [1, 2]);
    let isBroken = true;
    let opens = 0;
    const it = new ConcatIterator(
      files,
      compareInternalKeys,
      (f) => {
        opens++;
        if (isBroken) return Promise.reject(new Error('cannot open table'));
        return new ArrayIterator(f.entries);
      },
      (f) => f.smallest,
      (f) => f.largest,
    );
    await expect(async () => settle(it.seek(ik('b', 9)))).rejects.toThrow('cannot open table');
    expect(it.valid()).toBe(false);
    isBroken = false;
    await settle(it.seek(ik('b', 9)));
    expect(it.key()).toEqual(ik('b', 2));
    expect(opens).toBe(2);
  });

  it('propagates a failing open and recovers on the next seek', async () => {
    const files = cutFiles([entry('a', 3), entry('b', 2), entry('c', 1)], [1, 2]);
    let isBroken = true;
    const it = new ConcatIterator(
      files,
      compareInternalKeys,
      (f) => {
        if (f.id === 1 && isBroken) return Promise.reject(new Error('cannot open table'));
        return new ArrayIterator(f.entries);
      },
      (f) => f.smallest,
      (f) => f.largest,
    );
    await settle(it.seekToFirst());
    await expect(async () => settle(it.next())).rejects.toThrow('cannot open table');
    expect(it.valid()).toBe(false);
    isBroken = false;
    await settle(it.seek(ik('b', 9)));
    expect(it.key()).toEqual(ik('b', 2));
  });
});
