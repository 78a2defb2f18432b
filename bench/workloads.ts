/**
 * The db_bench workloads, engine-neutral: each one drives a BenchEngine through runOps() and says
 * what it needs (an empty database, or one holding every key below num) and what it leaves behind.
 * Names follow LevelDB's db_bench; `NAME:C` runs NAME with C operations in flight (fillrandom:32,
 * readrandom:64, fillsync:64). Key choice and value slicing happen inside the timed operation, the
 * same for every engine (a few tens of ns, against µs-scale operations).
 * Counts: fills, overwrite and deleterandom do `num` operations; reads do `reads` (default num);
 * fillsync does --syncs puts, by default num/100 (each one waits for an fdatasync; db_bench uses
 * num/1000), whatever its :C (so fillsync:64 at 1M entries with --syncs 20000); seekrandom does
 * reads/10 seeks of 10 entries each, so it reads as many entries as readrandom. deleterange and
 * clear (range deletes, then reads and seeks over the deleted keys) live in range-workloads.ts.
 * The `open` pseudo-workload (close, measure the directory, time three reopens) lives in child.ts,
 * which owns the directory; it is listed here so names are checked in one place.
 * Not here: the process around a run (child.ts) and printing (report.ts).
 */
import type { BenchEngine } from './engine.js';
import { background, runOps, type Measured, type Progress } from './workload-runner.js';
import { KeyFormat, ValuePool, XorShift, workloadSeed } from './workload-data.js';
import type { Figure } from './result.js';
import { clearWorkload, deleterange } from './range-workloads.js';

export interface WorkloadContext {
  engine: BenchEngine;
  keys: KeyFormat;
  values: ValuePool;
  num: number;
  reads: number;
  /** fillsync's put count when given (else num/100). */
  syncs?: number;
  seed: number;
  progress?: Progress;
  /** The engine's directory, for workloads that report its size. */
  dir?: string;
}

export interface WorkloadOutcome {
  measured: Measured;
  /** Entries written or read, for ops/s and MB/s (a batch of 1000 counts 1000). */
  entries: number;
  /** Bytes of keys and values moved (written, or found and read). */
  bytes: number;
  /** Bytes of keys and values written, for write amplification. */
  userBytesWritten: number;
  /** What one timed operation is, when it is not one entry. */
  opUnit?: string;
  found?: number;
  writerOps?: number;
  /**
   * Measures the workload's extra figures once the timed part's CPU time and loop delay are taken
   * (the caller runs it after them, so those columns belong to the timed operations alone).
   */
  followUp?: () => Promise<Figure[]>;
}

export interface WorkloadDef {
  name: string;
  /** Starts from an empty database. */
  fresh: boolean;
  /** Needs every key below num present first (the child fills it, untimed, if not). */
  needsData: boolean;
  /** The key set afterwards: every key below num, some of them, or unchanged. */
  leaves: 'full' | 'partial' | 'same';
  writes: boolean;
  /** Its writes are synced (fillsync): an engine whose durability is per database must know first. */
  syncWrites?: boolean;
  /** Accepts a :C suffix (operations in flight). */
  concurrent: boolean;
  run?(ctx: WorkloadContext, concurrency: number): Promise<WorkloadOutcome>;
}

export const BATCH_SIZE = 1000;

/** What `npm run bench` runs, in this order (db_bench order: fills, then reads on the filled data). */
export const DEFAULT_WORKLOADS = [
  'fillseq', 'fillrandom', 'fillrandom:32', 'overwrite', 'fillsync', 'fillsync:64', 'fillbatch', 'open',
  'readrandom', 'readrandom:64', 'readseq', 'readreverse', 'seekrandom', 'readwhilewriting', 'deleterandom',
];

const kv = (ctx: WorkloadContext): number => ctx.keys.keySize + ctx.values.valueSize;
const rngFor = (ctx: WorkloadContext, name: string): XorShift => new XorShift(workloadSeed(ctx.seed, name));

async function puts(ctx: WorkloadContext, c: number, n: number, pick: (i: number) => number, sync: boolean): Promise<WorkloadOutcome> {
  const { engine, keys, values } = ctx;
  const measured = await runOps(n, c, (i) => engine.put(keys.keyOf(pick(i)), values.next(), sync), ctx.progress);
  const bytes = measured.ops * kv(ctx);
  return { measured, entries: measured.ops, bytes, userBytesWritten: bytes };
}

function randomPuts(name: string, sync: boolean, count: (ctx: WorkloadContext) => number) {
  return (ctx: WorkloadContext, c: number): Promise<WorkloadOutcome> => {
    const rng = rngFor(ctx, name);
    return puts(ctx, c, count(ctx), () => rng.below(ctx.num), sync);
  };
}

export const fillsyncCount = (num: number, syncs?: number): number => syncs ?? Math.max(1, Math.floor(num / 100));
export const seekCount = (reads: number): number => Math.max(1, Math.floor(reads / 10));

async function fillbatch(ctx: WorkloadContext, c: number): Promise<WorkloadOutcome> {
  const { engine, keys, values, num } = ctx;
  const batches = Math.ceil(num / BATCH_SIZE);
  let entries = 0;
  const measured = await runOps(batches, c, (b) => {
    const from = b * BATCH_SIZE;
    const to = Math.min(num, from + BATCH_SIZE);
    const ks = new Array<Uint8Array>(to - from);
    const vs = new Array<Uint8Array>(to - from);
    for (let i = from; i < to; i++) { ks[i - from] = keys.keyOf(i); vs[i - from] = values.next(); }
    entries += to - from;
    return engine.batchPut(ks, vs, false);
  }, ctx.progress && ((done, total, rate) => ctx.progress!(done * BATCH_SIZE, total * BATCH_SIZE, rate * BATCH_SIZE)));
  const bytes = entries * kv(ctx);
  return { measured, entries, bytes, userBytesWritten: bytes, opUnit: `batch of ${BATCH_SIZE}` };
}

async function readrandom(ctx: WorkloadContext, c: number): Promise<WorkloadOutcome> {
  const { engine, keys, num } = ctx;
  const rng = rngFor(ctx, 'readrandom');
  let found = 0;
  const measured = await runOps(ctx.reads, c, async (_i) => {
    if (await engine.get(keys.keyOf(rng.below(num)))) found++;
  }, ctx.progress);
  return { measured, entries: measured.ops, bytes: found * kv(ctx), userBytesWritten: 0, found };
}

function scan(reverse: boolean) {
  return async (ctx: WorkloadContext): Promise<WorkloadOutcome> => {
    const it = ctx.engine.iterator({ reverse });
    try {
      const measured = await runOps(ctx.reads, 1, async () => (await it.next()) !== undefined, ctx.progress);
      return { measured, entries: measured.ops, bytes: measured.ops * kv(ctx), userBytesWritten: 0 };
    } finally {
      await it.close();
    }
  };
}

async function seekrandom(ctx: WorkloadContext, c: number): Promise<WorkloadOutcome> {
  const { engine, keys, num } = ctx;
  const rng = rngFor(ctx, 'seekrandom');
  let entries = 0;
  const measured = await runOps(seekCount(ctx.reads), c, async () => {
    const it = engine.iterator({ gte: keys.keyOf(rng.below(num)), limit: 10 });
    try {
      for (let j = 0; j < 10; j++) {
        if ((await it.next()) === undefined) break;
        entries++;
      }
    } finally {
      await it.close();
    }
  }, ctx.progress);
  return { measured, entries, bytes: entries * kv(ctx), userBytesWritten: 0, opUnit: 'seek + 10 next' };
}

async function deleterandom(ctx: WorkloadContext, c: number): Promise<WorkloadOutcome> {
  const { engine, keys, num } = ctx;
  const rng = rngFor(ctx, 'deleterandom');
  const measured = await runOps(num, c, () => engine.del(keys.keyOf(rng.below(num))), ctx.progress);
  return { measured, entries: measured.ops, bytes: measured.ops * keys.keySize, userBytesWritten: measured.ops * keys.keySize };
}

async function readwhilewriting(ctx: WorkloadContext, c: number): Promise<WorkloadOutcome> {
  const { engine, keys, values, num } = ctx;
  const wrng = rngFor(ctx, 'readwhilewriting/writer');
  const writer = background(() => engine.put(keys.keyOf(wrng.below(num)), values.next(), false));
  let outcome: WorkloadOutcome;
  let writerOps = 0;
  try {
    outcome = await readrandom(ctx, c);
  } finally {
    writerOps = await writer.stop();
  }
  return { ...outcome, writerOps, userBytesWritten: writerOps * kv(ctx) };
}

const DEFS: WorkloadDef[] = [
  { name: 'fillseq', fresh: true, needsData: false, leaves: 'full', writes: true, concurrent: true,
    run: (ctx, c) => puts(ctx, c, ctx.num, (i) => i, false) },
  { name: 'fillrandom', fresh: true, needsData: false, leaves: 'partial', writes: true, concurrent: true,
    run: randomPuts('fillrandom', false, (ctx) => ctx.num) },
  { name: 'overwrite', fresh: false, needsData: true, leaves: 'same', writes: true, concurrent: true,
    run: randomPuts('overwrite', false, (ctx) => ctx.num) },
  { name: 'fillbatch', fresh: true, needsData: false, leaves: 'full', writes: true, concurrent: true, run: fillbatch },
  { name: 'fillsync', fresh: true, needsData: false, leaves: 'partial', writes: true, syncWrites: true, concurrent: true,
    run: randomPuts('fillsync', true, (ctx) => fillsyncCount(ctx.num, ctx.syncs)) },
  { name: 'readrandom', fresh: false, needsData: true, leaves: 'same', writes: false, concurrent: true, run: readrandom },
  { name: 'readseq', fresh: false, needsData: true, leaves: 'same', writes: false, concurrent: false, run: scan(false) },
  { name: 'readreverse', fresh: false, needsData: true, leaves: 'same', writes: false, concurrent: false, run: scan(true) },
  { name: 'seekrandom', fresh: false, needsData: true, leaves: 'same', writes: false, concurrent: true, run: seekrandom },
  { name: 'deleterandom', fresh: false, needsData: true, leaves: 'partial', writes: true, concurrent: true, run: deleterandom },
  { name: 'readwhilewriting', fresh: false, needsData: true, leaves: 'same', writes: true, concurrent: true, run: readwhilewriting },
  { name: 'deleterange', fresh: false, needsData: true, leaves: 'partial', writes: true, concurrent: true, run: deleterange },
  { name: 'clear', fresh: false, needsData: true, leaves: 'partial', writes: true, concurrent: false, run: clearWorkload },
  { name: 'open', fresh: false, needsData: true, leaves: 'same', writes: false, concurrent: false },
];

export const WORKLOAD_NAMES: readonly string[] = DEFS.map((d) => d.name);

export interface WorkloadSpec { id: string; def: WorkloadDef; concurrency: number }

/** Parses `NAME` or `NAME:C`; NAME alone takes defaultConcurrency where the workload accepts one. */
export function parseWorkload(text: string, defaultConcurrency: number): WorkloadSpec {
  const m = /^([a-z]+)(?::(\d+))?$/.exec(text.trim());
  const def = m ? DEFS.find((d) => d.name === m[1]) : undefined;
  if (!m || !def) throw new Error(`unknown workload "${text}" (known: ${WORKLOAD_NAMES.join(', ')}; NAME:C for C in flight)`);
  if (m[2] !== undefined && !def.concurrent) throw new Error(`workload ${def.name} takes no :C suffix`);
  const c = m[2] !== undefined ? Number(m[2]) : def.concurrent ? defaultConcurrency : 1;
  if (!Number.isInteger(c) || c < 1 || c > 4096) throw new Error(`workload ${text}: concurrency must be 1..4096`);
  return { id: c === 1 ? def.name : `${def.name}:${c}`, def, concurrency: c };
}
