/**
 * The benchmark program behind `stratadb bench`: `node dist/bench/driver.js '<config JSON>'`.
 * It validates the configuration, prepares the directory (a temporary one under os.tmpdir(),
 * deleted at the end and on failure or interrupt; or --db DIR, kept), checks free disk, runs each
 * engine in its own child process, taking turns workload by workload (never two at once: they would
 * share two cores), then prints the tables, or the JSON report, and writes the --plot SVG.
 * tools/commands/bench.ts starts it with an IPC channel: a user mistake goes back as a 'user-error'
 * message (the command rethrows it as a StrataError, printed the CLI's way) and the temporary
 * directory's path as 'tempdir' (removed by the command if this process dies without cleaning up).
 * Run directly, it prints `error ERR_INVALID_ARGUMENT: ...` and exits 2 instead.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENGINE_NAMES } from './engine.js';
import { EngineProcess, liveChildren } from './engine-process.js';
import { computeComparisons, formatReport } from './report.js';
import { renderPlot } from './plot.js';
import type { BenchConfig, BenchReport, EngineRun } from './result.js';
import { DEFAULT_WORKLOADS, parseWorkload } from './workloads.js';
import { KeyFormat } from './workload-data.js';

/** Sized so the default set runs both engines in well under two minutes on a 2-core machine. */
export const DEFAULT_NUM = 50_000;
const MARKER = '.stratadb-bench';

class UserError extends Error {}

function positiveInt(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new UserError(`${name} must be an integer in 1..${max} (got ${String(v)})`);
  return v;
}

/** Fills defaults and checks every field; throws UserError naming the bad option. */
export function resolveConfig(raw: Partial<BenchConfig>): BenchConfig {
  const num = positiveInt('--num', raw.num ?? DEFAULT_NUM, 1e9);
  const cfg: BenchConfig = {
    num,
    reads: positiveInt('--reads', raw.reads ?? num, 1e9),
    ...(raw.syncs !== undefined ? { syncs: positiveInt('--syncs', raw.syncs, 1e9) } : {}),
    keySize: positiveInt('--key-size', raw.keySize ?? 16, 1024),
    valueSize: positiveInt('--value-size', raw.valueSize ?? 100, 64 << 20),
    concurrency: positiveInt('--concurrency', raw.concurrency ?? 1, 4096),
    seed: raw.seed ?? 1,
    workloads: raw.workloads && raw.workloads.length ? raw.workloads : DEFAULT_WORKLOADS,
    engines: raw.engines && raw.engines.length ? [...new Set(raw.engines)] : ['stratadb'],
    engineOptions: raw.engineOptions ?? {},
    json: raw.json === true,
    progress: raw.progress === true,
    ...(raw.db !== undefined ? { db: resolve(raw.db) } : {}),
    ...(raw.plot !== undefined ? { plot: resolve(raw.plot) } : {}),
  };
  for (const e of cfg.engines) {
    if (!(ENGINE_NAMES as readonly string[]).includes(e)) throw new UserError(`unknown engine "${e}" (known: ${ENGINE_NAMES.join(', ')})`);
  }
  for (const w of cfg.workloads) {
    try { parseWorkload(w, cfg.concurrency); } catch (e) { throw new UserError((e as Error).message); }
  }
  try { new KeyFormat(cfg.keySize).check(cfg.num); } catch (e) { throw new UserError((e as Error).message); }
  return cfg;
}

/** --db DIR must be absent, empty, or a directory an earlier bench run made (it holds MARKER). */
async function prepareRoot(cfg: BenchConfig): Promise<{ root: string; temporary: boolean }> {
  if (cfg.db === undefined) return { root: await mkdtemp(join(tmpdir(), 'stratadb-bench-')), temporary: true };
  const root = cfg.db;
  if (existsSync(root)) {
    const entries = await readdir(root).catch(() => { throw new UserError(`--db ${root} is not a directory`); });
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new UserError(`--db ${root} is not empty and was not made by stratadb bench (it would be overwritten)`);
    }
  }
  await mkdir(root, { recursive: true });
  await writeFile(join(root, MARKER), 'made by stratadb bench; engine directories below are wiped by each run\n');
  return { root, temporary: false };
}

async function checkDisk(root: string, cfg: BenchConfig): Promise<void> {
  // An engine's directory peaks near 4x the user data (WAL, flushed tables, overwrite's second copy,
  // LevelDB's compaction outputs), and the engines' directories exist side by side.
  const perEngine = 4 * cfg.num * (cfg.keySize + cfg.valueSize + 16) + 64 * 2 ** 20;
  const need = perEngine * cfg.engines.length;
  const s = await statfs(root);
  const free = s.bavail * s.bsize;
  if (free < need) {
    throw new UserError(`not enough free disk at ${root}: about ${(need / 1e9).toFixed(2)} GB needed, ${(free / 1e9).toFixed(2)} GB free (lower --num or use --db DIR elsewhere)`);
  }
}

function machine(): BenchReport['machine'] {
  const c = cpus();
  return { cpus: c.length, cpuModel: c[0]?.model.trim() ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}`, totalMemBytes: totalmem() };
}

export async function runBench(cfg: BenchConfig, onTempDir: (dir: string) => void): Promise<{ report: BenchReport; failed: boolean }> {
  const { root, temporary } = await prepareRoot(cfg);
  if (temporary) onTempDir(root);
  try {
    await checkDisk(root, cfg);
    const display = { bars: cfg.progress && !cfg.json, lines: !cfg.progress && !cfg.json };
    const procs: EngineProcess[] = [];
    for (const engine of cfg.engines) {
      const dir = join(root, engine);
      await rm(dir, { recursive: true, force: true });
      procs.push(new EngineProcess({
        engine, dir, num: cfg.num, reads: cfg.reads, ...(cfg.syncs !== undefined ? { syncs: cfg.syncs } : {}), keySize: cfg.keySize, valueSize: cfg.valueSize,
        concurrency: cfg.concurrency, seed: cfg.seed, workloads: cfg.workloads, engineOptions: cfg.engineOptions,
      }, display));
    }
    const live = [];
    for (const p of procs) if (await p.started()) live.push(p);
    // Turns: each workload on every engine before the next workload, one engine at a time.
    for (let i = 0; i < cfg.workloads.length; i++) {
      for (const p of live) await p.next();
    }
    const engines: EngineRun[] = [];
    for (const p of procs) engines.push(await p.finish());
    const { json: _j, progress: _p, plot: _plot, ...config } = cfg;
    const report: BenchReport = {
      tool: 'stratadb bench', date: new Date().toISOString(), machine: machine(), config, engines,
      comparisons: computeComparisons(engines),
    };
    const ours = engines.find((e) => e.engine === 'stratadb');
    return { report, failed: ours !== undefined && (!ours.available || ours.error !== undefined) };
  } finally {
    if (temporary) await rm(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const viaCommand = typeof process.send === 'function';
  let tempDir: string | undefined;
  const interrupted = (signal: NodeJS.Signals): void => {
    for (const pid of liveChildren) { try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ } }
    void (tempDir ? rm(tempDir, { recursive: true, force: true }) : Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const cfg = resolveConfig(JSON.parse(process.argv[2] ?? '{}') as Partial<BenchConfig>);
    const { report, failed } = await runBench(cfg, (d) => {
      tempDir = d;
      if (viaCommand) void sendToCommand({ type: 'tempdir', path: d });
    });
    tempDir = undefined;
    if (cfg.plot) await writeFile(cfg.plot, renderPlot(report));
    process.stdout.write(cfg.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n');
    if (cfg.plot && !cfg.json) process.stdout.write(`\nplot written to ${cfg.plot}\n`);
    if (failed) process.exitCode = 1;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    if (viaCommand) await sendToCommand({ type: 'user-error', code: 'ERR_INVALID_ARGUMENT', message: e.message });
    else process.stderr.write(`error ERR_INVALID_ARGUMENT: ${e.message}\n`);
    process.exitCode = 2;
  } finally {
    if (viaCommand) process.disconnect();
  }
}

/** Resolves once the message is written to the channel (a disconnect right after may drop it otherwise). */
function sendToCommand(m: object): Promise<void> {
  return new Promise((done) => { process.send!(m, undefined, {}, () => done()); });
}

// Run only as a program, not when imported (a test may import resolveConfig).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
