/**
 * The idle trigger (compaction/idle-trigger.ts) alone, on timers the test fires by hand: it fires
 * once after a quiet delay, waits again while writes keep coming, stays disarmed after firing until
 * the next arm() (so a quiet database is never polled), and does nothing when disabled or stopped.
 */
import { describe, expect, it } from 'vitest';
import { IdleTrigger } from '../../compaction/idle-trigger.js';
import type { JobTimers } from '../../compaction/job-policy.js';

class ManualTimers implements JobTimers {
  private nextId = 1;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { fn, ms });
    return id;
  }

  clearTimeout(handle: unknown): void { this.pending.delete(handle as number); }

  /** Fires the timers pending now (not those they start). */
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
  }
}

function setup(delayMs = 50): { timers: ManualTimers; trigger: IdleTrigger; fired: () => number } {
  const timers = new ManualTimers();
  let n = 0;
  const trigger = new IdleTrigger(delayMs, () => { n++; }, timers);
  return { timers, trigger, fired: () => n };
}

describe('IdleTrigger', () => {
  it('fires once a full delay passed without a write, then disarms', () => {
    const { timers, trigger, fired } = setup();
    trigger.arm();
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([50]);
    timers.fire();
    expect(fired()).toBe(1);
    expect(trigger.armed).toBe(false);
    expect(timers.pending.size).toBe(0);
    // Writes alone add no L0 file: nothing re-arms, nothing polls.
    trigger.noteWrite();
    expect(timers.pending.size).toBe(0);
  });

  it('waits another delay while writes keep coming', () => {
    const { timers, trigger, fired } = setup();
    trigger.arm();
    for (let round = 0; round < 3; round++) {
      trigger.noteWrite();
      timers.fire();
      expect(fired()).toBe(0);
      expect(timers.pending.size).toBe(1);
    }
    timers.fire();
    expect(fired()).toBe(1);
  });

  it('counts writes made before arm() as old news', () => {
    const { timers, trigger, fired } = setup();
    trigger.noteWrite();
    trigger.arm();
    timers.fire();
    expect(fired()).toBe(1);
  });

  it('keeps one timer however often it is armed', () => {
    const { timers, trigger, fired } = setup();
    trigger.arm();
    trigger.arm();
    trigger.arm();
    expect(timers.pending.size).toBe(1);
    timers.fire();
    expect(fired()).toBe(1);
    trigger.arm();
    timers.fire();
    expect(fired()).toBe(2);
  });

  it('does nothing with delay 0 or after stop()', () => {
    const off = setup(0);
    off.trigger.arm();
    expect(off.timers.pending.size).toBe(0);
    const s = setup();
    s.trigger.arm();
    s.trigger.stop();
    expect(s.timers.pending.size).toBe(0);
    s.trigger.arm();
    expect(s.timers.pending.size).toBe(0);
    expect(s.fired()).toBe(0);
  });
});
