/**
 * The background-job retry policy (compaction/job-policy.ts) alone: back-off delays, failure
 * counting and the typed JobFailure, waiting on an injected timer (never a clock), cancellation by
 * stop() and by a newer wait, and run()'s retry loop as a flush uses it. Time only moves when a test
 * fires a timer; nothing sleeps.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  backoffDelayMs, COMPACTION_RETRY, FLUSH_RETRY, JobRetry, KEEP_ALIVE_TIMERS, NODE_TIMERS, type JobTimers, type RetryPolicy,
} from '../../compaction/job-policy.js';

/** Timers a test fires by hand, recording each delay asked for. */
class ManualTimers implements JobTimers {
  private nextId = 1;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  readonly delays: number[] = [];

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { fn, ms });
    this.delays.push(ms);
    return id;
  }

  clearTimeout(handle: unknown): void { this.pending.delete(handle as number); }

  /** Fires every pending timer, then lets the promises they settle run. */
  async fireAll(): Promise<void> {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

const POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300 };

afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

describe('backoffDelayMs', () => {
  it('doubles from the base per failure and stops at the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(POLICY, n))).toEqual([100, 200, 300, 300, 300]);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(FLUSH_RETRY, n))).toEqual([100, 200, 400, 800]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(COMPACTION_RETRY, n))).toEqual([100, 200, 400, 800, 1600]);
    expect(backoffDelayMs(COMPACTION_RETRY, 30)).toBe(10_000);
  });
});

describe('JobRetry failures', () => {
  it('counts failures in a row, turns fatal when the attempts run out, and resets on success', () => {
    const r = new JobRetry(POLICY, new ManualTimers());
    const e = new Error('EIO');
    expect([1, 2, 3].map(() => r.recordFailure(e).fatal)).toEqual([false, false, false]);
    const last = r.recordFailure(e);
    expect(last).toEqual({ ok: false, error: e, attempts: 4, fatal: true, why: 'failed 4 times in a row', cancelled: false });
    r.recordSuccess();
    expect(r.failures).toBe(0);
    expect(r.recordFailure(e)).toMatchObject({ attempts: 1, fatal: false, why: '' });
  });

  it('is fatal at once when the caller names a reason', () => {
    const r = new JobRetry(POLICY, new ManualTimers());
    expect(r.recordFailure(new Error('bad block'), 'corrupt input')).toMatchObject({ attempts: 1, fatal: true, why: 'corrupt input' });
  });
});

describe('JobRetry.backoff', () => {
  it('waits on a timer with the delay of the failures so far', async () => {
    const timers = new ManualTimers();
    const r = new JobRetry(POLICY, timers);
    r.recordFailure(new Error('x'));
    r.recordFailure(new Error('x'));
    let elapsed: boolean | undefined;
    void r.backoff().then((v) => { elapsed = v; });
    await flushMicrotasks();
    expect(timers.delays).toEqual([200]);
    expect(r.isBackingOff).toBe(true);
    expect(elapsed).toBeUndefined();
    await timers.fireAll();
    expect(elapsed).toBe(true);
    expect(r.isBackingOff).toBe(false);
  });

  it('a newer wait cancels the older one, which resolves false', async () => {
    const timers = new ManualTimers();
    const r = new JobRetry(POLICY, timers);
    r.recordFailure(new Error('x'));
    const first = r.backoff();
    r.recordFailure(new Error('x'));
    const second = r.backoff();
    expect(await first).toBe(false);
    expect(timers.pending.size).toBe(1);
    await timers.fireAll();
    expect(await second).toBe(true);
    expect(timers.delays).toEqual([100, 200]);
  });

  it('stop() cancels the pending wait and every later one', async () => {
    const timers = new ManualTimers();
    const r = new JobRetry(POLICY, timers);
    r.recordFailure(new Error('x'));
    const waiting = r.backoff();
    r.stop();
    expect(await waiting).toBe(false);
    expect(timers.pending.size).toBe(0);
    expect(r.isBackingOff).toBe(false);
    expect(await r.backoff()).toBe(false);
    expect(timers.delays).toEqual([100]);
  });

  it('needs no clock: with Date.now frozen, the default timers still end the wait', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const r = new JobRetry(POLICY, NODE_TIMERS);
    r.recordFailure(new Error('x'));
    const waiting = r.backoff();
    vi.advanceTimersByTime(99);
    expect(r.isBackingOff).toBe(true);
    vi.advanceTimersByTime(1);
    expect(await waiting).toBe(true);
  });
});

describe('Node timers', () => {
  it('a compaction wait does not hold the process open; a flush wait, which someone awaits, does', () => {
    const background = NODE_TIMERS.setTimeout(() => undefined, 60_000) as NodeJS.Timeout;
    const awaited = KEEP_ALIVE_TIMERS.setTimeout(() => undefined, 60_000) as NodeJS.Timeout;
    try {
      expect(background.hasRef()).toBe(false);
      expect(awaited.hasRef()).toBe(true);
    } finally {
      NODE_TIMERS.clearTimeout(background);
      KEEP_ALIVE_TIMERS.clearTimeout(awaited);
    }
  });
});

describe('JobRetry.run', () => {
  it('retries after each back-off until an attempt succeeds, and reports the attempts', async () => {
    const timers = new ManualTimers();
    const r = new JobRetry(POLICY, timers);
    const seen: number[] = [];
    const heard: number[] = [];
    const outcome = r.run(async (n) => {
      seen.push(n);
      if (n < 3) throw new Error(`attempt ${n}`);
      return 'table';
    }, undefined, (f) => heard.push(f.attempts));
    await flushMicrotasks();
    await timers.fireAll();
    await timers.fireAll();
    expect(await outcome).toEqual({ ok: true, value: 'table', attempts: 3 });
    expect(seen).toEqual([1, 2, 3]);
    expect(heard).toEqual([1, 2]);
    expect(timers.delays).toEqual([100, 200]);
    expect(r.failures).toBe(0);
  });

  it('gives up with a fatal JobFailure when the attempts run out', async () => {
    const timers = new ManualTimers();
    const r = new JobRetry(POLICY, timers);
    const e = new Error('ENOSPC');
    const outcome = r.run(async () => { throw e; });
    for (let i = 0; i < POLICY.maxAttempts; i++) {
      await flushMicrotasks();
      await timers.fireAll();
    }
    expect(await outcome).toEqual({ ok: false, error: e, attempts: 4, fatal: true, why: 'failed 4 times in a row', cancelled: false });
    expect(timers.delays).toEqual([100, 200, 300]);
  });

  it('stops at once on an error the caller classifies as fatal', async () => {
    const timers = new ManualTimers();
    const r = new JobRetry(POLICY, timers);
    const outcome = await r.run(async () => { throw new Error('MANIFEST'); }, () => 'MANIFEST write failed');
    expect(outcome).toMatchObject({ ok: false, attempts: 1, fatal: true, why: 'MANIFEST write failed' });
    expect(timers.delays).toEqual([]);
  });

  it('gives up, cancelled and not fatal, when stopped during the back-off', async () => {
    const timers = new ManualTimers();
    const r = new JobRetry(POLICY, timers);
    let calls = 0;
    const outcome = r.run(async () => { calls++; throw new Error('EIO'); });
    await flushMicrotasks();
    expect(r.isBackingOff).toBe(true);
    r.stop();
    expect(await outcome).toMatchObject({ ok: false, attempts: 1, fatal: false, cancelled: true });
    expect(calls).toBe(1);
  });
});
