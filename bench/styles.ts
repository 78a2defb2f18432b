/**
 * The three compaction styles on one workload (README "Compaction styles"): StrataDB with
 * compactionStyle 'leveled', 'tiered' and 'fifo' (FIFO capped by fifoMaxTableFilesSize), and leveled
 * with maxSubcompactions 2 against 1, each run in a child process of its own (sustained-probes.ts) so
 * that /proc/<pid>/io write_bytes counts that run alone.
 * Workload: db_bench's fillrandom: --num puts of a 16-byte key drawn uniformly from --num keys (so
 * about 1/e of the draws overwrite a key already written) and a 100-byte half-compressible value,
 * --concurrency (default 32) awaited puts in flight; then flush and wait for compactions to settle;
 * then --reads awaited random gets, one at a time, of keys the fill wrote (FIFO's misses are its
 * drops). Per run: write amplification (/proc io and stats()), space amplification at the end (disk
 * bytes / live bytes, live = distinct keys x 116), ops/s and its per-second series, disk bytes and
 * table bytes sampled each second (their maxima: FIFO's cap counts tables), stalls, event-loop delay during the fill, read ops/s
 * and p99, tables per level, sorted runs, FIFO drops, and compaction bytes per second of compaction.
 * Last (untimed, after the io figure is taken): compactRange(), and the directory's size then is the
 * floor space amplification is also given against, since compression makes disk / live bytes < 1.
 * Run: npm run bench:styles -- [--num 5000000] [--reads 100000] [--concurrency 32] [--seed 1]
 *   [--fifo-cap-mib 256] [--shrink 1] [--runs leveled,tiered,fifo,leveled-sub2] [--log-dir D] [--dir D]
 * --shrink N divides writeBufferSize, targetFileSize and maxBytesForLevelBase by N (styles-report.ts).
 * Databases go in a fresh temp directory under --dir (default os.tmpdir()), each deleted after its
 * run; --log-dir keeps each run's LOG (the pickers' decisions). Uses only src/index.ts.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DB, type Options } from '../src/index.js';
import { Histogram } from './histogram.js';
import { dirBytes, PerSecond, procWriteBytes, runJsonChild } from './sustained-probes.js';
import { halfRandomValue, spreadKey, XorShift } from './workload-data.js';
import { formatCompactionTable, formatTable, MiB, parseStylesArgs, runOf, runOptions, type StyleResult } from './styles-report.js';

/** Settled: no compaction running and none begun for this long (twice the idle-compaction delay and more). */
const QUIET_MS = 3000;

interface ChildArgs { label: string; num: number; reads: number; concurrency: number; seed: number; fifoCapBytes: number; shrink: number; dir: string }

/**
 * Compactions running, counted from the open on (a listener attached later would miss the begins of
 * those already running), and settled(): resolves once none has run or begun for QUIET_MS.
 */
function watchCompactions(db: DB): { settled(): Promise<void> } {
  let running = 0;
  let last = performance.now();
  db.on('compaction', (e) => {
    running += e.phase === 'begin' ? 1 : -1;
    last = performance.now();
  });
  return {
    settled: () => new Promise((resolve) => {
      const check = (): void => {
        if (running === 0 && performance.now() - last >= QUIET_MS) resolve();
        else setTimeout(check, 250);
      };
      check();
    }),
  };
}

async function child(a: ChildArgs): Promise<StyleResult> {
  const run = runOf(a.label);
  const db = await DB.open(a.dir, runOptions(run, a.fifoCapBytes, a.shrink) as Options);
  const compactions = watchCompactions(db);
  const io0 = procWriteBytes();
  let diskMax = 0;
  let tablesMax = 0;
  // The whole directory (WALs included) and the tables alone, which are what FIFO's cap counts.
  const sampleDisk = (): void => {
    diskMax = Math.max(diskMax, dirBytes(a.dir));
    tablesMax = Math.max(tablesMax, db.stats().levels.reduce((n, l) => n + l.bytes, 0));
  };
  const persec = new PerSecond(sampleDisk);
  const written = new Uint8Array(a.num);
  const rng = new XorShift(a.seed);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const t0 = performance.now();
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < a.num) {
      const i = next++;
      const k = rng.below(a.num);
      written[k] = 1;
      await db.put(spreadKey(k, Buffer.allocUnsafe(16)), halfRandomValue(i));
      persec.tick(1);
    }
  };
  await Promise.all(Array.from({ length: a.concurrency }, writer));
  const fillSeconds = (performance.now() - t0) / 1000;
  loop.disable();
  sampleDisk();

  const s0 = performance.now();
  await db.flush();
  await compactions.settled();
  const settleSeconds = (performance.now() - s0) / 1000;
  const diskBytesEnd = dirBytes(a.dir);
  diskMax = Math.max(diskMax, diskBytesEnd);

  let distinctKeys = 0;
  for (let k = 0; k < a.num; k++) distinctKeys += written[k]!;
  const hist = new Histogram();
  const rr = new XorShift(a.seed ^ 0x9e3779b9);
  let found = 0;
  const key = Buffer.alloc(16);
  const r0 = performance.now();
  for (let i = 0; i < a.reads; i++) {
    let k = rr.below(a.num);
    while (written[k] === 0) k = rr.below(a.num);
    const g0 = performance.now();
    if ((await db.get(spreadKey(k, key))) !== undefined) found++;
    hist.record((performance.now() - g0) * 1e6);
  }
  const readSeconds = (performance.now() - r0) / 1000;

  const s = db.stats();
  const ioWriteBytes = procWriteBytes() - io0;
  // Compression makes disk / live bytes small in every style; the size of the same data compacted
  // into one sorted run is the floor that space amplification is measured against (FIFO has no such
  // merge: its figure stays undefined).
  let compactedBytes: number | undefined;
  if (run.style !== 'fifo') {
    await db.compactRange();
    compactedBytes = dirBytes(a.dir);
  }
  await db.close();
  return {
    label: a.label, num: a.num, distinctKeys, fillSeconds, perSecond: persec.series, settleSeconds,
    ioWriteBytes, ...(compactedBytes !== undefined ? { compactedBytes } : {}), userBytes: a.num * 116, statsWriteAmp: s.writeAmplification,
    diskBytesEnd, diskBytesMax: diskMax, tableBytesMax: tablesMax, stallMs: s.stalls.slowdownMs + s.stalls.stopMs,
    loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6,
    reads: a.reads, found, readSeconds, readP99Us: hist.summary().p99,
    levels: s.levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}`).join(' '),
    sortedRuns: s.sortedRuns, fifoDrops: s.fifoDrops,
    compactions: { count: s.compactions.count, bytesRead: s.compactions.bytesRead, bytesWritten: s.compactions.bytesWritten, ms: s.compactions.ms },
    flushBytes: s.flushes.bytes,
    subcompactions: s.subcompactions,
  };
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) {
    const r = await child(JSON.parse(process.argv[ci + 1]!) as ChildArgs);
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const cfg = parseStylesArgs(process.argv.slice(2));
  const root = mkdtempSync(join(cfg.dir ?? tmpdir(), 'strata-bench-styles-'));
  const script = fileURLToPath(import.meta.url);
  const results: StyleResult[] = [];
  const loads: string[] = [];
  try {
    for (const run of cfg.runs) {
      const dir = join(root, run.label);
      mkdirSync(dir);
      process.stderr.write(`${run.label}: fillrandom of ${cfg.num} puts, ${cfg.concurrency} in flight (load ${loadavg()[0]!.toFixed(1)})...\n`);
      const args: ChildArgs = { label: run.label, num: cfg.num, reads: cfg.reads, concurrency: cfg.concurrency, seed: cfg.seed, fifoCapBytes: cfg.fifoCapBytes, shrink: cfg.shrink, dir };
      try {
        const r = await runJsonChild<StyleResult>(script, ['--child', JSON.stringify(args)], run.label);
        results.push(r);
        loads.push(`${run.label} ${loadavg().map((x) => x.toFixed(1)).join('/')}`);
        process.stderr.write(`${run.label}: ${Math.round(r.num / r.fillSeconds)} puts/s, ${r.fillSeconds.toFixed(0)} s fill + ${r.settleSeconds.toFixed(0)} s settle\n`);
        if (cfg.logDir) { mkdirSync(cfg.logDir, { recursive: true }); copyFileSync(join(dir, 'LOG'), join(cfg.logDir, `${run.label}.LOG`)); }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`\n### fillrandom ${cfg.num.toLocaleString('en-US')} puts (16 B keys drawn with repeats, 100 B values), ${cfg.concurrency} awaited puts in flight; then ${cfg.reads.toLocaleString('en-US')} random gets of written keys\n`);
  console.log(formatTable(results));
  console.log(`\n${formatCompactionTable(results)}`);
  const shrunk = cfg.shrink > 1 ? `writeBufferSize, targetFileSize, maxBytesForLevelBase at 1/${cfg.shrink} of their defaults (${JSON.stringify(runOptions(runOf('leveled'), 0, cfg.shrink))}), ` : 'default options, ';
  console.log(`\n${shrunk}FIFO cap (fifoMaxTableFilesSize): ${Math.round(cfg.fifoCapBytes / MiB)} MiB; seed ${cfg.seed}.`);
  console.log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; load average (1/5/15 min) after each run: ${loads.join('; ')}`);
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
