/**
 * WriteStall alone (src/engine/write-stall.ts) with a fake StallHost: at level0StopTrigger a write
 * group waits for compaction progress (or polls while no job runs), from level0SlowdownTrigger on it
 * is charged userBytes / delayedWriteRate and sleeps only once the debt reaches 1 ms, and the group
 * the write queue retries after a sleep is not charged again. Time is vitest's fake timers (setTimeout
 * and performance.now): no real sleeps. Rates are powers of two so every debt is exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StatsCounters } from '../../src/engine/stats.js';
import { EngineEvents } from '../../src/engine/engine-events.js';
import { WriteStall, type StallHost } from '../../src/engine/write-stall.js';
import { deferred, testOptions, type Deferred } from './fakes.js';

const RATE = 2 ** 20; // bytes per second: 2^9 bytes cost 1000 / 2^11 ms, exactly
const OPTIONS = { level0CompactionTrigger: 2, level0SlowdownTrigger: 4, level0StopTrigger: 8, delayedWriteRate: RATE };

interface Fake {
  host: StallHost;
  l0: number;
  stopped: boolean;
  running: number;
  scheduled: number;
  progress: Deferred | undefined;
}

function fake(): Fake {
  const f: Fake = {
    l0: 0, stopped: false, running: 1, scheduled: 0, progress: undefined,
    host: {
      l0Files: () => f.l0,
      events: new EngineEvents(),
      stopped: () => f.stopped,
      compactions: {
        maybeSchedule: () => { f.scheduled++; },
        get runningJobs() { return f.running; },
        waitForProgress: () => { f.progress = deferred(); return f.progress.promise; },
      },
      counters: new StatsCounters(),
    },
  };
  return f;
}

/** Whether `p` has settled once pending timers up to now and microtasks have run. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; });
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] }); });
afterEach(() => { vi.useRealTimers(); });

describe('WriteStall: stop', () => {
  it('at level0StopTrigger a group waits for compaction progress, and the wait is counted', async () => {
    const f = fake();
    const stall = new WriteStall(testOptions(OPTIONS), f.host);
    f.l0 = 8;
    const wait = stall.check(100)!;
    expect(wait).toBeInstanceOf(Promise);
    expect(f.scheduled).toBe(1);
    await vi.advanceTimersByTimeAsync(25);
    expect(await settled(wait)).toBe(false);
    f.progress!.resolve();
    await wait;
    expect(f.host.counters.stopMs).toBe(25);
    expect(f.host.counters.slowdownMs).toBe(0);
  });

  it('with no compaction running (back-off), it polls on a timer instead of waiting for progress', async () => {
    const f = fake();
    f.running = 0;
    const stall = new WriteStall(testOptions(OPTIONS), f.host);
    f.l0 = 9;
    const wait = stall.check(100)!;
    expect(f.progress).toBeUndefined();
    await vi.advanceTimersByTimeAsync(9);
    expect(await settled(wait)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(wait)).toBe(true);
  });

  it('does not wait for compactions once a background error stopped writes', () => {
    const f = fake();
    f.stopped = true;
    const stall = new WriteStall(testOptions(OPTIONS), f.host);
    f.l0 = 8;
    expect(stall.check(100)).toBeUndefined(); // below 1 ms of debt
    expect(f.scheduled).toBe(0);
  });
});

describe('WriteStall: slowdown', () => {
  it('below the slowdown trigger nothing is charged', () => {
    const f = fake();
    const stall = new WriteStall(testOptions(OPTIONS), f.host);
    f.l0 = 3;
    for (let i = 0; i < 100; i++) expect(stall.check(2 ** 20)).toBeUndefined();
    expect(f.host.counters.slowdownMs).toBe(0);
  });

  it('charges userBytes / delayedWriteRate as debt and sleeps only once it reaches 1 ms', async () => {
    const f = fake();
    const stall = new WriteStall(testOptions(OPTIONS), f.host);
    f.l0 = 4;
    expect(stall.check(2 ** 9)).toBeUndefined(); // 0.48828125 ms owed
    expect(stall.check(2 ** 9)).toBeUndefined(); // 0.9765625 ms
    expect(f.host.counters.slowdownMs).toBe(0);
    const sleep = stall.check(2 ** 9)!; // 1.46484375 ms: slept off in one go
    expect(sleep).toBeInstanceOf(Promise);
    expect(f.host.counters.slowdownMs).toBe(1.46484375);
    expect(await settled(sleep)).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(await settled(sleep)).toBe(true);
    expect(f.host.counters.stopMs).toBe(0);
    expect(f.scheduled).toBe(0);
  });

  it('the group retried after its sleep is not charged again; the next one is', async () => {
    const f = fake();
    const stall = new WriteStall(testOptions(OPTIONS), f.host);
    f.l0 = 5;
    const big = 2 ** 11; // 1.953125 ms by itself
    const sleep = stall.check(big)!;
    expect(sleep).toBeInstanceOf(Promise);
    await vi.advanceTimersByTimeAsync(2);
    await sleep;
    // The write queue asks again for the same group: it has paid.
    expect(stall.check(big)).toBeUndefined();
    expect(f.host.counters.slowdownMs).toBe(1.953125);
    // The next group owes its own debt.
    expect(stall.check(big)).toBeInstanceOf(Promise);
    expect(f.host.counters.slowdownMs).toBe(1.953125 * 2);
  });
});
