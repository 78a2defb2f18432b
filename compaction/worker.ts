/**
 * Worker-thread entry for compactions and flushes (started by WorkerExecutor from the compiled dist/
 * build). A compaction arrives as a plan (plain data): runner.ts runs it on the real file system,
 * asking the main thread for each output's file number. A flush arrives as its parameters and a
 * frozen memtable copied into the executor's pooled shared memory (memtable-handoff.ts): flush-job.ts
 * writes it through a read-only MemTable view, which must not outlive the reply (the pool reuses the
 * memory after it). Either posts back the outputs' metadata or a transferable error.
 * It posts 'ready' first: the executor treats a death before that as a failure to start (the
 * script or one of its imports missing), which it may recover from by running the job inline.
 * On Linux the worker lowers its own thread's CPU priority first (below): background work must not
 * take a core from the event loop, whose delay is the application's latency.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { NodeFileSystem } from '../src/fs/node-fs.js';
import { runCompaction } from './runner.js';
import { toTransferable } from './errors-transfer.js';
import { runFlush, type FlushParams } from './flush-job.js';
import { MemTable, type SharedMemTable } from '../src/memtable/memtable.js';
import type { CompactionOutputOptions, CompactionPlan } from './plan.js';
import type { WorkerHeap } from './worker-memory.js';

interface StopMessage { type: 'stop' }
interface RunMessage { type: 'run'; dir: string; plan: CompactionPlan; snapshots: number[]; options: CompactionOutputOptions }
interface FlushMessage { type: 'flush'; params: FlushParams; mem: SharedMemTable }
interface AllocReply { type: 'alloc'; reqId: number; number: number }

/**
 * Nice value of a compaction worker thread: the event loop gets about three times a worker's share of
 * a core they compete for, and a worker still gets a quarter, so compactions keep pace with writes on
 * a busy machine (RocksDB lowers its compaction threads the same way). The flush worker keeps normal
 * priority (writers wait on it when memtables are full). Linux only: there the nice value belongs to
 * the calling thread (setpriority(2), pid 0); elsewhere it would renice the whole process.
 */
const WORKER_NICE = 5;

/** This isolate's heap and the off-heap memory its objects keep alive (ArrayBuffers, native buffers). */
function heapNow(): WorkerHeap {
  const h = getHeapStatistics();
  return { heapTotal: h.total_heap_size, heapUsed: h.used_heap_size, external: h.external_memory };
}

/**
 * A compaction yields to this worker's event loop after about this much work. Nothing waits on the
 * worker's loop, but memory does: reads are synchronous, and native buffers (zstd's output) are
 * freed by finalizers that Node runs only from the event loop, so a compaction that never yielded
 * kept every block it had read and written until its next output file (~250 MiB of RSS across the
 * pool in a 6,000,000-put load with a native lz4, kept by the allocator after the worker exited).
 */
const WORKER_YIELD_MS = 5;

const port = parentPort;
if (port) {
  if (process.platform === 'linux' && (workerData as { role?: string } | null)?.role !== 'flush') {
    try { setPriority(0, WORKER_NICE); } catch { /* not permitted (a seccomp profile): run at normal priority */ }
  }
  const fs = new NodeFileSystem();
  const pending = new Map<number, (n: number) => void>();
  let nextReq = 1;
  /** The database is closing: a running compaction stops at its next check (runner.ts). Sticky. */
  let stopRequested = false;
  port.on('message', (m: RunMessage | FlushMessage | AllocReply | StopMessage) => {
    if (m.type === 'stop') {
      stopRequested = true;
      return;
    }
    if (m.type === 'alloc') {
      pending.get(m.reqId)?.(m.number);
      pending.delete(m.reqId);
      return;
    }
    if (m.type === 'flush') {
      // The memtable's memory is the executor's pooled shared memory, reused for another memtable
      // once we reply: the reply comes only after runFlush has settled (nothing reads the view after
      // that), and the view is dropped first, so not even a stray reference outlives the job.
      let view: MemTable | undefined = new MemTable(m.mem);
      (m as Partial<FlushMessage>).mem = undefined;
      runFlush(fs, m.params, view).then(
        (meta) => { view = undefined; port.postMessage({ type: 'flushed', meta, heap: heapNow() }); },
        (e: unknown) => { view = undefined; port.postMessage({ type: 'error', error: toTransferable(e), heap: heapNow() }); },
      );
      return;
    }
    const allocateFileNumber = (): Promise<number> => new Promise((resolve) => {
      const reqId = nextReq++;
      pending.set(reqId, resolve);
      port.postMessage({ type: 'alloc', reqId });
    });
    const env = { fs, dir: m.dir, allocateFileNumber, yieldEveryMs: WORKER_YIELD_MS, isStopRequested: () => stopRequested };
    runCompaction(env, m.plan, m.snapshots, m.options).then(
      (result) => port.postMessage({ type: 'done', result, heap: heapNow() }),
      (e: unknown) => port.postMessage({ type: 'error', error: toTransferable(e), heap: heapNow() }),
    );
  });
  // Module code runs only after every import has loaded, so this also vouches for the imports.
  port.postMessage({ type: 'ready' });
}
