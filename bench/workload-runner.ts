/**
 * The measuring loop under every workload: runs `total` operations with exactly `concurrency` of
 * them in flight (each worker awaits its own operation before starting the next; concurrency 1 is
 * the plain awaited loop), timing each one into a Histogram and sampling throughput every 100 ms.
 * NB: sampling and progress are driven from inside the loop, not by a timer: an engine whose
 * promises settle in microtasks never yields to the event loop, so a setInterval would never fire.
 * An operation may return false to say the data ran out (readseq): it is not counted and the run
 * stops. Allocation per operation is only what the operation itself does.
 */
import { Histogram } from './histogram.js';

/** How often a throughput sample is taken and progress reported. */
export const SAMPLE_MS = 100;

export type Op = (i: number) => Promise<unknown>;

export interface Progress {
  (done: number, total: number, opsPerSec: number): void;
}

export interface Measured {
  ops: number;
  seconds: number;
  hist: Histogram;
  /** [seconds since start, ops/s over the interval ending then]. */
  series: [number, number][];
}

export async function runOps(total: number, concurrency: number, op: Op, progress?: Progress): Promise<Measured> {
  const hist = new Histogram();
  const series: [number, number][] = [];
  let next = 0;
  let done = 0;
  let exhausted = false;
  const start = performance.now();
  let lastSample = start;
  let lastDone = 0;

  const worker = async (): Promise<void> => {
    while (!exhausted) {
      const i = next++;
      if (i >= total) return;
      const t0 = performance.now();
      const r = await op(i);
      const t1 = performance.now();
      if (r === false) { exhausted = true; return; }
      hist.record((t1 - t0) * 1e6);
      done++;
      if (t1 - lastSample >= SAMPLE_MS) {
        const rate = ((done - lastDone) * 1000) / (t1 - lastSample);
        series.push([round3((t1 - start) / 1000), Math.round(rate)]);
        lastSample = t1;
        lastDone = done;
        progress?.(done, total, rate);
      }
    }
  };

  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.max(1, concurrency); w++) workers.push(worker());
  await Promise.all(workers);
  const end = performance.now();
  if (end > lastSample && done > lastDone) {
    series.push([round3((end - start) / 1000), Math.round(((done - lastDone) * 1000) / (end - lastSample))]);
  }
  progress?.(done, total, 0);
  return { ops: done, seconds: (end - start) / 1000, hist, series };
}

/**
 * Runs `op` in a loop until stop() is called, untimed except for a count: the background writer of
 * readwhilewriting. Resolves with the number of completed operations once the last one settles.
 * NB: no yielding to the macrotask queue here: readers whose operations settle in microtasks would
 * keep that queue from ever running, and the writer would stop; awaits alone interleave the two.
 */
export function background(op: Op): { stop(): Promise<number> } {
  let stopped = false;
  let count = 0;
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      await op(count);
      count++;
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return count;
    },
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
