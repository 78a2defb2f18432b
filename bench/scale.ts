/**
 * `npm run bench:scale`: StrataDB and classic-level loaded in steps of user data (default 1, 5, 10,
 * 50 GiB), measured after each step (load throughput, readrandom and seekrandom ops/s and latency,
 * open time, space and write amplification, peak RSS, tables per level, StrataDB's cache and filter
 * rates), drawn as SVG curves and written to bench/RESULTS-scale.md.
 * Each step of each engine runs in a child process of its own (scale-child.ts), on the database the
 * engine's previous step left; engines run one after the other, so one database exists at a time.
 * Before each step: the disk check (scale-plan.ts diskFit) and, for classic-level, the time budget.
 * The databases live in a fresh directory under --dir (default os.tmpdir()), removed at the end,
 * on a failed step and on Ctrl-C. Flags: bench/scale-args.ts; README "Scale". The run's figures are
 * saved in scale-results.json beside the report, from which --from-json redraws it without running;
 * while it runs, each finished step is saved at once in scale-results.partial.json (a run stopped
 * part-way keeps its figures).
 * Uses only the public API (src/index.ts) through scale-engines.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, parseScaleArgs, type ScaleConfig } from './scale-args.js';
import type { ChildArgs } from './scale-child.js';
import { budgetCheck, budgetStopLine, diskFit, diskStopLine, planSteps, sizeText, type StepTime } from './scale-plan.js';
import { scaleFigures } from './scale-plot.js';
import { formatScaleBlock, loadOpsPerSec, opsPerSec, spliceBlock, type ScaleRunInfo, type StepResult } from './scale-report.js';
import { dirBytes, runJsonChild } from './sustained-probes.js';

const log = (line: string): void => { process.stderr.write(`${line}\n`); };

function freeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/** Runs every step of one engine; returns its rows, and pushes the reason it stopped early (if it did). */
async function runEngine(engine: string, cfg: ScaleConfig, root: string, stops: string[], onStep: (r: StepResult) => void): Promise<StepResult[]> {
  const dir = join(root, engine);
  mkdirSync(dir);
  const childScript = fileURLToPath(new URL('./scale-child.js', import.meta.url));
  const rows: StepResult[] = [];
  let prev: StepTime | undefined;
  let used = 0;
  try {
    for (const step of planSteps(cfg.steps, cfg.keySize, cfg.valueSize)) {
      const fit = diskFit(step.targetBytes, dirBytes(dir), freeBytes(root), cfg.spaceAllowance);
      if (!fit.fits) { stops.push(diskStopLine(engine, step.targetBytes, fit, cfg.spaceAllowance)); break; }
      const stepBytes = (step.endKey - step.firstKey) * (cfg.keySize + cfg.valueSize);
      if (engine === 'classic-level') {
        const check = budgetCheck(prev, stepBytes, used, cfg.budgetMin);
        if (!check.runs) { stops.push(budgetStopLine(engine, step.targetBytes, check, used, cfg.budgetMin)); break; }
      }
      log(`${engine}: step ${step.index + 1}/${cfg.steps.length}, to ${sizeText(step.targetBytes)} (${step.endKey - step.firstKey} new keys)...`);
      const args: ChildArgs = {
        engine, dir, step: step.index, targetBytes: step.targetBytes, firstKey: step.firstKey, endKey: step.endKey,
        keySize: cfg.keySize, valueSize: cfg.valueSize, load: cfg.load, batchSize: cfg.batchSize, concurrency: cfg.concurrency,
        reads: cfg.reads, seeks: cfg.seeks, seed: cfg.seed, memoryBudget: cfg.memoryBudget, strataOptions: cfg.strataOptions,
      };
      const t0 = performance.now();
      let r: StepResult;
      try {
        r = await runJsonChild<StepResult>(childScript, [JSON.stringify(args)], `${engine} ${sizeText(step.targetBytes)}`);
      } catch (e) {
        stops.push(`${engine}: the ${sizeText(step.targetBytes)} step failed: ${(e as Error).message}`);
        break;
      }
      r.childSeconds = (performance.now() - t0) / 1000;
      rows.push(r);
      onStep(r);
      prev = { stepBytes, seconds: r.childSeconds };
      used += r.childSeconds;
      log(`${engine}: ${sizeText(step.targetBytes)}: load ${Math.round(loadOpsPerSec(r))} ops/s, readrandom ${Math.round(opsPerSec(r.readrandom))} ops/s ` +
        `(p99 ${r.readrandom.p99Us.toFixed(0)} µs), open ${r.openMs.toFixed(0)} ms, peak RSS ${Math.round(r.peakRssBytes / MiB)} MiB, ${r.childSeconds.toFixed(0)} s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
  return rows;
}

function workloadText(cfg: ScaleConfig): string {
  const load = cfg.load === 'mixed'
    ? `each step's new keys: first half fillbatch (${cfg.batchSize} per batch), second half fillrandom (${cfg.concurrency} awaited puts in flight)`
    : cfg.load === 'batch' ? `fillbatch (${cfg.batchSize} per batch)` : `fillrandom (${cfg.concurrency} awaited puts in flight)`;
  return `${cfg.keySize} B keys (distinct, random order), ${cfg.valueSize} B half-compressible values; ${load}; then ${cfg.reads} readrandom gets and ` +
    `${cfg.seeks} seekrandom (seek + 10 next), ${cfg.concurrency} in flight, over every key so far; default options` +
    `${cfg.memoryBudget !== undefined ? `, StrataDB memoryBudget ${sizeText(cfg.memoryBudget)}` : ''}` +
    `${Object.keys(cfg.strataOptions).length > 0 ? `, StrataDB options ${JSON.stringify(cfg.strataOptions)}` : ''}; disk allowance ${cfg.spaceAllowance} x user data; classic-level budget ${cfg.budgetMin} min`;
}

/** A shell-ready rendering of the command line (arguments with spaces or quotes quoted). */
function commandText(argv: readonly string[]): string {
  const q = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return ['npm run bench:scale --', ...argv.map(q)].join(' ');
}

/** What a run saved (scale-results.json): enough to redraw its report with --from-json. */
interface SavedRun { info: ScaleRunInfo; config: ScaleConfig; results: StepResult[] }

/** Writes RESULTS-scale.md (the generated block spliced in), the SVG files and the JSON into `out`. */
function writeReport(out: string, saved: SavedRun): void {
  const figures = scaleFigures(saved.results);
  const block = formatScaleBlock({ ...saved.info, svgFiles: Object.keys(figures) }, saved.results);
  mkdirSync(out, { recursive: true });
  const md = join(out, 'RESULTS-scale.md');
  writeFileSync(md, spliceBlock(existsSync(md) ? readFileSync(md, 'utf8') : undefined, block));
  for (const [name, svg] of Object.entries(figures)) writeFileSync(join(out, name), svg);
  writeFileSync(join(out, 'scale-results.json'), JSON.stringify(saved, null, 1) + '\n');
  log(`wrote ${md}, ${Object.keys(figures).join(', ')} and scale-results.json in ${out}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const cfg = parseScaleArgs(argv);
  if (cfg.fromJson !== undefined) {
    writeReport(cfg.out === '-' ? 'bench' : cfg.out, JSON.parse(readFileSync(cfg.fromJson, 'utf8')) as SavedRun);
    return;
  }
  const root = mkdtempSync(join(cfg.dir ?? tmpdir(), 'strata-bench-scale-'));
  const cleanup = (): void => { rmSync(root, { recursive: true, force: true, maxRetries: 3 }); };
  // Ctrl-C reaches the step's child too (same process group): it dies, and so does the directory.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { log(`\n${sig}: removing ${root}`); cleanup(); process.exit(130); });
  const c = cpus();
  const machine = `${c.length} cores (${c[0]?.model.trim() ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ` +
    `${sizeText(freeBytes(root))} free at ${cfg.dir ?? tmpdir()} at the start`;
  const stops: string[] = [];
  const results: StepResult[] = [];
  // Each finished step is saved at once, so a run stopped part-way (Ctrl-C, a crash) keeps its figures:
  // --from-json redraws the report from the partial file.
  const partial = cfg.out === '-' ? undefined : join(cfg.out, 'scale-results.partial.json');
  const done: StepResult[] = [];
  const onStep = (r: StepResult): void => {
    done.push(r);
    if (partial === undefined) return;
    mkdirSync(cfg.out, { recursive: true });
    const info: ScaleRunInfo = { label: `${cfg.label} (partial: ${done.length} steps)`, command: commandText(argv), date: new Date().toISOString(), machine, workload: workloadText(cfg), stops: [...stops], svgFiles: [] };
    writeFileSync(partial, JSON.stringify({ info, config: cfg, results: done } satisfies SavedRun, null, 1) + '\n');
  };
  try {
    for (const engine of cfg.engines) results.push(...await runEngine(engine, cfg, root, stops, onStep));
  } finally {
    cleanup();
  }
  const budgetStatus = results.find((r) => r.engine === 'stratadb')?.memoryBudget;
  if (budgetStatus === 'not available') stops.push('memoryBudget not available: this build\'s options refuse it, so StrataDB ran with its default sizes');
  for (const s of stops) log(s);
  const info: ScaleRunInfo = {
    label: cfg.label, command: commandText(argv), date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine, workload: workloadText(cfg), stops, svgFiles: [],
  };
  if (cfg.out === '-') console.log(formatScaleBlock(info, results));
  else {
    writeReport(cfg.out, { info, config: cfg, results });
    rmSync(join(cfg.out, 'scale-results.partial.json'), { force: true });
  }
}

main().catch((e: unknown) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
