/**
 * The retry policy of background jobs (flushes and compactions): how failures are counted, how long
 * to wait before the next attempt (exponential back-off, capped), when a failure becomes fatal, and
 * how a wait is cancelled when the database stops. A failure is a typed result (JobFailure), never
 * a flag set on the error object.
 * Waiting is a timer, not a comparison with a clock: the back-off needs no time source, so a frozen
 * injected clock (Options.clock) cannot stall a retry, and tests drive the timer (JobTimers).
 * A flush retries the same memtable within one job (run()); compactions count failures across jobs
 * and gate the next job on the back-off (recordFailure() then backoff()), since each job re-picks.
 * Lives in compaction/ beside the job queue, so the flush scheduler above it can import it.
 * Main thread only.
 */

export interface RetryPolicy {
  /** Failures in a row after which the job's error becomes fatal (sticky). */
  readonly maxAttempts: number;
  /** The wait after the first failure; each further failure doubles it. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** A flush retries its table build: 100, 200, 400, 800 ms, then the fifth failure is fatal. */
export const FLUSH_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 10_000 };

/** Compactions: 100 ms … 1.6 s between jobs, and the sixth failure in a row is fatal. */
export const COMPACTION_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 10_000 };

/** A failed attempt, as the policy judged it. */
export interface JobFailure {
  readonly ok: false;
  readonly error: unknown;
  /** Failures in a row, this one included. */
  readonly attempts: number;
  /** Retrying will not help (or the attempts ran out): the caller makes the error sticky. */
  readonly fatal: boolean;
  /** For the log and the sticky error: why it is fatal or cancelled (empty otherwise). */
  readonly why: string;
  /** The policy was stopped before the next attempt: the job gave up without being fatal. */
  readonly cancelled: boolean;
}

export type JobOutcome<T> = { readonly ok: true; readonly value: T; readonly attempts: number } | JobFailure;

/** The timer the policy waits on (tests inject their own). */
export interface JobTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Node's timers, unref'd: a compaction back-off that nobody awaits must not hold the process open.
 * A flush is awaited (db.flush(), close): its retry keeps the process alive (KEEP_ALIVE_TIMERS).
 */
export const NODE_TIMERS: JobTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export const KEEP_ALIVE_TIMERS: JobTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The wait after the `failures`-th failure in a row (1-based): base x 2^(failures-1), capped. */
export function backoffDelayMs(policy: RetryPolicy, failures: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
}

export class JobRetry {
  private failuresInARow = 0;
  private stopped = false;
  private pending: { handle: unknown; resolve: (elapsed: boolean) => void } | undefined;

  constructor(readonly policy: RetryPolicy, private readonly timers: JobTimers = NODE_TIMERS) {}

  /** Failures since the last success. */
  get failures(): number { return this.failuresInARow; }

  /** A back-off wait is pending: no new attempt should start. */
  get isBackingOff(): boolean { return this.pending !== undefined; }

  recordSuccess(): void { this.failuresInARow = 0; }

  /**
   * Counts a failure and judges it: fatal when `fatalWhy` names a reason (a corrupt input, a failed
   * MANIFEST write: retrying cannot help) or when the attempts ran out.
   */
  recordFailure(error: unknown, fatalWhy?: string): JobFailure {
    const attempts = ++this.failuresInARow;
    const why = fatalWhy ?? (attempts >= this.policy.maxAttempts ? `failed ${attempts} times in a row` : '');
    return { ok: false, error, attempts, fatal: why !== '', why, cancelled: false };
  }

  /**
   * Waits out the back-off for the failures counted so far. Resolves true when it elapsed, false
   * when stop() or a newer backoff() cancelled it (the newer wait then decides when to go on).
   */
  backoff(): Promise<boolean> {
    this.cancelPending();
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const handle = this.timers.setTimeout(() => {
        if (this.pending?.handle === handle) this.pending = undefined;
        resolve(true);
      }, backoffDelayMs(this.policy, this.failuresInARow));
      this.pending = { handle, resolve };
    });
  }

  /**
   * Runs `attempt` until it succeeds, a failure is fatal, or the policy stops, waiting out the
   * back-off between attempts. `classify` names why an error is fatal at once (or returns undefined);
   * `onFailure` hears every failed attempt (for logs and counters) before the wait.
   */
  async run<T>(
    attempt: (n: number) => Promise<T>,
    classify: (e: unknown) => string | undefined = () => undefined,
    onFailure: (f: JobFailure) => void = () => undefined,
  ): Promise<JobOutcome<T>> {
    for (;;) {
      let value: T;
      try {
        value = await attempt(this.failuresInARow + 1);
      } catch (e) {
        const f = this.recordFailure(e, classify(e));
        onFailure(f);
        if (f.fatal) return f;
        if (!(await this.backoff())) return { ...f, why: 'stopped before the next attempt', cancelled: true };
        continue;
      }
      const attempts = this.failuresInARow + 1;
      this.recordSuccess();
      return { ok: true, value, attempts };
    }
  }

  /** Cancels the pending wait (it resolves false) and every later one. */
  stop(): void {
    this.stopped = true;
    this.cancelPending();
  }

  private cancelPending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.timers.clearTimeout(p.handle);
    p.resolve(false);
  }
}
