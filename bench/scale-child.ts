/**
 * One step of the scale run, in a process of its own (scale.ts starts it through sustained-probes.ts
 * runJsonChild), so that /proc/self/io write_bytes and the peak RSS count this engine and this step
 * alone. It opens the database the previous step left, adds keys [firstKey, endKey) (fillbatch for
 * the first half, fillrandom for the second, or one of them), then measures readrandom and
 * seekrandom over every key written so far, closes, reopens timed, closes, and prints a StepResult
 * as JSON on its last stdout line.
 * Usage (by scale.ts): node dist/bench/scale-child.js '<ChildArgs as JSON>'
 */
import { Histogram } from './histogram.js';
import { openScaleEngine, type ScaleEngine, type TreeCounters } from './scale-engines.js';
import { scaleKey } from './scale-keys.js';
import type { LatencyFigures, StepResult } from './scale-report.js';
import type { LoadMode } from './scale-args.js';
import { dirBytes, procWriteBytes } from './sustained-probes.js';
import { ValuePool, XorShift } from './workload-data.js';

export interface ChildArgs {
  engine: string; dir: string; step: number; targetBytes: number; firstKey: number; endKey: number;
  keySize: number; valueSize: number; load: LoadMode; batchSize: number; concurrency: number;
  reads: number; seeks: number; seed: number; memoryBudget: number | undefined; strataOptions: Record<string, unknown>;
}

/** Runs `total` operations with `concurrency` awaited in flight, timing each one into a histogram. */
async function timed(total: number, concurrency: number, op: (n: number) => Promise<void>): Promise<{ hist: Histogram; seconds: number }> {
  const hist = new Histogram();
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      const s = performance.now();
      await op(n);
      hist.record((performance.now() - s) * 1e6);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, total)) }, worker));
  return { hist, seconds: (performance.now() - t0) / 1000 };
}

function figures(r: { hist: Histogram; seconds: number }): LatencyFigures {
  const s = r.hist.summary();
  return { ops: s.count, seconds: r.seconds, p50Us: s.p50, p99Us: s.p99, maxUs: s.max };
}

async function load(db: ScaleEngine, a: ChildArgs): Promise<StepResult['load']> {
  const increment = a.endKey - a.firstKey;
  const batchEnd = a.load === 'batch' ? a.endKey : a.load === 'random' ? a.firstKey : a.firstKey + Math.floor(increment / 2);
  const values = new ValuePool(a.valueSize, a.seed + a.step);
  const t0 = performance.now();
  for (let i = a.firstKey; i < batchEnd; i += a.batchSize) {
    const keys: Buffer[] = [];
    const vals: Buffer[] = [];
    for (let j = i; j < Math.min(batchEnd, i + a.batchSize); j++) { keys.push(scaleKey(j, a.keySize)); vals.push(values.next()); }
    await db.batch(keys, vals);
  }
  const batchSeconds = (performance.now() - t0) / 1000;
  const randomKeys = a.endKey - batchEnd;
  const r = await timed(randomKeys, a.concurrency, (n) => db.put(scaleKey(batchEnd + n, a.keySize), values.next()));
  return { batchKeys: batchEnd - a.firstKey, batchSeconds, randomKeys, randomSeconds: randomKeys > 0 ? r.seconds : 0 };
}

/** Cache hit rate, bloom usefulness and tables per get over the readrandom phase (counter deltas). */
function readPath(c0: TreeCounters | undefined, c1: TreeCounters | undefined, gets: number): StepResult['reads'] {
  if (!c0 || !c1 || gets === 0) return undefined;
  const hits = c1.cacheHits - c0.cacheHits;
  const lookups = hits + c1.cacheMisses - c0.cacheMisses;
  const checks = c1.filterChecks - c0.filterChecks;
  const negatives = c1.filterNegatives - c0.filterNegatives;
  return {
    cacheLookups: lookups,
    cacheHitRate: lookups > 0 ? hits / lookups : 0,
    filterUsefulRate: checks > 0 ? negatives / checks : 0,
    filterChecksPerGet: checks / gets,
    // A table whose filter did not rule the key out is searched (index, then a data block).
    tablesSearchedPerGet: (checks - negatives) / gets,
  };
}

export async function runStep(a: ChildArgs): Promise<StepResult> {
  const baselineRssBytes = process.memoryUsage().rss;
  const io0 = procWriteBytes();
  let t = performance.now();
  const { engine: db, budget } = await openScaleEngine(a.engine, a.dir, a.memoryBudget, a.strataOptions);
  const openBeforeMs = performance.now() - t;
  const loaded = await load(db, a);
  const memory = db.counters()?.memory;

  const rng = new XorShift((a.seed * 0x9e3779b1 + a.step) >>> 0);
  const c0 = db.counters();
  let found = 0;
  const rr = await timed(a.reads, a.concurrency, async () => { if (await db.get(scaleKey(rng.below(a.endKey), a.keySize))) found++; });
  const c1 = db.counters();
  // As workloads.ts seekrandom: a seek and 10 entries read from where it lands.
  const sr = await timed(a.seeks, a.concurrency, async () => { await db.seek(scaleKey(rng.below(a.endKey), a.keySize), 10); });
  const levels = db.levels();

  t = performance.now();
  await db.close();
  const closeMs = performance.now() - t;
  const bytesOnDisk = dirBytes(a.dir);
  t = performance.now();
  const again = await openScaleEngine(a.engine, a.dir, a.memoryBudget, a.strataOptions);
  const openMs = performance.now() - t;
  await again.engine.close();

  const keySize = a.keySize + a.valueSize;
  return {
    engine: a.engine, step: a.step, targetBytes: a.targetBytes, userBytes: a.endKey * keySize,
    stepUserBytes: (a.endKey - a.firstKey) * keySize, keys: a.endKey, stepKeys: a.endKey - a.firstKey,
    memoryBudget: budget, openBeforeMs, load: loaded,
    readrandom: { ...figures(rr), found }, seekrandom: figures(sr),
    closeMs, openMs, dirBytes: bytesOnDisk, ioWriteBytes: procWriteBytes() - io0,
    // maxRSS is KiB on Linux: the kernel's high-water mark of this process, all threads included.
    baselineRssBytes, peakRssBytes: process.resourceUsage().maxRSS * 1024, rssAfterCloseBytes: process.memoryUsage().rss,
    levels, ...(readPath(c0, c1, a.reads) ? { reads: readPath(c0, c1, a.reads)! } : {}),
    ...(memory ? { memory } : {}), childSeconds: 0,
  };
}

// If the run dies (Ctrl-C, kill), this process is re-parented: stop rather than keep writing into a
// directory the run is removing. Polled, because a child started with stdio pipes gets no signal.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(130); }, 500).unref();

runStep(JSON.parse(process.argv[2] ?? '{}') as ChildArgs)
  .then((r) => { process.stdout.write(JSON.stringify(r) + '\n'); })
  .catch((e: unknown) => { console.error(e); process.exit(1); });
