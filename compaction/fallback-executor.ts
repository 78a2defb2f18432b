/**
 * FallbackExecutor runs compactions in the worker pool (flushes inline, for now: see flush()) and, the first time a worker cannot start
 * (WorkerStartError: a bundled app that does not ship the worker file, a worker import that cannot
 * load), says so once through `onFallback` and runs that job and every later one inline. A job
 * that failed to start wrote nothing, so running it again inline is safe; failures of a worker
 * that did start are the job's own and pass through (the scheduler retries them).
 * Main thread only.
 */
import type { CompactionResult } from './runner.js';
import type { FlushJob, FlushResult } from './flush-job.js';
import { WorkerStartError, type CompactionExecutor, type CompactionJob, type InlineExecutor, type WorkerExecutor } from './executor.js';

export class FallbackExecutor implements CompactionExecutor {
  private fellBack = false;

  constructor(
    private readonly workers: WorkerExecutor,
    private readonly inline: InlineExecutor,
    private readonly onFallback: (reason: WorkerStartError) => void,
  ) {}

  get kind(): 'inline' | 'worker' { return this.fellBack ? 'inline' : 'worker'; }

  /** Workers started so far (tests check that none start at open). */
  get started(): number { return this.workers.started; }

  run(job: CompactionJob): Promise<CompactionResult> {
    return this.either((x) => x.run(job));
  }

  /**
   * Inline, in slices, for now: memtables live in ordinary memory (src/memtable/shared-memory.ts says
   * why), and posting one to a worker would clone it on this thread (~250 ms for 80 MiB).
   */
  flush(job: FlushJob): Promise<FlushResult> {
    return this.inline.flush(job);
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

  async close(): Promise<void> {
    await this.workers.close();
    await this.inline.close();
  }
}
