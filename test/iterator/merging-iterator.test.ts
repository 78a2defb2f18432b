import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { compareInternalKeys, makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { MergingIterator } from '../../src/iterator/merging-iterator.js';
import { ArrayIterator, type ArrayIteratorMode, type Entry } from '../support/array-iterator.js';
import { checkCursorOps, cursorOpsArb, settle, toEntries, versionArb } from '../support/cursor-model.js';
import { makeRng, testSeed } from '../support/rng.js';

const seed = testSeed();
const modeArb = fc.constantFrom<ArrayIteratorMode>('sync', 'async', 'mixed');

/** Splits sorted entries across `modes.length` children by the given assignment. */
function split(entries: readonly Entry[], assign: readonly number[], modes: readonly ArrayIteratorMode[], rngSeed: number) {
  const parts: Entry[][] = modes.map(() => []);
  entries.forEach((e, i) => parts[(assign[i] ?? 0) % modes.length]!.push(e));
  const rng = makeRng(rngSeed);
  return parts.map((p, i) => new ArrayIterator(p, { mode: modes[i]!, rng }));
}

const ik = (s: string, seq: number): Uint8Array => makeInternalKey(new TextEncoder().encode(s), seq, ValueKind.Put);
const entry = (s: string, seq: number, v = s): Entry => ({ key: ik(s, seq), value: new TextEncoder().encode(v) });

describe('MergingIterator', () => {
  it('matches a sorted-array model under random cursor operations and direction switches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(versionArb, { maxLength: 50 }),
        fc.array(modeArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 50 }),
        cursorOpsArb(50),
        fc.nat(),
        async (versions, modes, assign, ops, rngSeed) => {
          const entries = toEntries(versions);
          const children = split(entries, assign, modes, rngSeed);
          const merged = new MergingIterator(children, compareInternalKeys);
          const allSync = modes.every((m) => m === 'sync');
          await checkCursorOps(merged, entries, ops, allSync);
          await settle(merged.close());
          expect(children.every((c) => c.closeCount === 1)).toBe(true);
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it('walks forward and backward over every entry, switching direction at each step pair', async () => {
    const entries = Array.from({ length: 40 }, (_, i) => entry(`k${String(i).padStart(2, '0')}`, i + 1));
    for (const mode of ['sync', 'async'] as const) {
      const children = split(entries, entries.map((_, i) => i * 7), [mode, mode, 'sync'], 1);
      const m = new MergingIterator(children, compareInternalKeys);
      await settle(m.seekToFirst());
      // next, next, prev: net +1 each round, and every prev is a direction switch.
      for (let i = 0; i < entries.length - 2; i++) {
        await settle(m.next());
        await settle(m.next());
        await settle(m.prev());
        expect(m.valid()).toBe(true);
        expect(m.key()).toEqual(entries[i + 1]!.key);
      }
      await settle(m.next());
      expect(m.key()).toEqual(entries[entries.length - 1]!.key);
      await settle(m.next());
      expect(m.valid()).toBe(false);
    }
  });

  it('with no children or only empty children is never valid', async () => {
    for (const children of [[], [new ArrayIterator([]), new ArrayIterator([], { mode: 'async' })]]) {
      const m = new MergingIterator(children, compareInternalKeys);
      await settle(m.seekToFirst());
      expect(m.valid()).toBe(false);
      await settle(m.seekToLast());
      expect(m.valid()).toBe(false);
      await settle(m.seek(ik('a', 1)));
      expect(m.valid()).toBe(false);
      await settle(m.seekForPrev(ik('a', 1)));
      expect(m.valid()).toBe(false);
    }
  });

  it('does not loop on duplicate keys across children and yields every copy in one direction', async () => {
    const data = [entry('a', 1), entry('b', 2), entry('c', 3)];
    const children = [new ArrayIterator(data), new ArrayIterator(data, { mode: 'async' }), new ArrayIterator(data)];
    const m = new MergingIterator(children, (a, b) => compareBytes(a, b));
    const seen: string[] = [];
    await settle(m.seekToFirst());
    while (m.valid()) {
      seen.push(new TextDecoder().decode(m.value()));
      await settle(m.next());
    }
    expect(seen).toEqual(['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c']);
    seen.length = 0;
    await settle(m.seekToLast());
    while (m.valid()) {
      seen.push(new TextDecoder().decode(m.value()));
      await settle(m.prev());
    }
    expect(seen).toEqual(['c', 'c', 'c', 'b', 'b', 'b', 'a', 'a', 'a']);
    // Zig-zag across duplicates: terminates, stays sorted in each run.
    await settle(m.seekToFirst());
    let steps = 0;
    while (m.valid() && steps < 100) {
      const before = m.key().slice();
      const forward = steps % 3 !== 2;
      await settle(forward ? m.next() : m.prev());
      if (m.valid()) expect(Math.sign(compareBytes(m.key(), before)) * (forward ? 1 : -1)).toBeGreaterThanOrEqual(0);
      steps++;
    }
    expect(steps).toBeLessThan(100);
  });

  it('breaks ties between equal keys by child index, in both directions', async () => {
    const children = ['x', 'y', 'z'].map((v) => new ArrayIterator([entry('k', 1, v)]));
    const m = new MergingIterator(children, compareInternalKeys);
    const seen: string[] = [];
    await settle(m.seekToFirst());
    for (; m.valid(); await settle(m.next())) seen.push(new TextDecoder().decode(m.value()));
    await settle(m.seekToLast());
    for (; m.valid(); await settle(m.prev())) seen.push(new TextDecoder().decode(m.value()));
    expect(seen).toEqual(['x', 'y', 'z', 'x', 'y', 'z']);
  });

  it('answers synchronously when every child does', () => {
    const children = [new ArrayIterator([entry('a', 1), entry('c', 3)]), new ArrayIterator([entry('b', 2)])];
    const m = new MergingIterator(children, compareInternalKeys);
    expect(m.seekToFirst()).toBeUndefined();
    expect(m.next()).toBeUndefined();
    expect(m.prev()).toBeUndefined(); // a direction switch, still synchronous
    expect(m.seekForPrev(ik('b', 0))).toBeUndefined();
    expect(m.close()).toBeUndefined();
  });

  it('propagates a child failure from a movement, sync and async', async () => {
    for (const mode of ['sync', 'async'] as const) {
      const bad = new ArrayIterator([entry('a', 1), entry('b', 2)], { mode });
      const m = new MergingIterator([new ArrayIterator([entry('c', 3)]), bad], compareInternalKeys);
      await settle(m.seekToFirst());
      bad.failNext = new Error('disk on fire');
      await expect(async () => settle(m.next())).rejects.toThrow('disk on fire');
      // A seek recovers.
      await settle(m.seekToLast());
      expect(m.key()).toEqual(ik('c', 3));
    }
  });

  it('close() closes every child once, even when one fails, and is idempotent', async () => {
    const a = new ArrayIterator([entry('a', 1)]);
    const b = new ArrayIterator([entry('b', 2)]);
    b.close = () => {
      b.closeCount++;
      throw new Error('close failed');
    };
    const c = new ArrayIterator([entry('c', 3)]);
    const m = new MergingIterator([a, b, c], compareInternalKeys);
    expect(() => m.close()).toThrow('close failed');
    expect([a.closeCount, b.closeCount, c.closeCount]).toEqual([1, 1, 1]);
    expect(m.close()).toBeUndefined();
    expect([a.closeCount, b.closeCount, c.closeCount]).toEqual([1, 1, 1]);
    expect(m.valid()).toBe(false);

    const slow = new ArrayIterator([]);
    slow.close = () => {
      slow.closeCount++;
      return Promise.reject(new Error('async close failed'));
    };
    const d = new ArrayIterator([]);
    const m2 = new MergingIterator([slow, d], compareInternalKeys);
    await expect(async () => settle(m2.close())).rejects.toThrow('async close failed');
    expect([slow.closeCount, d.closeCount]).toEqual([1, 1]);
  });
});
