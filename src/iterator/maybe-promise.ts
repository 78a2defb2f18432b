/**
 * Small helpers for MaybePromise code paths (src/base/internal-iterator.ts): the iterators here
 * answer synchronously when every child did, and fall into an async continuation only when some
 * child returned a Promise.
 * Contract: neither helper creates a Promise while everything it runs completes synchronously.
 * Not here: the hot next()/prev() paths, which are written out by hand in each iterator so that a
 * synchronous step allocates nothing.
 */
import type { MaybePromise } from '../base/internal-iterator.js';

/**
 * A resumable step sequence: `yield x` hands a MaybePromise to the driver and receives its
 * resolved value. Used for the rare slow paths (opening a table, repositioning), where a generator
 * object per call is cheap and reads far better than nested continuations.
 */
export type Steps = Generator<unknown, void, unknown>;

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Runs `steps` synchronously until one yields a Promise; from there on it continues async. */
export function runSteps(steps: Steps): MaybePromise<void> {
  let r = steps.next();
  while (!r.done) {
    if (isPromise(r.value)) return continueSteps(steps, r.value);
    r = steps.next(r.value);
  }
  return undefined;
}

async function continueSteps(steps: Steps, pending: Promise<unknown>): Promise<void> {
  let r: IteratorResult<unknown, void>;
  try {
    r = steps.next(await pending);
  } catch (e) {
    // Rethrow inside the generator so its finally blocks run; a generator that does not catch
    // rethrows it here.
    r = steps.throw(e);
  }
  while (!r.done) {
    if (isPromise(r.value)) {
      try {
        r = steps.next(await r.value);
      } catch (e) {
        r = steps.throw(e);
      }
    } else {
      r = steps.next(r.value);
    }
  }
}

/**
 * Waits for every promise (even after one failed, so no child is still moving when the caller
 * continues) and then rethrows the first failure.
 */
export async function settleAll(pending: readonly Promise<unknown>[]): Promise<void> {
  // allSettled attaches a handler to every promise at once: a second rejection never surfaces as
  // an unhandled rejection while the first one is being awaited.
  const results = await Promise.allSettled(pending);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
