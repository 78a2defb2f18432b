/**
 * Keeps the synchronous fast paths from starving the event loop. A put, a cached get or an
 * iterator step over cached blocks resolves without I/O, so `for (...) await db.put(...)` or a
 * `for await` scan runs entirely in microtasks: timers, sockets and our
 * own sliced flushes would not run until the loop ends. Once more than SLICE_MS have passed since the
 * event loop last turned, shouldYield() says so and the caller resolves through setImmediate instead,
 * which lets the loop turn: about one macrotask per SLICE_MS of work, a negligible cost. SLICE_MS is
 * the loop delay our own work adds to a 1 ms timer, so it stays at 1: at 4 a busy writer alone put the
 * p99 of the event-loop delay at 5 ms.
 * Main thread only.
 */

const SLICE_MS = 1;

let sliceStart = -1;
let watching = false;

function onTurn(): void {
  sliceStart = -1;
  watching = false;
}

/** True when the caller should resolve through setImmediate rather than synchronously. */
export function shouldYield(): boolean {
  const now = performance.now();
  if (sliceStart < 0) {
    sliceStart = now;
    if (!watching) {
      watching = true;
      setImmediate(onTurn);
    }
    return false;
  }
  return now - sliceStart > SLICE_MS;
}

/** Undefined, or a promise to await first when the event loop has not turned for a while. */
export function fairTurn(): Promise<void> | undefined {
  return shouldYield() ? new Promise((resolve) => setImmediate(resolve)) : undefined;
}

/** Resolves with `value`, through setImmediate when the event loop has not turned for a while. */
export function resolveFair<T>(value: T): Promise<T> {
  if (!shouldYield()) return Promise.resolve(value);
  return new Promise((resolve) => setImmediate(() => resolve(value)));
}
