/**
 * Write stalls (DESIGN.md "Compaction": writes slow down, then stop, when L0 piles up). At
 * level0StopTrigger L0 files a write group waits for compaction progress; from level0SlowdownTrigger
 * on, each group is charged userBytes / delayedWriteRate as a debt, slept off only once it reaches
 * about a millisecond: latency grows smoothly instead of a fixed sleep per write (a cliff). Both
 * waits are counted in stats. It owns the debt; the write path only asks before a group.
 */
import type { StatsCounters } from './stats.js';
import type { ResolvedOptions } from '../options.js';

export interface StallHost {
  l0Files(): number;
  /** A background error stopped writes: no point waiting for compactions. */
  stopped(): boolean;
  readonly compactions: { maybeSchedule(): void; readonly runningJobs: number; waitForProgress(): Promise<void> };
  readonly counters: StatsCounters;
}

export class WriteStall {
  private debtMs = 0;
  /** Set when a slowdown sleep ends: the write queue then retries the same group, already charged. */
  private paid = false;

  constructor(private readonly o: ResolvedOptions, private readonly host: StallHost) {}

  /** A wait before the next group of `userBytes`, or undefined when it may go on now. */
  check(userBytes: number): Promise<void> | undefined {
    const host = this.host;
    const l0 = host.l0Files();
    const paid = this.paid;
    this.paid = false;
    if (l0 >= this.o.level0StopTrigger && !host.stopped()) {
      const t0 = performance.now();
      host.compactions.maybeSchedule();
      // With no job running (back-off after a failure), poll gently instead of spinning on
      // already-resolved promises, which would starve the event loop (and the back-off timer).
      const wait = host.compactions.runningJobs > 0
        ? host.compactions.waitForProgress()
        : new Promise<void>((resolve) => setTimeout(resolve, 10));
      return wait.then(() => { host.counters.stopMs += performance.now() - t0; });
    }
    // NB: after a sleep the write queue asks again for the SAME group; charging it again would make
    // a group owing >= 1 ms by itself sleep forever while L0 stays above the trigger.
    if (l0 >= this.o.level0SlowdownTrigger && !paid) {
      this.debtMs += (userBytes / this.o.delayedWriteRate) * 1000;
      if (this.debtMs >= 1) {
        const ms = this.debtMs;
        this.debtMs = 0;
        host.counters.slowdownMs += ms;
        return new Promise<void>((resolve) => setTimeout(resolve, ms)).then(() => { this.paid = true; });
      }
    }
    return undefined;
  }
}
