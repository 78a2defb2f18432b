/**
 * The background job queue (compaction/job-queue.ts): a waiting flush starts before every waiting
 * compaction, and with two or more slots compactions leave one to flushes; jobs of one kind start in
 * submission order, no more than `concurrency` jobs ever run at once (and as many as the rules allow
 * do when there is work), a failing job frees its slot, and stop() runs no waiting job and resolves
 * only once the running ones finish. Every job is held at a gate the test
 * opens, so the order of events is decided by the test alone: no timers.
 */
import { describe, expect, it } from 'vitest';
import { BackgroundJobQueue, type JobKind } from '../../compaction/job-queue.js';
import { withSeed } from '../support/rng.js';

interface Gated {
  id: number;
  kind: JobKind;
  open(): void;
  fail(e: Error): void;
  /** What submit() resolved to (true: ran) or the error it rejected with. */
  done: Promise<boolean | Error>;
}

/** Submits gated jobs and records when each starts and how many run at once. */
class Harness {
  readonly started: Gated[] = [];
  running = 0;
  maxRunning = 0;
  /** Compactions that started while a flush was waiting, and jobs started out of order within a kind. */
  readonly violations: string[] = [];
  private readonly waiting: Gated[] = [];
  private startWaiters: (() => void)[] = [];
  private next = 0;

  constructor(readonly queue: BackgroundJobQueue) {}

  submit(kind: JobKind): Gated {
    let open!: () => void;
    let fail!: (e: Error) => void;
    const gate = new Promise<void>((resolve, reject) => { open = resolve; fail = reject; });
    const job: Gated = { id: this.next++, kind, open, fail, done: Promise.resolve(false) };
    this.waiting.push(job);
    job.done = this.queue.submit(kind, async () => {
      const firstOfKind = this.waiting.find((j) => j.kind === kind);
      if (firstOfKind !== job) this.violations.push(`job ${job.id} (${kind}) started before job ${firstOfKind?.id}`);
      if (kind === 'compaction' && this.waiting.some((j) => j.kind === 'flush')) {
        this.violations.push(`compaction ${job.id} started while a flush waited`);
      }
      this.waiting.splice(this.waiting.indexOf(job), 1);
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      this.started.push(job);
      const w = this.startWaiters;
      this.startWaiters = [];
      for (const f of w) f();
      try { await gate; } finally { this.running--; }
    }).catch((e: Error) => e);
    return job;
  }

  /** Resolves at the next job start. */
  nextStart(): Promise<void> {
    return new Promise((resolve) => this.startWaiters.push(resolve));
  }

  /** Resolves once `n` jobs have started. */
  async startedCount(n: number): Promise<void> {
    while (this.started.length < n) await this.nextStart();
  }
}

describe('BackgroundJobQueue', () => {
  it('with one slot, starts a flush submitted after waiting compactions before any of them', async () => {
    const h = new Harness(new BackgroundJobQueue(1));
    const running = h.submit('compaction');
    await h.startedCount(1);
    const waiting = [h.submit('compaction'), h.submit('compaction'), h.submit('compaction')];
    const flush = h.submit('flush');
    expect(h.queue.running).toBe(1);
    expect(h.queue.waiting).toBe(4);

    running.open();
    await h.startedCount(2);
    expect(h.started[1]).toBe(flush);
    // The remaining compactions follow in the order they were submitted.
    flush.open();
    for (const [i, c] of waiting.entries()) {
      await h.startedCount(2 + i + 1);
      c.open();
    }
    expect(h.started.slice(2)).toEqual(waiting);
    expect(h.violations).toEqual([]);
    expect(await Promise.all([running, ...waiting, flush].map((j) => j.done))).toEqual(Array(5).fill(true));
  });

  it('with two or more slots, compactions leave one to flushes: a flush never waits for them', async () => {
    const h = new Harness(new BackgroundJobQueue(3));
    const compactions = [h.submit('compaction'), h.submit('compaction'), h.submit('compaction'), h.submit('compaction')];
    await h.startedCount(2);
    expect(h.queue.running).toBe(2);
    const flush = h.submit('flush');
    await h.startedCount(3);
    expect(h.started[2]).toBe(flush);
    flush.open();
    expect(await flush.done).toBe(true);
    expect(h.queue.running).toBe(2); // the freed slot stays the flushes'
    for (const [i, c] of compactions.entries()) {
      await h.startedCount(Math.min(4, 3 + i));
      c.open();
    }
    expect(h.violations).toEqual([]);
    expect(await Promise.all(compactions.map((j) => j.done))).toEqual(Array(4).fill(true));
  });

  it('never runs more than its concurrency, and runs that many while there is work', async () => {
    for (let round = 0; round < 20; round++) {
      await withSeed(`job-queue concurrency round ${round}`, async (rng) => {
        const concurrency = 1 + rng.int(4);
        const h = new Harness(new BackgroundJobQueue(concurrency));
        const all: Gated[] = [];
        const finished = new Set<Gated>();
        const submitSome = (): void => {
          for (let n = rng.int(4); n > 0; n--) all.push(h.submit(rng.int(3) === 0 ? 'flush' : 'compaction'));
        };
        submitSome();
        for (let steps = 0; steps < 60 || finished.size < all.length; steps++) {
          // Every free slot is taken by a waiting job at once (each start is an event we wait on).
          const left = all.filter((j) => !finished.has(j));
          const flushes = left.filter((j) => j.kind === 'flush').length;
          const compactions = Math.min(left.length - flushes, h.queue.compactionConcurrency);
          const busy = Math.min(flushes + compactions, concurrency);
          await h.startedCount(finished.size + busy);
          expect(h.running).toBe(busy);
          expect(h.started.length).toBe(finished.size + busy);
          if (steps < 60) submitSome();
          const runningNow = h.started.filter((j) => !finished.has(j));
          if (runningNow.length === 0) continue;
          const victim = runningNow[rng.int(runningNow.length)]!;
          finished.add(victim);
          if (rng.int(5) === 0) victim.fail(new Error('injected')); else victim.open();
          const result = await victim.done;
          if (result !== true) expect((result as Error).message).toBe('injected');
        }
        expect(h.violations).toEqual([]);
        expect(h.maxRunning).toBeLessThanOrEqual(concurrency);
        await h.queue.stop();
        expect(h.running).toBe(0);
      });
    }
  });

  it('stop() runs no waiting job and resolves once the running ones finish', async () => {
    const h = new Harness(new BackgroundJobQueue(2));
    const a = h.submit('compaction');
    const b = h.submit('flush');
    await h.startedCount(2);
    const waitingC = h.submit('compaction');
    const waitingF = h.submit('flush');
    let stopped = false;
    const stopping = h.queue.stop().then(() => { stopped = true; });
    expect(await h.queue.submit('flush', async () => { throw new Error('must not run'); })).toBe(false);
    a.open();
    expect(await a.done).toBe(true);
    expect(await waitingF.done).toBe(false);
    expect(await waitingC.done).toBe(false);
    expect(stopped).toBe(false);
    b.open();
    await stopping;
    expect(h.started).toEqual([a, b]);
    expect(h.maxRunning).toBe(2);
  });
});
