/**
 * The memory of the background worker pool (executor.ts), in one place: the heap limits a worker is
 * started with, how long an idle worker is kept, and what the pool reports to stats().memory.
 * Why limits: a worker left at V8's defaults grows its heap to whatever its garbage allows before a
 * major GC (young generation up to 48 MiB on 64-bit, old generation up to a quarter of the
 * machine's memory or more), and each worker is a whole isolate of its own, so three workers added
 * ~250-320 MiB of RSS to a 6,000,000-put load (README "Memory"). What a job really keeps alive is
 * small and bounded: the input tables' index and filter blocks, one data block per input, the output
 * table's index and filter under construction and its pending compressions (a few MiB per 64 MiB
 * table); a flush reads its memtable from shared memory, not from its heap. The limits leave that
 * room several times over: a worker that ran out of heap would fail its job (retried, then sticky).
 * Why idle exit: a worker's isolate keeps its heap pages, and V8 gives them back only after GCs the
 * idle worker never runs; ending a worker that had no job for WORKER_IDLE_MS returns all of it, at
 * the cost of a ~55 ms start when work comes back (DESIGN.md).
 * Safe anywhere (plain data and arithmetic).
 */

/** A worker's heap as it reported it after its last job (v8.getHeapStatistics() in the worker). */
export interface WorkerHeap {
  heapTotal: number;
  heapUsed: number;
  /** Off-heap memory its objects keep alive (ArrayBuffers, native buffers). */
  external: number;
}

/** What the pool holds, for stats().memory: bytes unless named otherwise. */
export interface ExecutorMemory {
  compactionWorkers: number;
  /** Heap (total) plus external memory last reported by each live compaction worker. */
  compactionWorkerBytes: number;
  flushWorkers: number;
  /** Heap only: its external memory is the shared memtable copy, already in flushPoolBytes. */
  flushWorkerBytes: number;
  /** Shared memory kept for handing memtables to the flush worker (shared-buffer-pool.ts). */
  flushPoolBytes: number;
}

export const NO_EXECUTOR_MEMORY: ExecutorMemory = Object.freeze({
  compactionWorkers: 0, compactionWorkerBytes: 0, flushWorkers: 0, flushWorkerBytes: 0, flushPoolBytes: 0,
});

/** worker_threads resourceLimits (MiB), as the Worker constructor takes them. */
export interface WorkerHeapLimits {
  maxOldGenerationSizeMb: number;
  maxYoungGenerationSizeMb: number;
}

/**
 * A worker with no job for this long exits (it starts again on the next job). Long enough that a
 * steady load, whose flushes and compactions follow each other within seconds, keeps its workers.
 */
export const WORKER_IDLE_MS = 10_000;

/** Old generation: at least this much, whatever the tables' size (a compaction's inputs' metadata, a user's filter). */
const MIN_OLD_GENERATION_MB = 128;
const MAX_OLD_GENERATION_MB = 1024;
/**
 * Young generation: V8 sizes it as three semi-spaces; 8 MiB (a semi-space under 3 MiB) still holds
 * one job's short-lived objects between scavenges (the per-block garbage of a 64 MiB table is a few
 * hundred KiB at a time).
 */
const YOUNG_GENERATION_MB = 8;

/**
 * The heap limits of a worker whose job writes tables of up to `tableBytes` (targetFileSize, or
 * writeBufferSize for a flush): a table's index and filter are about 2% of it, held a few times over
 * (the inputs' readers and the output's builder), so an eighth of a table in MiB, at least 128 MiB.
 * NB: a limit is a ceiling, not a reservation: V8 grows the old generation with what survives, so a
 * generous floor costs nothing until a job needs it (a compaction filter the user wrote, say), and a
 * worker over it dies and fails its job. The young generation is what sets a worker's everyday RSS.
 */
export function workerHeapLimits(tableBytes: number): WorkerHeapLimits {
  const old = Math.ceil(tableBytes / 8 / (1 << 20));
  return {
    maxOldGenerationSizeMb: Math.min(MAX_OLD_GENERATION_MB, Math.max(MIN_OLD_GENERATION_MB, old)),
    maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
  };
}
