/**
 * The one scheduler of background work (DESIGN.md: flush and compaction, one policy): a p-queue whose
 * concurrency is maxBackgroundJobs, so at most that many flushes and compactions run at once, and
 * nothing outside this file counts slots. A flush that waits holds writers at maxWriteBufferNumber,
 * a compaction that waits only lets L0 grow, so flushes come first twice over: a waiting flush starts
 * before a waiting compaction (priority), and with two or more slots compactions pass through a gate
 * (a second p-queue) that leaves one slot to flushes, so a flush never waits for a long compaction
 * (RocksDB reserves flush threads the same way). Jobs of one kind start in the order submitted.
 * Contract: the flush scheduler keeps at most one flush submitted (flushes of one DB are sequential:
 * each advances the log number); the compaction scheduler decides what each job compacts when it
 * starts. stop() starts no further job: one still waiting settles without running, and stop resolves
 * once the running ones have finished.
 * Lives in compaction/ because compaction/ may not import the engine above it, while the flush
 * scheduler (src/) may import compaction/. Main thread only.
 */
import PQueue from 'p-queue';

export type JobKind = 'flush' | 'compaction';

const PRIORITY: Readonly<Record<JobKind, number>> = { flush: 1, compaction: 0 };

export class BackgroundJobQueue {
  private readonly queue: PQueue;
  private readonly compactionGate: PQueue;
  private stopped = false;
  /** How many compactions may run at once: every slot but one kept for flushes (one slot: shared). */
  readonly compactionConcurrency: number;

  constructor(readonly concurrency: number) {
    this.queue = new PQueue({ concurrency });
    this.compactionConcurrency = Math.max(1, concurrency - 1);
    this.compactionGate = new PQueue({ concurrency: this.compactionConcurrency });
  }

  /**
   * Runs `job` when a slot is free, flushes first. Resolves to true once it has run (rejecting if
   * it throws), or to false without running it when the queue stopped first.
   */
  submit(kind: JobKind, job: () => Promise<void>): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    const run = (): Promise<boolean> => this.queue.add(async () => {
      if (this.stopped) return false;
      await job();
      return true;
    }, { priority: PRIORITY[kind] }) as Promise<boolean>;
    if (kind === 'flush') return run();
    return this.compactionGate.add(run) as Promise<boolean>;
  }

  /** Jobs running now. */
  get running(): number { return this.queue.pending; }

  /** Jobs submitted and not started yet. */
  get waiting(): number { return this.queue.size + this.compactionGate.size; }

  /** Starts no further job and resolves when the running ones have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    // The jobs still waiting start at once, see `stopped` and settle without running.
    await this.compactionGate.onIdle();
    await this.queue.onIdle();
  }
}
