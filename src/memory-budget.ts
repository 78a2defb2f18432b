/**
 * The memoryBudget option: one figure in bytes for the engine's memory (README "Memory"). First a
 * working reserve is set aside, WORKING_RESERVE_BYTES or MAX_RESERVE_SHARE of the budget if less:
 * what the engine uses that no option sizes, i.e. the compaction worker's heap, isolate and buffers
 * (40-95 MiB measured), the main thread's short-lived garbage between
 * collections (its young generation, up to 48 MiB) and the allocator's slack. It does not scale with
 * the budget, so it is an amount, not a share. Measured on Node 20 at a 256 MiB budget (peak RSS less
 * baseline less the engine's split): ~145 MiB at 5M keys, 199-229 MiB at 20M keys (README "Memory").
 * The rest is split by fixed shares, each option given explicitly winning over its share:
 * - write buffers, MEMORY_BUDGET_SHARES.writeBuffers: the memtables (maxWriteBufferNumber of them),
 *   plus, when flushInWorker is set explicitly, the copy a flush worker reads
 *   (compaction/shared-buffer-pool.ts), so writeBufferSize = share / (maxWriteBufferNumber [+ 1]).
 *   A budget turns flushInWorker off unless it is given: measured, the flush worker's copy, isolate
 *   and allocator arena cost ~60 MiB of RSS at a 256 MiB budget, for CPU the main thread spends in
 *   1 ms slices instead. Writes wait for a flush once every memtable
 *   is full (the 'memtables-full' stall), which is what keeps them inside their share: RocksDB's
 *   WriteBufferManager with its memtables charged to the cache is the model;
 * - block cache, MEMORY_BUDGET_SHARES.cache: cacheSize;
 * - table metadata, MEMORY_BUDGET_SHARES.metadata: tableMetadataBudget, the index, filter and
 *   range-deletion blocks open table readers hold (src/cache/table-cache.ts closes readers past it).
 * Not in the budget: Node itself with the engine's code loaded (the process's baseline, which the
 * README states with measured figures), and per-call buffers the caller controls (iterators, a
 * transaction's own writes until commit, which stats().memory.transactionBuffers counts).
 * Pure arithmetic; options.ts calls it once while validating.
 */

/** Set aside from the budget before it is split (at most MAX_RESERVE_SHARE of it): see the header. */
export const WORKING_RESERVE_BYTES = 208 * 1024 * 1024;
export const MAX_RESERVE_SHARE = 0.8;

/** The shares of what the reserve leaves (they sum to 1). */
export const MEMORY_BUDGET_SHARES = Object.freeze({ writeBuffers: 0.5, cache: 0.3, metadata: 0.2 });

/** The smallest budget accepted: below it a write buffer would be too small to flush efficiently. */
export const MIN_MEMORY_BUDGET = 16 * 1024 * 1024;

export interface MemorySplit {
  writeBufferSize: number;
  cacheSize: number;
  tableMetadataBudget: number;
}

/**
 * The options a budget gives, for the parts not set explicitly (`given` holds the explicit ones);
 * `writeBuffers`: how many write buffers the share holds at once (memtables, and a flush's copy).
 * Rounded down to whole KiB; writeBufferSize is at least 64 KiB.
 */
export function splitMemoryBudget(budget: number, writeBuffers: number, given: Partial<MemorySplit>): MemorySplit {
  const kib = (n: number): number => Math.floor(n / 1024) * 1024;
  budget -= Math.min(WORKING_RESERVE_BYTES, budget * MAX_RESERVE_SHARE);
  return {
    writeBufferSize: given.writeBufferSize ??
      Math.max(64 * 1024, kib((budget * MEMORY_BUDGET_SHARES.writeBuffers) / writeBuffers)),
    cacheSize: given.cacheSize ?? kib(budget * MEMORY_BUDGET_SHARES.cache),
    tableMetadataBudget: given.tableMetadataBudget ?? kib(budget * MEMORY_BUDGET_SHARES.metadata),
  };
}
