/**
 * Write stalls (DESIGN.md "Compaction": writes slow down, then stop, when L0 piles up). At
 * level0StopTrigger L0 files a write group waits for compaction progress; from level0SlowdownTrigger
 * on, each group is charged userBytes / delayedWriteRate as a debt, slept off only once it reaches
 * about a millisecond: latency grows smoothly instead of a fixed sleep per write (a cliff). Both
 * waits are counted in stats. It owns the debt; the write path only asks before a group.
 * It also owns the stall condition the 'stall' event reports (engine-events.ts): one at a time, a
 * begin when a write group first meets it and an end when a group goes on without it (or when a
 * flush or compaction clears an L0 condition with no write waiting). The write path reports
 * memtables-full through enter().
 */
import type { StatsCounters } from './stats.js';
import type { ResolvedOptions } from '../options.js';
import type { EngineEvents, StallReason } from './engine-events.js';

export interface StallHost {
  /** What the level0 triggers count: L0 tables, sorted runs in the tiered style, 0 in FIFO (compaction-host.ts stallCount). */
  l0Files(): number;
  /** A background error stopped writes: no point waiting for compactions. */
  stopped(): boolean;
  readonly compactions: { maybeSchedule(): void; readonly runningJobs: number; waitForProgress(): Promise<void> };
  readonly counters: StatsCounters;
  readonly events: EngineEvents;
}

export class WriteStall {
  private debtMs = 0;
  /** Set when a slowdown sleep ends: the write queue then retries the same group, already charged. */
  private paid = false;
  /** The condition writes are under now, since `t0`; `announced`: its begin was emitted. */
  private current: { reason: StallReason; t0: number; announced: boolean } | undefined;
  /** The L0 condition the last check() found ('l0-stop' only while it is waiting). */
  private l0Reason: StallReason | undefined;

  constructor(private readonly o: ResolvedOptions, private readonly host: StallHost) {}

  /** A wait before the next group of `userBytes`, or undefined when it may go on now. */
  check(userBytes: number): Promise<void> | undefined {
    const host = this.host;
    const l0 = host.l0Files();
    const paid = this.paid;
    this.paid = false;
    if (l0 >= this.o.level0StopTrigger && !host.stopped()) {
      this.enter(this.l0Reason = 'l0-stop');
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
    this.l0Reason = l0 >= this.o.level0SlowdownTrigger ? 'l0-slowdown' : undefined;
    // Every memtable full is the stronger stall: it stays the one reported until a flush makes room.
    if (this.l0Reason && this.current?.reason !== 'memtables-full') this.enter(this.l0Reason);
    if (this.l0Reason && !paid) {
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

  /** The write path goes on (no memtable wait): the L0 condition check() found, if any, is the one now. */
  proceed(): void {
    if (this.current !== undefined && this.current.reason !== this.l0Reason) this.enter(this.l0Reason);
  }

  /** A flush or compaction changed L0: an L0 stall whose condition is gone ends, even with no write waiting. */
  levelsChanged(): void {
    const c = this.current;
    if (c === undefined || c.reason === 'memtables-full') return;
    if (this.host.l0Files() < this.o.level0SlowdownTrigger) this.enter(this.l0Reason = undefined);
  }

  /** Moves to condition `reason` (undefined: none): ends the current one, begins the new one. */
  enter(reason: StallReason | undefined): void {
    const c = this.current;
    if (c?.reason === reason) return;
    const events = this.host.events;
    if (c?.announced) events.emit('stall', { phase: 'end', reason: c.reason, durationMs: performance.now() - c.t0 });
    if (reason === undefined) {
      this.current = undefined;
      return;
    }
    const announced = events.listening('stall');
    this.current = { reason, t0: performance.now(), announced };
    if (announced) events.emit('stall', { phase: 'begin', reason });
  }
}
