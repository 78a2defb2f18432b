/**
 * Where the memtable's long-lived typed arrays get their memory: the one place that decides whether a
 * frozen memtable can be posted to a worker (compaction/worker.ts can flush it there) without a copy.
 * Backed by SharedArrayBuffers, postMessage shares the memory instead of cloning it; element reads and
 * writes cost the same (bench/memtable.ts at 1M keys, within ~10 %). Short-lived scratch arrays stay ordinary.
 * Contract: the memory starts zeroed, like `new Int32Array(n)`. Safe in a worker.
 */

// Ordinary memory for now: V8 does not count a SharedArrayBuffer's memory as pressure towards a major GC
// (process.memoryUsage().external stays ~1 MB), so the 64 MiB of every flushed memtable stayed in RSS until
// some unrelated major GC: 5,000,000 batched puts grew RSS to 901 MB (295 MB with ordinary memory); 30 dropped
// 64 MiB sets of SharedArrayBuffers held 2,064 MB, of ArrayBuffers 241 MB. Until memtable memory is pooled
// and reused (or copied into pooled shared memory at hand-off), memtables live in ordinary memory and the
// engine flushes on the main thread (compaction/fallback-executor.ts); share() then gives copies when posted.
export function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(n);
}

export function sharedInt32(n: number): Int32Array {
  return new Int32Array(n);
}

export function sharedUint32(n: number): Uint32Array {
  return new Uint32Array(n);
}
