/**
 * LruCache (CLOCK eviction): byte accounting, eviction order (a hit sets a bit and moves nothing;
 * eviction prefers entries not hit since it last passed), hits and misses, per-table erase,
 * capacity changes, and randomized comparisons with a simple model (seeded, and fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LRU_ENTRY_OVERHEAD_BYTES as O, LruCache } from '../../src/cache/lru-cache.js';
import { withSeed } from '../support/rng.js';

const v = (n: number): object => ({ n });

describe('LruCache', () => {
  it('charges value bytes plus the per-entry overhead and evicts an entry not hit', () => {
    const c = new LruCache(3 * (100 + O));
    const id = c.newCacheId();
    c.insert(id, 0, v(0), 100);
    c.insert(id, 1, v(1), 100);
    c.insert(id, 2, v(2), 100);
    expect(c.usage).toBe(3 * (100 + O));
    expect(c.lookup(id, 0)).toEqual({ n: 0 }); // 0 gets its reference bit
    c.insert(id, 3, v(3), 100); // 0 has a second chance, 1 goes
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

  it('prefers entries not hit since eviction last passed, where LRU would not', () => {
    const c = new LruCache(3 * (10 + O));
    const id = c.newCacheId();
    for (const off of [0, 1, 2]) c.insert(id, off, v(off), 10);
    expect(c.lookup(id, 1)).toBeDefined();
    expect(c.lookup(id, 0)).toBeDefined();
    c.insert(id, 3, v(3), 10); // 2 (not hit) goes; order oldest first is still 0, 1, 3
    expect(c.lookup(id, 2)).toBeUndefined();
    // Least-recently-used would now evict 1; CLOCK clears 0's and 1's bits and takes 3, never hit.
    c.insert(id, 4, v(4), 10);
    expect(c.lookup(id, 3)).toBeUndefined();
    expect(c.lookup(id, 0)).toBeDefined();
    expect(c.lookup(id, 1)).toBeDefined();
    expect(c.lookup(id, 4)).toBeDefined();
    expect(c.usage).toBe(3 * (10 + O));
  });

  it('a hit moves nothing: a full pass of hits leaves insertion order as the eviction order', () => {
    const c = new LruCache(4 * (10 + O));
    const id = c.newCacheId();
    for (let off = 0; off < 4; off++) c.insert(id, off, v(off), 10);
    for (const off of [3, 2, 1, 0]) c.lookup(id, off); // all referenced; LRU order would be 3 oldest
    c.insert(id, 4, v(4), 10); // every bit cleared in insertion order (4, the newcomer, passed over), then 0 goes
    expect([0, 1, 2, 3, 4].map((off) => c.lookup(id, off) !== undefined)).toEqual([false, true, true, true, true]);
  });

  it('matches a simple model under random operations', async () => {
    await withSeed('clock-model', (rng) => {
      const cap = 20 * (50 + O);
      const c = new LruCache(cap);
      const ids = [c.newCacheId(), c.newCacheId(), c.newCacheId()];
      const model = new ClockModel(cap);
      for (let step = 0; step < 5000; step++) {
        const id = rng.pick(ids);
        const off = rng.int(40);
        const op = rng.int(10);
        if (op < 5) expect(c.lookup(id, off) !== undefined).toBe(model.lookup(id, off));
        else if (op < 9) {
          const charge = rng.int(100);
          c.insert(id, off, v(step), charge);
          model.insert(id, off, charge);
        } else {
          c.erase(id);
          model.erase(id);
        }
        expect(c.usage).toBe(model.usage());
        expect(c.entries).toBe(model.entries.length);
        expect(c.usage).toBeLessThanOrEqual(cap);
      }
    });
  });

  it('matches the model for any sequence of operations (fast-check)', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('lookup' as const), id: fc.nat(2), off: fc.nat(15) }),
      fc.record({ t: fc.constant('insert' as const), id: fc.nat(2), off: fc.nat(15), charge: fc.nat(300) }),
      fc.record({ t: fc.constant('erase' as const), id: fc.nat(2) }),
      fc.record({ t: fc.constant('capacity' as const), entries: fc.nat(12) }),
    );
    fc.assert(fc.property(fc.array(op, { minLength: 20, maxLength: 200 }), (ops) => {
      const cap0 = 6 * (100 + O);
      const c = new LruCache(cap0);
      const ids = [c.newCacheId(), c.newCacheId(), c.newCacheId()];
      const model = new ClockModel(cap0);
      for (const o of ops) {
        if (o.t === 'lookup') expect(c.lookup(ids[o.id]!, o.off) !== undefined).toBe(model.lookup(ids[o.id]!, o.off));
        else if (o.t === 'insert') { c.insert(ids[o.id]!, o.off, v(0), o.charge); model.insert(ids[o.id]!, o.off, o.charge); }
        else if (o.t === 'erase') { c.erase(ids[o.id]!); model.erase(ids[o.id]!); }
        else { c.setCapacity(o.entries * (100 + O)); model.setCapacity(o.entries * (100 + O)); }
        expect(c.usage).toBe(model.usage());
        expect(c.entries).toBe(model.entries.length);
        expect(c.usage).toBeLessThanOrEqual(c.capacity);
      }
    }), { numRuns: 300 });
  });
});

/** CLOCK, the slow obvious way: an array oldest first, a bit per entry. */
class ClockModel {
  entries: Array<{ key: string; charge: number; ref: boolean }> = [];
  constructor(private cap: number) {}
  usage(): number { return this.entries.reduce((n, e) => n + e.charge + O, 0); }
  lookup(id: number, off: number): boolean {
    const e = this.entries.find((x) => x.key === `${id}:${off}`);
    if (e) e.ref = true;
    return e !== undefined;
  }
  insert(id: number, off: number, charge: number): void {
    const key = `${id}:${off}`;
    this.entries = this.entries.filter((x) => x.key !== key);
    if (charge + O > this.cap) return;
    const e = { key, charge, ref: false };
    this.entries.push(e);
    this.evict(e);
  }
  erase(id: number): void { this.entries = this.entries.filter((x) => !x.key.startsWith(`${id}:`)); }
  setCapacity(cap: number): void { this.cap = cap; this.evict(); }
  private evict(newcomer?: { ref: boolean }): void {
    while (this.usage() > this.cap && this.entries.length > 0) {
      const e = this.entries.shift()!;
      if (e.ref || e === newcomer) { e.ref = false; this.entries.push(e); }
    }
  }
}
