/**
 * Executors run the background jobs that write tables: a compaction plan with runner.ts, and a flush
 * of one frozen memtable with flush-job.ts. InlineExecutor runs it on the calling thread (tests,
 * in-memory or fault-injecting file systems), yielding to the event loop every ms (the delay it may add
 * to a 1 ms timer). WorkerExecutor
 * runs it in a pool of worker_threads (real use, node fs), started lazily on the first job (a worker
 * costs ~55 ms to start: never on the open path) and reused. The pool has no wait list: it is sized
 * to the background job queue's concurrency (job-queue.ts), which alone decides how many jobs run,
 * times maxSubcompactions (the pieces one job may run at once, subcompactions.ts),
 * so a job always finds a free or new worker; one more than `size` at once is a bug (ERR_INTERNAL).
 * Only the main thread allocates file numbers and writes the MANIFEST: a worker asks for each output's
 * number over its port (a flush gets its one number with the job) and returns plain FileMetadata.
 * A flush copies the frozen memtable's arrays into SharedArrayBuffers of the executor's pool
 * (memtable-handoff.ts, in slices) and posts those: the worker reads them in place. The buffers go back
 * to the pool only when no thread can read them: after the worker's reply (it replies once its flush
 * has settled) or, if the worker broke, once it has exited; flush() settles after that. A memtable the
 * pool cannot take (its cap) is refused with FlushPoolFullError before anything is posted.
 * Memory (worker-memory.ts): workers start with heap limits (resourceLimits), report their heap after
 * every job (memory() sums it for stats().memory), exit after WORKER_IDLE_MS without a job, and all
 * exit at close(), which also drops the flush pool's shared memory.
 * A worker that dies before it reports ready (its script or one of its imports cannot be loaded, as in
 * a bundled app without the worker file) fails the job with WorkerStartError: nothing was written,
 * so the caller may run the job elsewhere (fallback-executor.ts).
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import type { FileSystem } from '../src/fs/file-system.js';
import { DatabaseClosedError, InternalError, NotSupportedError } from '../src/errors.js';
import { fromTransferable, type TransferredError } from './errors-transfer.js';
import { runCompaction, type CompactionResult } from './runner.js';
import { runFlush, type FlushJob, type FlushResult } from './flush-job.js';
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { CompactionOutputOptions, CompactionPlan } from './plan.js';
import { copyToPool } from './memtable-handoff.js';
import { SharedBufferPool } from './shared-buffer-pool.js';
import { NO_EXECUTOR_MEMORY, WORKER_IDLE_MS, type ExecutorMemory, type WorkerHeap, type WorkerHeapLimits } from './worker-memory.js';

export interface CompactionJob {
  dir: string;
  plan: CompactionPlan;
  snapshots: number[];
  options: CompactionOutputOptions;
  allocateFileNumber(): number;
}

export interface CompactionExecutor {
  readonly kind: 'inline' | 'worker';
  run(job: CompactionJob): Promise<CompactionResult>;
  flush(job: FlushJob): Promise<FlushResult>;
  /** What the executor's workers and buffers hold now (worker-memory.ts). */
  memory(): ExecutorMemory;
  /**
   * The database is closing: running compactions stop at their next check and fail with ERR_CLOSED
   * (runner.ts removes their outputs), and later ones fail at once. Flushes are not affected.
   */
  stopCompactions(): void;
  close(): Promise<void>;
}

export class InlineExecutor implements CompactionExecutor {
  readonly kind = 'inline' as const;
  private stopping = false;
  constructor(private readonly fs: FileSystem) {}
  run(job: CompactionJob): Promise<CompactionResult> {
    if (this.stopping) return Promise.reject(new DatabaseClosedError('compaction not started: the database is closing'));
    return runCompaction(
      { fs: this.fs, dir: job.dir, allocateFileNumber: job.allocateFileNumber, yieldEveryMs: 1, isStopRequested: () => this.stopping },
      job.plan, job.snapshots, job.options,
    );
  }
  stopCompactions(): void { this.stopping = true; }
  async flush(job: FlushJob): Promise<FlushResult> {
    return { meta: await runFlush(this.fs, job, job.mem), ranIn: 'inline' };
  }
  memory(): ExecutorMemory { return NO_EXECUTOR_MEMORY; }
  async close(): Promise<void> {}
}

/**
 * Where the compiled worker entry lives by default: beside this module (vitest runs the sources;
 * workers need compiled JS). In a bundle, "this module" is the bundle itself.
 */
export function defaultWorkerScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return path.join(path.dirname(here), '..', 'dist', 'compaction', 'worker.js');
  return path.join(path.dirname(here), 'worker.js');
}

/** The worker died before it could run anything: the job wrote nothing and may run elsewhere. */
export class WorkerStartError extends NotSupportedError {
  constructor(readonly script: string, cause: unknown) {
    super(`the compaction worker ${script} could not start: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'alloc'; reqId: number }
  | { type: 'done'; result: CompactionResult; heap: WorkerHeap }
  | { type: 'flushed'; meta: FileMetadata | undefined; heap: WorkerHeap }
  | { type: 'error'; error: TransferredError; heap: WorkerHeap };

/**
 * A flush has a worker of its own at normal priority (RocksDB's high-priority flush pool): at the
 * compaction workers' nice value, on a busy machine writers stalled waiting for the frozen memtable.
 * The engine runs one flush at a time (the flush scheduler's queue), so it starts one flush worker.
 */
type Role = 'compaction' | 'flush';

interface PoolWorker {
  worker: Worker; busy: boolean; ready: boolean; role: Role;
  /** As reported after its last job (undefined before the first). */
  heap: WorkerHeap | undefined;
  /** Ends the worker once it has been idle for idleMs. */
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/** How a WorkerExecutor starts and keeps its workers (worker-memory.ts says why). */
export interface WorkerPoolLimits {
  /** Heap limits per role; V8's defaults where absent. */
  compaction?: WorkerHeapLimits;
  flush?: WorkerHeapLimits;
  /** A worker idle this long exits (default WORKER_IDLE_MS; Infinity keeps it). */
  idleMs?: number;
  /** Called once an idle worker has exited (tests, logs). */
  onIdleExit?: (role: 'compaction' | 'flush') => void;
}

export class WorkerExecutor implements CompactionExecutor {
  readonly kind = 'worker' as const;
  private readonly workers: PoolWorker[] = [];
  private closed = false;
  private stopping = false;

  /** Where flushed memtables are handed to workers (see header); its cap bounds the shared memory held. */
  readonly flushPool: SharedBufferPool;

  /** `flushPoolBytes`: the flush pool's cap (engine: a few write buffers). */
  constructor(private readonly size: number, private readonly script: string = defaultWorkerScript(), flushPoolBytes = 0,
    private readonly limits: WorkerPoolLimits = {}) {
    this.flushPool = new SharedBufferPool(flushPoolBytes);
  }

  private acquire(role: Role): PoolWorker {
    const idle = this.workers.find((w) => !w.busy && w.role === role);
    if (idle) {
      idle.busy = true;
      if (idle.idleTimer !== undefined) clearTimeout(idle.idleTimer);
      idle.idleTimer = undefined;
      return idle;
    }
    if (this.workers.filter((w) => w.role === role).length >= this.size) {
      throw new InternalError(`${role} worker pool: more than ${this.size} jobs at once (the job queue must not allow it)`);
    }
    const resourceLimits = this.limits[role];
    const worker = new Worker(this.script, { workerData: { role }, ...(resourceLimits ? { resourceLimits } : {}) });
    const w: PoolWorker = { worker, busy: true, ready: false, role, heap: undefined, idleTimer: undefined };
    w.worker.unref();
    this.workers.push(w);
    return w;
  }

  /** Frees a worker after its job; a broken one is terminated, and the promise resolves once it has exited. */
  private releaseWorker(w: PoolWorker, broken: boolean): Promise<unknown> {
    if (!broken) {
      w.busy = false;
      const idleMs = this.limits.idleMs ?? WORKER_IDLE_MS;
      if (Number.isFinite(idleMs)) {
        w.idleTimer = setTimeout(() => {
          const exited = this.retire(w);
          // With no flush worker left, nothing lends the pool's buffers until the next flush.
          if (w.role === 'flush' && !this.workers.some((x) => x.role === 'flush')) this.flushPool.drain();
          void exited.then(() => this.limits.onIdleExit?.(w.role));
        }, idleMs);
        w.idleTimer.unref();
      }
      return Promise.resolve();
    }
    return this.retire(w);
  }

  /** Takes a worker out of the pool and ends it; resolves once it has exited. */
  private retire(w: PoolWorker): Promise<unknown> {
    if (w.idleTimer !== undefined) clearTimeout(w.idleTimer);
    w.idleTimer = undefined;
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    return w.worker.terminate().catch(() => undefined);
  }

  memory(): ExecutorMemory {
    const m = { ...NO_EXECUTOR_MEMORY, flushPoolBytes: this.flushPool.heldBytes };
    for (const w of this.workers) {
      // NB: a flush worker's external memory is mostly the pooled shared memtable it read (counted
      // once, as flushPoolBytes), so only its heap counts here.
      const bytes = w.heap ? w.heap.heapTotal + (w.role === 'flush' ? 0 : w.heap.external) : 0;
      if (w.role === 'flush') { m.flushWorkers++; m.flushWorkerBytes += bytes; } else { m.compactionWorkers++; m.compactionWorkerBytes += bytes; }
    }
    return m;
  }

  run(job: CompactionJob): Promise<CompactionResult> {
    if (this.stopping) return Promise.reject(new DatabaseClosedError('compaction not started: the database is closing'));
    return this.post<CompactionResult>(
      { type: 'run', dir: job.dir, plan: job.plan, snapshots: job.snapshots, options: job.options },
      () => job.allocateFileNumber(), 'compaction');
  }

  stopCompactions(): void {
    this.stopping = true;
    // A worker reads the message between two slices of its run (it yields every few ms).
    for (const w of this.workers) if (w.role === 'compaction') w.worker.postMessage({ type: 'stop' });
  }

  async flush(job: FlushJob): Promise<FlushResult> {
    if (this.closed) throw new Error('executor closed');
    const { mem, ...params } = job;
    if (mem.share === undefined) throw new InternalError('a memtable without share() cannot be flushed in a worker');
    const pooled = await copyToPool(mem.share(), { pool: this.flushPool });
    const meta = await this.post<FileMetadata | undefined>({ type: 'flush', params, mem: pooled.mem }, () => {
      throw new InternalError('a flush worker asked for a file number (a flush has its one number already)');
    }, 'flush', () => this.flushPool.release(pooled.buffers));
    return { meta, ranIn: 'worker' };
  }

  /**
   * Runs one message's job on a pool worker; `allocate` answers its requests for file numbers.
   * `unread` runs, before the promise settles, once no worker can read the message any more.
   */
  private async post<T>(message: object, allocate: () => number, role: Role, unread: () => void = () => undefined): Promise<T> {
    let w: PoolWorker;
    try {
      if (this.closed) throw new Error('executor closed');
      w = this.acquire(role);
    } catch (e) {
      unread();
      throw e;
    }
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (broken: boolean, f: () => void): void => {
        if (settled) return;
        settled = true;
        w.worker.off('message', onMessage);
        w.worker.off('error', onError);
        w.worker.off('exit', onExit);
        // NB: a broken worker may still be running its job until it has exited.
        void this.releaseWorker(w, broken).catch(() => undefined).then(() => { unread(); f(); });
      };
      const onMessage = (m: FromWorker): void => {
        if (m.type === 'ready') {
          w.ready = true;
        } else if (m.type === 'alloc') {
          let n: number;
          try { n = allocate(); } catch (e) { finish(true, () => reject(e)); return; }
          w.worker.postMessage({ type: 'alloc', reqId: m.reqId, number: n });
        } else if (m.type === 'done') {
          w.heap = m.heap;
          finish(false, () => resolve(m.result as T));
        } else if (m.type === 'flushed') {
          w.heap = m.heap;
          finish(false, () => resolve(m.meta as T));
        } else {
          w.heap = m.heap;
          finish(false, () => reject(fromTransferable(m.error)));
        }
      };
      const failed = (e: Error): Error => (w.ready ? e : new WorkerStartError(this.script, e));
      const onError = (e: Error): void => finish(true, () => reject(failed(e)));
      const onExit = (code: number): void => finish(true, () => reject(failed(new Error(`compaction worker exited with code ${code}`))));
      w.worker.on('message', onMessage);
      w.worker.on('error', onError);
      w.worker.on('exit', onExit);
      try {
        w.worker.postMessage(message);
      } catch (e) {
        finish(false, () => reject(e));
      }
    });
  }

  get started(): number { return this.workers.length; }

  /** Flush workers started so far. */
  get startedFlush(): number { return this.workers.filter((w) => w.role === 'flush').length; }

  /** Ends every worker and drops the flush pool's shared memory (nothing can be lent at close). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.workers].map((w) => this.retire(w)));
    this.flushPool.drain();
  }
}
