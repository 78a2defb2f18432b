/**
 * FallbackExecutor runs compactions and flushes in the worker pool and, the first time a worker cannot
 * start (WorkerStartError: a bundled app that does not ship the worker file, a worker import that cannot
 * load), says so once through `onFallback` and runs that job and every later one inline. A job
 * that failed to start wrote nothing, so running it again inline is safe; failures of a worker
 * that did start are the job's own and pass through (the scheduler retries them).
 * Some flushes stay inline even with workers:
 * - a small one while no worker runs yet: starting a worker (~55 ms, and more CPU to load its modules)
 *   would cost more than writing a memtable under SMALL_FLUSH_BYTES in slices; this spares short-lived
 *   databases (tools, tests, a close with little unflushed data) a worker they never need;
 * - every flush when the engine asked for that (`flushInline`: option flushInWorker false, which
 *   memoryBudget implies): no shared copy of the memtable and no flush worker, at the cost of the
 *   encoding running on the main thread in 1 ms slices;
 * - one the flush pool cannot take (FlushPoolFullError: a memtable far past writeBufferSize, made by
 *   one huge batch). Inline, not a wait: flushes run one at a time, so nothing would free the pool;
 * - a flushable batch (src/memtable/flushable-batch.ts: no share()): its bytes are the committed
 *   batch itself, and handing them over would copy what the bypass exists to hold once.
 * Main thread only.
 */
import type { CompactionResult } from './runner.js';
import type { FlushJob, FlushResult } from './flush-job.js';
import { WorkerStartError, type CompactionExecutor, type CompactionJob, type InlineExecutor, type WorkerExecutor } from './executor.js';
import { FlushPoolFullError } from './shared-buffer-pool.js';
import type { ExecutorMemory } from './worker-memory.js';

/** A memtable below this (bytes held) flushes inline while no worker has started. */
export const SMALL_FLUSH_BYTES = 1 << 20;

export class FallbackExecutor implements CompactionExecutor {
  private fellBack = false;

  constructor(
    private readonly workers: WorkerExecutor,
    private readonly inline: InlineExecutor,
    private readonly onFallback: (reason: WorkerStartError) => void,
    private readonly flushInline = false,
  ) {}

  get kind(): 'inline' | 'worker' { return this.fellBack ? 'inline' : 'worker'; }

  /** Workers started so far (tests check that none start at open). */
  get started(): number { return this.workers.started; }

  /** Flush workers started so far (they keep normal priority). */
  get startedFlush(): number { return this.workers.startedFlush; }

  run(job: CompactionJob): Promise<CompactionResult> {
    return this.either((x) => x.run(job));
  }

  async flush(job: FlushJob): Promise<FlushResult> {
    // A memtable with no share() (a flushable batch) cannot be handed to a worker.
    if (this.flushInline || job.mem.share === undefined) return this.inline.flush(job);
    if (this.workers.started === 0 && job.mem.approximateMemoryUsage() < SMALL_FLUSH_BYTES) return this.inline.flush(job);
    try {
      return await this.either((x) => x.flush(job));
    } catch (e) {
      if (!(e instanceof FlushPoolFullError)) throw e;
      return this.inline.flush(job);
    }
  }

  private async either<T>(f: (x: CompactionExecutor) => Promise<T>): Promise<T> {
    if (!this.fellBack) {
      try {
        return await f(this.workers);
      } catch (e) {
        if (!(e instanceof WorkerStartError)) throw e;
        if (!this.fellBack) {
          this.fellBack = true;
          this.onFallback(e);
        }
      }
    }
    return f(this.inline);
  }

  memory(): ExecutorMemory { return this.workers.memory(); }

  stopCompactions(): void {
    this.workers.stopCompactions();
    this.inline.stopCompactions();
  }

  async close(): Promise<void> {
    await this.workers.close();
    await this.inline.close();
  }
}
