/**
 * What one step of the scale run reports (scale-child.ts fills it in) and the markdown made of those
 * reports: one table per engine with a row per step, StrataDB's read-path counters, the lines saying
 * where and why an engine stopped, and the splice that puts the generated part into
 * bench/RESULTS-scale.md between two markers, keeping the written explanation around it.
 * Pure: test/bench/scale-report.test.ts checks the cells and the splice without running anything.
 */
import type { MemoryBudgetStatus } from './scale-engines.js';
import { MiB } from './scale-args.js';
import { sizeText } from './scale-plan.js';

export interface LatencyFigures { ops: number; seconds: number; p50Us: number; p99Us: number; maxUs: number }

/** One step of one engine; bytes are bytes, times ms unless named otherwise. */
export interface StepResult {
  engine: string;
  step: number;
  /** The --steps figure this step ends at, and the user bytes (keys x (key + value)) actually live then. */
  targetBytes: number;
  userBytes: number;
  stepUserBytes: number;
  keys: number;
  stepKeys: number;
  memoryBudget: MemoryBudgetStatus;
  /** Opening the database the previous step left (0 keys for the first step). */
  openBeforeMs: number;
  load: { batchKeys: number; batchSeconds: number; randomKeys: number; randomSeconds: number };
  readrandom: LatencyFigures & { found: number };
  seekrandom: LatencyFigures;
  /** close() right after the reads: StrataDB's waits for the compactions the load left owing. */
  closeMs: number;
  /** close(), then DB.open timed: what an application pays to open this database. */
  openMs: number;
  /** The directory after close(). */
  dirBytes: number;
  /** /proc/<pid>/io write_bytes of the step's child process: every byte it had the kernel write. */
  ioWriteBytes: number;
  baselineRssBytes: number;
  peakRssBytes: number;
  rssAfterCloseBytes: number;
  levels: string;
  /** During readrandom (StrataDB only): block cache hit rate, filter negatives / checks, per get. */
  reads?: { cacheLookups: number; cacheHitRate: number; filterUsefulRate: number; filterChecksPerGet: number; tablesSearchedPerGet: number };
  /** stats().memory at the end of the load (before the reads fill the block cache). */
  memory?: Record<string, number>;
  /** Wall time of the step's child process (set by the parent). */
  childSeconds: number;
}

export const loadSeconds = (r: StepResult): number => r.load.batchSeconds + r.load.randomSeconds;
export const loadOpsPerSec = (r: StepResult): number => (loadSeconds(r) > 0 ? r.stepKeys / loadSeconds(r) : 0);
export const loadMBps = (r: StepResult): number => (loadSeconds(r) > 0 ? r.stepUserBytes / MiB / loadSeconds(r) : 0);
export const opsPerSec = (f: LatencyFigures): number => (f.seconds > 0 ? f.ops / f.seconds : 0);
export const spaceAmp = (r: StepResult): number => (r.userBytes > 0 ? r.dirBytes / r.userBytes : 0);
export const stepWriteAmp = (r: StepResult): number => (r.stepUserBytes > 0 ? r.ioWriteBytes / r.stepUserBytes : 0);

/** Bytes written by this engine's steps up to and including row i, over the user bytes then. */
export function cumulativeWriteAmp(rows: readonly StepResult[], i: number): number {
  let written = 0;
  for (let j = 0; j <= i; j++) written += rows[j]!.ioWriteBytes;
  const user = rows[i]?.userBytes ?? 0;
  return user > 0 ? written / user : 0;
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const mib = (b: number): string => fmt(b / MiB);
const phaseRate = (keys: number, s: number): string => (keys > 0 && s > 0 ? fmt(keys / s) : '-');

/** The main table of one engine: a row per step. */
export function formatEngineTable(rows: readonly StepResult[]): string {
  const lines = [
    '| user data | keys | load ops/s | load MiB/s | fillbatch ops/s | fillrandom ops/s | readrandom ops/s | get p50 / p99 / max µs | seekrandom ops/s | seek p99 µs | close ms | open ms | space amp | WA step | WA total | peak RSS MiB | RSS after close MiB | tables per level |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  rows.forEach((r, i) => {
    const rr = r.readrandom;
    lines.push(`| ${sizeText(r.targetBytes)} | ${fmt(r.keys)} | ${fmt(loadOpsPerSec(r))} | ${fmt(loadMBps(r), 1)} | ` +
      `${phaseRate(r.load.batchKeys, r.load.batchSeconds)} | ${phaseRate(r.load.randomKeys, r.load.randomSeconds)} | ` +
      `${fmt(opsPerSec(rr))} | ${fmt(rr.p50Us, 1)} / ${fmt(rr.p99Us, 1)} / ${fmt(rr.maxUs)} | ${fmt(opsPerSec(r.seekrandom))} | ${fmt(r.seekrandom.p99Us, 1)} | ` +
      `${fmt(r.closeMs)} | ${fmt(r.openMs, 1)} | ${spaceAmp(r).toFixed(2)} | ${stepWriteAmp(r).toFixed(2)} | ${cumulativeWriteAmp(rows, i).toFixed(2)} | ` +
      `${mib(r.peakRssBytes)} | ${mib(r.rssAfterCloseBytes)} | ${r.levels || '-'} |`);
  });
  return lines.join('\n');
}

/** StrataDB's read path per step: why readrandom costs what it costs, and its memory parts. */
export function formatReadPathTable(rows: readonly StepResult[]): string {
  const withReads = rows.filter((r) => r.reads);
  if (withReads.length === 0) return '';
  const parts = [...new Set(withReads.flatMap((r) => Object.keys(r.memory ?? {})))];
  const lines = [
    `| user data | cache hit rate | bloom useful (negatives / checks) | filter checks per get | tables searched per get | memoryBudget |${parts.map((p) => ` memory.${p} MiB after the load |`).join('')}`,
    `|---|---:|---:|---:|---:|---|${parts.map(() => '---:|').join('')}`,
  ];
  for (const r of withReads) {
    const x = r.reads!;
    // No block looked up (every key still in a memtable) or no filter probed: no rate to give.
    const hit = x.cacheLookups > 0 ? x.cacheHitRate.toFixed(3) : '-';
    const useful = x.filterChecksPerGet > 0 ? x.filterUsefulRate.toFixed(3) : '-';
    lines.push(`| ${sizeText(r.targetBytes)} | ${hit} | ${useful} | ${x.filterChecksPerGet.toFixed(2)} | ` +
      `${x.tablesSearchedPerGet.toFixed(2)} | ${r.memoryBudget} |${parts.map((p) => ` ${r.memory?.[p] !== undefined ? mib(r.memory[p]!) : '-'} |`).join('')}`);
  }
  return lines.join('\n');
}

export interface ScaleRunInfo {
  label: string;
  command: string;
  date: string;
  machine: string;
  workload: string;
  stops: string[];
  svgFiles: string[];
}

export const BEGIN_MARK = '<!-- scale-run:begin (generated by npm run bench:scale; edit outside the markers) -->';
export const END_MARK = '<!-- scale-run:end -->';

/** The generated block: run, command, machine, per-engine tables, stops and the SVG images. */
export function formatScaleBlock(info: ScaleRunInfo, results: readonly StepResult[]): string {
  const out = [BEGIN_MARK, '', `### Run: ${info.label || '(unlabelled)'}`, '', `- command: \`${info.command}\``, `- date: ${info.date}`,
    `- machine: ${info.machine}`, `- workload: ${info.workload}`];
  for (const s of info.stops) out.push(`- ${s}`);
  const engines = [...new Set(results.map((r) => r.engine))];
  for (const e of engines) {
    const rows = results.filter((r) => r.engine === e);
    out.push('', `#### ${e}`, '', formatEngineTable(rows));
    const rp = formatReadPathTable(rows);
    if (rp) out.push('', rp);
  }
  if (info.svgFiles.length > 0) out.push('', ...info.svgFiles.map((f) => `![${f}](${f})`));
  out.push('', END_MARK);
  return out.join('\n');
}

/**
 * Puts `block` in place of the text between the markers of `existing`; with no file, or a file
 * without both markers, the block is appended so that nothing written by hand is lost.
 */
export function spliceBlock(existing: string | undefined, block: string): string {
  if (existing === undefined || existing.trim() === '') return `# Scale run: StrataDB and classic-level as the database grows\n\n${block}\n`;
  const b = existing.indexOf(BEGIN_MARK);
  const e = existing.indexOf(END_MARK);
  if (b < 0 || e < b) return `${existing.replace(/\n*$/, '\n\n')}${block}\n`;
  return existing.slice(0, b) + block + existing.slice(e + END_MARK.length);
}
