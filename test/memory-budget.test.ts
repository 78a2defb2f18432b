/**
 * memoryBudget (src/memory-budget.ts, options.ts): the working reserve comes off first (at most its
 * share of a small budget), the rest splits 50/30/20 into write buffers, cache and table metadata; options given explicitly win; the
 * budget turns flushInWorker off unless it is given (and a flush worker's copy then counts as one
 * more write buffer); out-of-range budgets are refused and change nothing.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, StrataError } from '../src/index.js';
import { DEFAULT_OPTIONS, validateOptions } from '../src/options.js';
import { MAX_RESERVE_SHARE, MEMORY_BUDGET_SHARES, MIN_MEMORY_BUDGET, WORKING_RESERVE_BYTES, splitMemoryBudget } from '../src/memory-budget.js';

const MiB = 1 << 20;
/** What the working reserve leaves of a budget, and a byte count rounded down to whole KiB as the split does. */
const rest = (budget: number): number => budget - Math.min(WORKING_RESERVE_BYTES, budget * MAX_RESERVE_SHARE);
const kib = (n: number): number => Math.floor(n / 1024) * 1024;

describe('memoryBudget', () => {
  it('shares sum to 1', () => {
    const s = MEMORY_BUDGET_SHARES;
    expect(s.writeBuffers + s.cache + s.metadata).toBeCloseTo(1, 12);
  });

  it('256 MiB: the reserve first, then half the rest in two memtables, 30% cache, 20% metadata', () => {
    const o = validateOptions({ memoryBudget: 256 * MiB });
    expect(o.flushInWorker).toBe(false);
    // At 256 MiB the reserve is capped by its share of the budget; at 512 MiB it is the fixed amount.
    expect(rest(256 * MiB)).toBeCloseTo(256 * MiB * (1 - MAX_RESERVE_SHARE), 0);
    expect(rest(512 * MiB)).toBe(512 * MiB - WORKING_RESERVE_BYTES);
    expect(o.writeBufferSize).toBe(kib(rest(256 * MiB) * 0.5 / 2));
    expect(o.cacheSize).toBe(kib(rest(256 * MiB) * 0.3));
    expect(o.tableMetadataBudget).toBe(kib(rest(256 * MiB) * 0.2));
    const engineShare = o.writeBufferSize * o.maxWriteBufferNumber + o.cacheSize + o.tableMetadataBudget;
    expect(engineShare).toBeLessThanOrEqual(rest(256 * MiB));
    expect(engineShare).toBeGreaterThan(rest(256 * MiB) - 4 * 1024);
  });

  it('a small budget: the reserve takes at most its share, the rest is still split', () => {
    const s = splitMemoryBudget(MIN_MEMORY_BUDGET, 2, {});
    const left = MIN_MEMORY_BUDGET * (1 - MAX_RESERVE_SHARE);
    expect(s.writeBufferSize).toBe(kib(left * 0.5 / 2));
    expect(s.cacheSize + s.tableMetadataBudget + 2 * s.writeBufferSize).toBeLessThanOrEqual(left);
  });

  it('explicit options win over their share; the others still come from the budget', () => {
    const o = validateOptions({ memoryBudget: 1024 * MiB, cacheSize: 8 * MiB, maxWriteBufferNumber: 4 });
    expect(o.cacheSize).toBe(8 * MiB);
    expect(o.writeBufferSize).toBe(kib(rest(1024 * MiB) * 0.5 / 4));
    expect(o.tableMetadataBudget).toBe(kib(rest(1024 * MiB) * 0.2));
    const w = validateOptions({ memoryBudget: 1024 * MiB, writeBufferSize: 1 * MiB, tableMetadataBudget: 2 * MiB });
    expect([w.writeBufferSize, w.tableMetadataBudget]).toEqual([1 * MiB, 2 * MiB]);
  });

  it('flushInWorker given explicitly stays, and its copy counts as one more write buffer', () => {
    const o = validateOptions({ memoryBudget: 384 * MiB, flushInWorker: true });
    expect(o.flushInWorker).toBe(true);
    expect(o.writeBufferSize).toBe(kib(rest(384 * MiB) * 0.5 / 3));
  });

  it('off (0, the default) changes no default', () => {
    const o = validateOptions({});
    expect(o.memoryBudget).toBe(0);
    expect(o.writeBufferSize).toBe(DEFAULT_OPTIONS.writeBufferSize);
    expect(o.cacheSize).toBe(DEFAULT_OPTIONS.cacheSize);
    expect(o.tableMetadataBudget).toBe(0);
    expect(o.flushInWorker).toBe(true);
  });

  it('refuses a budget below the minimum, a non-integer, a negative one, and a non-boolean flushInWorker', async () => {
    for (const bad of [{ memoryBudget: 1 }, { memoryBudget: MIN_MEMORY_BUDGET - 1 }, { memoryBudget: 1.5 * MiB + 0.5 },
      { memoryBudget: -1 }, { tableMetadataBudget: -5 }, { flushInWorker: 'yes' }]) {
      let err: unknown;
      try { validateOptions(bad as never); } catch (e) { err = e; }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(StrataError);
      expect((err as StrataError).code).toBe('ERR_INVALID_ARGUMENT');
      expect((err as Error).message).toContain(Object.keys(bad)[0]!);
    }
    // ... and DB.open creates nothing.
    const fs = new MemFileSystem();
    await expect(DB.open('/db', { fs, memoryBudget: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(await fs.exists('/db')).toBe(false);
  });
});
