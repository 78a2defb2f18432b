/**
 * Where a process running StrataDB spends its memory, measured from the outside: one load (awaited
 * puts with 256 in flight, or a mixed load of puts, batches and random reads) of 16-byte keys and
 * 100-byte values, sampling process.memoryUsage() and stats().memory as it goes, and the peak RSS the
 * kernel recorded (resourceUsage().maxRSS: no sample can miss it). After close() it measures RSS again,
 * once collections have run (start node with --expose-gc for a forced one), to see what stays behind.
 * One load per process, so that RSS is this configuration's alone: `npm run bench:memory` runs the
 * budget checks (README "Memory") as separate processes.
 * `--cycles N` runs the load N times in the same process, each on a fresh database, and records RSS
 * after each close: if the engine held on to anything, the later cycles would end higher; what stays
 * resident but does not grow is the allocator's retained memory, reused by the next cycle.
 * Usage: node --expose-gc dist/bench/memory-probe.js --keys 6000000 [--checkpoints 2000000]
 *   [--executor auto|inline] [--memory-budget BYTES] [--mixed] [--cycles N] [--dir DIR] [--seed N] [--json]
 * Prints a line per checkpoint and, last, the JSON result (runJsonChild reads it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import { DB, WriteBatch, type Options } from '../src/index.js';
import { ValuePool, XorShift, spreadKey } from './workload-data.js';

export interface ProbeSample {
  keys: number;
  rss: number; heapUsed: number; external: number; arrayBuffers: number;
  /** The kernel's peak RSS of this process so far. */
  peakRss: number;
  engine: Record<string, unknown>;
}

export interface ProbeResult {
  config: { keys: number; executor: string; memoryBudget: number | undefined; mixed: boolean; seed: number };
  /** RSS before the database was opened (Node, the engine's modules loaded). */
  baselineRss: number;
  peakRss: number;
  samples: ProbeSample[];
  /** The breakdown at the highest RSS a 250 ms sample saw. */
  nearPeak: ProbeSample | undefined;
  afterClose: { rss: number; heapUsed: number; external: number; arrayBuffers: number;
    resident: ReturnType<typeof residentBreakdown> };
  /** RSS after each cycle's close (--cycles; one entry by default). */
  afterCloseCycles: number[];
  seconds: number;
}

const MiB = 1 << 20;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * Where the process's resident memory sits (Linux /proc/self/smaps): the main malloc heap ([heap]),
 * other anonymous mappings (thread arenas, V8 heaps, mmapped ArrayBuffers) and file mappings.
 * Undefined elsewhere.
 */
export function residentBreakdown(): { mallocHeap: number; anonymous: number; files: number } | undefined {
  let text: string;
  try { text = readFileSync('/proc/self/smaps', 'utf8'); } catch { return undefined; }
  const out = { mallocHeap: 0, anonymous: 0, files: 0 };
  let kind: keyof typeof out = 'anonymous';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? '';
      kind = name === '[heap]' ? 'mallocHeap' : name.startsWith('/') ? 'files' : 'anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]) * 1024;
  }
  return out;
}

function peakRss(): number { return process.resourceUsage().maxRSS * 1024; }

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) { gc(); gc(); }
}

function sample(db: DB, keys: number): ProbeSample {
  const m = process.memoryUsage();
  return {
    keys, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, peakRss: peakRss(),
    engine: db.stats().memory as unknown as Record<string, unknown>,
  };
}

const mb = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;

/** Runs `n` operations of `op` with `inFlight` awaited at once. */
async function inFlight(n: number, width: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => { while (next < n) await op(next++); };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
}

export async function probe(): Promise<ProbeResult> {
  const keys = Number(arg('keys') ?? 2_000_000);
  const checkpoints = (arg('checkpoints') ?? '').split(',').filter(Boolean).map(Number);
  const executor = (arg('executor') ?? 'auto') as Options['compactionExecutor'];
  const budgetArg = arg('memory-budget');
  const memoryBudget = budgetArg === undefined ? undefined : Number(budgetArg);
  const mixed = process.argv.includes('--mixed');
  const seed = Number(arg('seed') ?? 1);
  const ownDir = arg('dir') === undefined;
  const dir = arg('dir') ?? mkdtempSync(join(tmpdir(), 'strata-memprobe-'));
  const rng = new XorShift(seed);
  const values = new ValuePool(100, seed);
  collect();
  const baselineRss = process.memoryUsage().rss;
  const t0 = performance.now();
  const cycles = Number(arg('cycles') ?? 1);
  const samples: ProbeSample[] = [];
  let nearPeak: ProbeSample | undefined;
  const afterCloseCycles: number[] = [];
  for (let cycle = 0; cycle < cycles; cycle++) {
    const cycleDir = cycle === 0 ? dir : mkdtempSync(join(tmpdir(), 'strata-memprobe-'));
    const db = await DB.open(cycleDir, { compactionExecutor: executor, ...(memoryBudget !== undefined ? { memoryBudget } : {}) } as Options);
    nearPeak = await loadOnce(db, cycle === 0 ? samples : [], nearPeak);
    await db.close();
    // Let the threads that close() ended exit and their memory go back before measuring.
    for (let i = 0; i < 5; i++) { collect(); await new Promise((r) => setTimeout(r, 200)); }
    afterCloseCycles.push(process.memoryUsage.rss());
    if (cycle > 0 || ownDir) rmSync(cycleDir, { recursive: true, force: true });
  }
  const m = process.memoryUsage();
  return {
    config: { keys, executor: executor ?? 'auto', memoryBudget, mixed, seed },
    baselineRss, peakRss: peakRss(),
    samples, nearPeak,
    afterClose: { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, resident: residentBreakdown() },
    afterCloseCycles,
    seconds: (performance.now() - t0) / 1000,
  };

  /** One load into `db` (open), reporting into `samples`; returns the breakdown at the highest RSS seen. */
  async function loadOnce(db: DB, samples: ProbeSample[], nearPeakSoFar: ProbeSample | undefined): Promise<ProbeSample | undefined> {
    const json = process.argv.includes('--json');
    const report = (s: ProbeSample): void => {
      samples.push(s);
      if (!json) {
        console.error(`${s.keys} keys: rss ${mb(s.rss)} (peak ${mb(s.peakRss)}) heap ${mb(s.heapUsed)} external ${mb(s.external)} ` +
          `arrayBuffers ${mb(s.arrayBuffers)}  engine ${JSON.stringify(s.engine, (_k, v: unknown) => (typeof v === 'number' && v > MiB ? mb(v) : v))}`);
      }
    };
    // A sample every few hundred ms catches the breakdown near the peak; the peak itself is the kernel's.
    let written = 0;
    let highest = nearPeakSoFar?.rss ?? 0;
    let nearPeak = nearPeakSoFar;
    const timer = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > highest) { highest = rss; nearPeak = sample(db, written); }
    }, 250);
    const stops = [...checkpoints.filter((c) => c < keys), keys];
    const key = (i: number): Buffer => spreadKey(i, Buffer.allocUnsafe(16));
    for (const stop of stops) {
      while (written < stop) {
        const chunk = Math.min(stop - written, 20_000);
        const base = written;
        const phase = mixed ? Math.floor(base / 20_000) % 3 : 0;
        if (phase === 0) {
          await inFlight(chunk, 256, (i) => db.put(key(base + i), values.next()));
        } else if (phase === 1) {
          for (let b = 0; b < chunk; b += 1000) {
            const batch = new WriteBatch();
            for (let j = b; j < Math.min(chunk, b + 1000); j++) batch.put(key(base + j), values.next());
            await db.write(batch);
          }
        } else {
          await inFlight(chunk, 256, (i) => db.put(key(base + i), values.next()));
          await inFlight(chunk / 4, 64, () => db.get(key(rng.below(base))));
        }
        written += chunk;
      }
      report(sample(db, written));
    }
    clearInterval(timer);
    return nearPeak;
  }
}

if (process.argv[1]?.endsWith('memory-probe.js')) {
  probe().then((r) => {
    if (!process.argv.includes('--json')) {
      console.error(`baseline ${mb(r.baselineRss)}  peak ${mb(r.peakRss)}  after close ${mb(r.afterClose.rss)} ` +
        `(heap ${mb(r.afterClose.heapUsed)}, arrayBuffers ${mb(r.afterClose.arrayBuffers)})  ${r.seconds.toFixed(1)} s`);
      if (r.afterCloseCycles.length > 1) console.error(`after each cycle's close: ${r.afterCloseCycles.map(mb).join(', ')}`);
      console.error(`after close, resident: ${JSON.stringify(r.afterClose.resident, (_k, v: unknown) => (typeof v === 'number' ? mb(v) : v))}`);
      if (r.nearPeak) console.error(`near the peak: ${JSON.stringify(r.nearPeak)}`);
    }
    console.log(JSON.stringify(r));
  }, (e: unknown) => { console.error(e); process.exit(1); });
}
