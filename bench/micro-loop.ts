/**
 * What the single-path micro-benchmarks (get-path.ts, seek-path.ts) share: their 16-byte ordered keys,
 * the seeded key choice that makes every run and build touch the same keys, and the timing of a loop in
 * wall and CPU µs per operation with the median over rounds. Not for db_bench workloads (workloads.ts
 * and workload-data.ts own those).
 */

import { DB, WriteBatch } from '../src/index.js';

/** The value every key gets: 100 bytes. */
export const VALUE = Buffer.alloc(100, 0x61);

/** 16 bytes, ordered by i: a fixed prefix and the zero-padded number. */
export function keyOf(i: number): Buffer {
  return Buffer.from(`k${i.toString().padStart(15, '0')}`);
}

/** `count` indexes below n from xorshift32 seeded with `seed`. */
export function randomIndexes(n: number, count: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x % n;
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Timing { wallUs: number; cpuUs: number }

/** Runs body once and gives wall and CPU µs per operation, for `count` operations. */
export async function timeLoop(count: number, body: () => Promise<void> | void): Promise<Timing> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await body();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallUs: (wall * 1000) / count, cpuUs: (cpu.user + cpu.system) / count };
}

/** Writes keys 0..num-1 in batches of 1,000, then flushes and compacts them into one sorted run. */
export async function loadSortedRun(db: DB, num: number): Promise<void> {
  for (let i = 0; i < num; i += 1000) {
    const batch = new WriteBatch();
    for (let j = i; j < Math.min(num, i + 1000); j++) batch.put(keyOf(j), VALUE);
    await db.write(batch);
  }
  await db.flush();
  await db.compactRange();
}
