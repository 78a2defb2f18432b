/**
 * Decides when the writes have gone quiet, so that L0 files left below the compaction trigger can be
 * compacted down (picker.ts pickIdle): a fill that stops at 3 L0 tables would otherwise leave every
 * get and seek probing 3 overlapping tables for as long as nobody writes.
 *
 * How: after a flush (the only thing that adds L0 files) arm() starts a timer of `delayMs`; writes
 * only bump a counter (noteWrite: no clock read, no timer work on the write path). When the timer
 * fires and the counter moved since the last tick, it waits another `delayMs`; when it did not, the
 * database has been quiet for at least `delayMs` (at most 2 x delayMs after the last write) and
 * onIdle() runs once. It then stays disarmed until the next arm(): a write alone adds no L0 file,
 * so no compaction can be owed to it, and an idle compaction that found nothing is never retried
 * by this trigger (no loop).
 * The timer is a JobTimers (job-policy.ts): unref'd node timers in the engine, manual ones in tests.
 * delayMs 0 disables the trigger. Main thread only.
 */
import { NODE_TIMERS, type JobTimers } from './job-policy.js';

export class IdleTrigger {
  private writes = 0;
  private writesAtTick = 0;
  private handle: unknown;
  private isArmed = false;
  private isStopped = false;

  constructor(
    private readonly delayMs: number,
    private readonly onIdle: () => void,
    private readonly timers: JobTimers = NODE_TIMERS,
  ) {}

  /** A write was published. */
  noteWrite(): void {
    this.writes++;
  }

  /** L0 may have grown: watch for the next quiet period. Idempotent while armed. */
  arm(): void {
    if (this.delayMs <= 0 || this.isStopped || this.isArmed) return;
    this.isArmed = true;
    this.writesAtTick = this.writes;
    this.handle = this.timers.setTimeout(() => this.tick(), this.delayMs);
  }

  /** True while a timer is pending (for tests and stats). */
  get armed(): boolean { return this.isArmed; }

  stop(): void {
    this.isStopped = true;
    if (this.isArmed) this.timers.clearTimeout(this.handle);
    this.isArmed = false;
  }

  private tick(): void {
    if (this.isStopped) return;
    if (this.writes !== this.writesAtTick) {
      this.writesAtTick = this.writes;
      this.handle = this.timers.setTimeout(() => this.tick(), this.delayMs);
      return;
    }
    this.isArmed = false;
    this.onIdle();
  }
}
