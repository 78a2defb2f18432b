/**
 * stats().memory: what the engine holds, part by part, in bytes, beside the process's own figures
 * (README "Memory" says which parts the memoryBudget option bounds and what the fixed overhead is).
 * Choices:
 * - Table metadata: partitioned tables (the default) keep only their top-level index and range-deletion
 *   block with the reader (`tableReaders`); their index and filter partitions go through the block cache
 *   and are counted in `cache` (RocksDB's partitioned index and filters, top level pinned). Format-1
 *   tables keep their whole index and filter with the reader (cache_index_and_filter_blocks=false).
 *   Readers, L0 included, are bounded by maxOpenFiles and by tableMetadataBudget (table-cache.ts).
 * - Workers cannot be measured from the main thread on Node 20: each reports its heap after every job
 *   (compaction/worker-memory.ts), so a worker's figure is as of its last job.
 * - A transaction's write buffer lives in the caller's Transaction object until commit, when it joins
 *   `pendingWrites`; until then each open transaction reports its size (`transactionBuffers`).
 *   `transactions` is the engine's concurrency control: conflict tracking and the key lock table.
 * Cheap: every part is a running count or a short walk (stats() may be polled). Main thread only.
 */
import type { Engine } from './engine.js';

export interface MemoryStats {
  /** Active plus immutable memtables (bytes their arenas and indexes hold). */
  memtables: number;
  activeMemtable: number;
  immutableMemtables: number;
  /** Block cache usage: data blocks and partitioned tables' index and filter partitions, charged by the bytes they keep alive. */
  cache: number;
  /** What open table readers hold outside the cache (see the header). */
  tableReaders: number;
  /** Encoded writes queued for the next write group. */
  pendingWrites: number;
  /** Conflict tracking kept for open transactions (recent commits' keys and their hash table) and the key lock table. */
  transactions: number;
  /** Open transactions' write buffers (their op logs, hash indexes and sorted views), until commit or rollback. */
  transactionBuffers: number;
  /** Live compaction workers and the heap plus external memory they reported after their last job. */
  compactionWorkers: number;
  compactionWorkerBytes: number;
  /** The flush worker (0 or 1) and its reported heap. */
  flushWorkers: number;
  flushWorkerBytes: number;
  /** Shared memory kept for handing frozen memtables to the flush worker. */
  flushPool: number;
  /** The sum of every byte figure above. */
  total: number;
  /** process.memoryUsage() when stats() ran: the whole process (rss includes every thread). */
  process: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
}

export function buildMemoryStats(db: Engine): MemoryStats {
  const memtables = db.memtables.memoryUsage();
  const activeMemtable = db.memtables.mem.approximateMemoryUsage();
  const cache = db.blockCache?.usage ?? 0;
  const tableReaders = db.tables.memoryBytes();
  const pendingWrites = db.writes.queue.pendingBytes;
  const transactions = db.writes.tracker.bytes + db.transactionHost().locks.bytes;
  const transactionBuffers = db.writes.tracker.bufferBytes;
  const x = db.executor.memory();
  const p = process.memoryUsage();
  return {
    memtables, activeMemtable, immutableMemtables: memtables - activeMemtable, cache, tableReaders, pendingWrites, transactions,
    transactionBuffers, compactionWorkers: x.compactionWorkers, compactionWorkerBytes: x.compactionWorkerBytes,
    flushWorkers: x.flushWorkers, flushWorkerBytes: x.flushWorkerBytes, flushPool: x.flushPoolBytes,
    total: memtables + cache + tableReaders + pendingWrites + transactions + transactionBuffers + x.compactionWorkerBytes + x.flushWorkerBytes + x.flushPoolBytes,
    process: { rss: p.rss, heapTotal: p.heapTotal, heapUsed: p.heapUsed, external: p.external, arrayBuffers: p.arrayBuffers },
  };
}
