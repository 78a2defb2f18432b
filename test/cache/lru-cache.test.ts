/**
 * LruCache: byte accounting, eviction order, hits and misses, per-table erase, capacity changes,
 * and a randomized comparison with a simple model.
 */
import { describe, expect, it } from 'vitest';
import { LRU_ENTRY_OVERHEAD_BYTES as O, LruCache } from '../../src/cache/lru-cache.js';
import { withSeed } from '../support/rng.js';

const v = (n: number): object => ({ n });

describe('LruCache', () => {
  it('charges value bytes plus the per-entry overhead and evicts the least recently used', () => {
    const c = new LruCache(3 * (100 + O));
    const id = c.newCacheId();
    c.insert(id, 0, v(0), 100);
    c.insert(id, 1, v(1), 100);
    c.insert(id, 2, v(2), 100);
    expect(c.usage).toBe(3 * (100 + O));
    expect(c.lookup(id, 0)).toEqual({ n: 0 }); // 0 becomes the most recent
    c.insert(id, 3, v(3), 100); // evicts 1
    expect(c.lookup(id, 1)).toBeUndefined();
    expect(c.lookup(id, 0)).toBeDefined();
    expect(c.lookup(id, 2)).toBeDefined();
    expect(c.lookup(id, 3)).toBeDefined();
    expect(c.entries).toBe(3);
    expect([c.hits, c.misses]).toEqual([4, 1]);
  });

  it('replaces an existing entry without double counting', () => {
    const c = new LruCache(10_000);
    const id = c.newCacheId();
    c.insert(id, 7, v(1), 100);
    c.insert(id, 7, v(2), 300);
    expect(c.usage).toBe(300 + O);
    expect(c.entries).toBe(1);
    expect(c.lookup(id, 7)).toEqual({ n: 2 });
  });

  it('declines a value larger than the whole capacity', () => {
    const c = new LruCache(1000);
    const id = c.newCacheId();
    c.insert(id, 0, v(0), 100);
    c.insert(id, 1, v(1), 1000);
    expect(c.lookup(id, 1)).toBeUndefined();
    expect(c.lookup(id, 0)).toBeDefined();
    const zero = new LruCache(0);
    zero.insert(zero.newCacheId(), 0, v(0), 1);
    expect(zero.usage).toBe(0);
  });

  it('keeps tables apart and erases one table at once', () => {
    const c = new LruCache(1 << 20);
    const a = c.newCacheId();
    const b = c.newCacheId();
    expect(a).not.toBe(b);
    for (let i = 0; i < 10; i++) { c.insert(a, i, v(i), 10); c.insert(b, i, v(100 + i), 20); }
    expect(c.lookup(a, 3)).toEqual({ n: 3 });
    expect(c.lookup(b, 3)).toEqual({ n: 103 });
    c.erase(a);
    expect(c.lookup(a, 3)).toBeUndefined();
    expect(c.usage).toBe(10 * (20 + O));
    c.erase(a);
    c.erase(12345);
    c.clear();
    expect([c.usage, c.entries]).toEqual([0, 0]);
  });

  it('shrinking the capacity evicts at once', () => {
    const c = new LruCache(1 << 20);
    const id = c.newCacheId();
    for (let i = 0; i < 100; i++) c.insert(id, i, v(i), 1000);
    c.setCapacity(10 * (1000 + O));
    expect(c.entries).toBe(10);
    expect(c.lookup(id, 99)).toBeDefined();
    expect(c.lookup(id, 89)).toBeUndefined();
    expect(() => c.setCapacity(-1)).toThrow(/capacity/);
    expect(() => new LruCache(Number.NaN)).toThrow(/capacity/);
  });

  it('matches a simple model under random operations', async () => {
    await withSeed('lru-model', (rng) => {
      const cap = 20 * (50 + O);
      const c = new LruCache(cap);
      const ids = [c.newCacheId(), c.newCacheId(), c.newCacheId()];
      // Model: array of [key, charge], most recent last.
      let model: Array<[string, number]> = [];
      const usage = (): number => model.reduce((n, [, ch]) => n + ch + O, 0);
      for (let step = 0; step < 5000; step++) {
        const id = rng.pick(ids);
        const off = rng.int(40);
        const key = `${id}:${off}`;
        const op = rng.int(10);
        if (op < 5) {
          const hit = c.lookup(id, off) !== undefined;
          const idx = model.findIndex(([k]) => k === key);
          expect(hit).toBe(idx >= 0);
          if (idx >= 0) model.push(model.splice(idx, 1)[0]!);
        } else if (op < 9) {
          const charge = rng.int(100);
          c.insert(id, off, v(step), charge);
          model = model.filter(([k]) => k !== key);
          model.push([key, charge]);
          while (usage() > cap) model.shift();
        } else {
          c.erase(id);
          model = model.filter(([k]) => !k.startsWith(`${id}:`));
        }
        expect(c.usage).toBe(usage());
        expect(c.entries).toBe(model.length);
        expect(c.usage).toBeLessThanOrEqual(cap);
      }
    });
  });
});
