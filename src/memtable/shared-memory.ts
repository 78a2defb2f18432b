/**
 * Where the memtable's long-lived typed arrays get their memory: SharedArrayBuffers, so that a frozen
 * memtable can be posted to a worker thread (compaction/worker.ts flushes it there) without a copy:
 * postMessage shares the memory of a SharedArrayBuffer-backed view instead of cloning it.
 * Element reads and writes on these arrays cost what they cost on ordinary ones in V8: bench/memtable.ts
 * at 1M keys, alternated runs, put insert, get and iterate within the run-to-run noise (about 10 %);
 * allocating one is no slower at the sizes used (4 KiB to 1 MiB). Short-lived scratch arrays stay ordinary.
 * Contract: the memory starts zeroed, like `new Int32Array(n)`. Safe in a worker.
 */

export function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}

export function sharedInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

export function sharedUint32(n: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(n * 4));
}
