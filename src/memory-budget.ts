/**
 * The memoryBudget option: one figure in bytes that sizes the parts of the engine that grow with use
 * (README "Memory"). It is split by fixed shares, each option given explicitly winning over its share:
 * - write buffers, MEMORY_BUDGET_SHARES.writeBuffers: the memtables (maxWriteBufferNumber of them)
 *   plus the copy a flush worker reads (compaction/shared-buffer-pool.ts), so
 *   writeBufferSize = share / (maxWriteBufferNumber + 1). Writes wait for a flush once every memtable
 *   is full (the 'memtables-full' stall), which is what keeps them inside their share: RocksDB's
 *   WriteBufferManager with its memtables charged to the cache is the model;
 * - block cache, MEMORY_BUDGET_SHARES.cache: cacheSize;
 * - table metadata, MEMORY_BUDGET_SHARES.metadata: tableMetadataBudget, the index, filter and
 *   range-deletion blocks open table readers hold (src/cache/table-cache.ts closes readers past it).
 * Not in the budget: Node itself, the engine's code and the background workers' isolates (a fixed
 * overhead the README states with measured figures), and per-call buffers (iterators, a transaction's
 * own writes until commit).
 * Pure arithmetic; options.ts calls it once while validating.
 */

/** The shares of memoryBudget (they sum to 1). */
export const MEMORY_BUDGET_SHARES = Object.freeze({ writeBuffers: 0.5, cache: 0.3, metadata: 0.2 });

/** The smallest budget accepted: below it a write buffer would be too small to flush efficiently. */
export const MIN_MEMORY_BUDGET = 16 * 1024 * 1024;

export interface MemorySplit {
  writeBufferSize: number;
  cacheSize: number;
  tableMetadataBudget: number;
}

/**
 * The options a budget gives, for the parts not set explicitly (`given` holds the explicit ones).
 * Rounded down to whole KiB; writeBufferSize is at least 64 KiB.
 */
export function splitMemoryBudget(budget: number, maxWriteBufferNumber: number, given: Partial<MemorySplit>): MemorySplit {
  const kib = (n: number): number => Math.floor(n / 1024) * 1024;
  return {
    writeBufferSize: given.writeBufferSize ??
      Math.max(64 * 1024, kib((budget * MEMORY_BUDGET_SHARES.writeBuffers) / (maxWriteBufferNumber + 1))),
    cacheSize: given.cacheSize ?? kib(budget * MEMORY_BUDGET_SHARES.cache),
    tableMetadataBudget: given.tableMetadataBudget ?? kib(budget * MEMORY_BUDGET_SHARES.metadata),
  };
}
