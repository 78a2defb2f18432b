/**
 * The three-style benchmark's pure parts (bench/styles.ts runs it): the command line, the runs it
 * names and the options each gives the database, the result one run reports, and the markdown it
 * prints. Pure so that test/bench/styles-report.test.ts can check parsing and formatting without
 * running a load.
 */

export const MiB = 1024 * 1024;

/** One measured configuration: a label and the options it opens the database with. */
export interface StyleRun {
  label: string;
  style: 'leveled' | 'tiered' | 'fifo';
  maxSubcompactions: number;
}

/** The labels --runs accepts. */
export const RUN_LABELS = ['leveled', 'tiered', 'fifo', 'leveled-sub2'] as const;

export interface StylesConfig {
  num: number;
  reads: number;
  /** Puts in flight: each of this many writers awaits its put before the next. */
  concurrency: number;
  seed: number;
  fifoCapBytes: number;
  /**
   * Divides writeBufferSize, targetFileSize and maxBytesForLevelBase (defaults 64, 64, 256 MiB) by
   * this: the same keys then make a tree as deep as a database this many times larger would with the
   * defaults (1 = defaults).
   */
  shrink: number;
  runs: StyleRun[];
  /** Where to copy each run's LOG before its database is deleted (undefined: not kept). */
  logDir: string | undefined;
  /** Parent directory of the databases. */
  dir: string | undefined;
}

export function runOf(label: string): StyleRun {
  switch (label) {
    case 'leveled': return { label, style: 'leveled', maxSubcompactions: 1 };
    case 'tiered': return { label, style: 'tiered', maxSubcompactions: 1 };
    case 'fifo': return { label, style: 'fifo', maxSubcompactions: 1 };
    case 'leveled-sub2': return { label, style: 'leveled', maxSubcompactions: 2 };
    default: throw new Error(`--runs: unknown run '${label}' (known: ${RUN_LABELS.join(', ')})`);
  }
}

/** The sizes --shrink divides, at their defaults (src/options.ts). */
const SHRUNK = { writeBufferSize: 64 * MiB, targetFileSize: 64 * MiB, maxBytesForLevelBase: 256 * MiB };

/** The database options of a run (everything else is the default). */
export function runOptions(run: StyleRun, fifoCapBytes: number, shrink = 1): Record<string, unknown> {
  const sizes: Record<string, number> = {};
  if (shrink > 1) for (const [k, v] of Object.entries(SHRUNK)) sizes[k] = Math.floor(v / shrink);
  return {
    ...sizes,
    compactionStyle: run.style,
    ...(run.maxSubcompactions !== 1 ? { maxSubcompactions: run.maxSubcompactions } : {}),
    ...(run.style === 'fifo' ? { fifoMaxTableFilesSize: fifoCapBytes } : {}),
  };
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer, got '${v}'`);
  return n;
}

/** Parses argv (flags after the script); throws a readable Error on an unknown flag or bad value. */
export function parseStylesArgs(argv: readonly string[]): StylesConfig {
  const cfg: StylesConfig = {
    num: 5_000_000, reads: 100_000, concurrency: 32, seed: 1, fifoCapBytes: 256 * MiB, shrink: 1,
    runs: RUN_LABELS.map(runOf), logDir: undefined, dir: undefined,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    if (!flag.startsWith('--')) throw new Error(`unexpected argument '${flag}'`);
    const name = flag.slice(2);
    if (v === undefined) throw new Error(`${flag}: missing value`);
    switch (name) {
      case 'num': cfg.num = positiveInt(name, v); break;
      case 'reads': cfg.reads = positiveInt(name, v); break;
      case 'concurrency': cfg.concurrency = positiveInt(name, v); break;
      case 'seed': cfg.seed = positiveInt(name, v); break;
      case 'fifo-cap-mib': cfg.fifoCapBytes = positiveInt(name, v) * MiB; break;
      case 'shrink': cfg.shrink = positiveInt(name, v); break;
      case 'runs': cfg.runs = v.split(',').filter((x) => x !== '').map(runOf); break;
      case 'log-dir': cfg.logDir = v; break;
      case 'dir': cfg.dir = v; break;
      default: throw new Error(`unknown flag ${flag}`);
    }
  }
  if (cfg.runs.length === 0) throw new Error('--runs: no run named');
  return cfg;
}

/** What one run's child process reports. Bytes are bytes, times ms unless named otherwise. */
export interface StyleResult {
  label: string;
  num: number;
  /** Distinct keys written (the live data at the end is distinctKeys x 116 bytes). */
  distinctKeys: number;
  fillSeconds: number;
  perSecond: number[];
  /** Wall time from the end of the fill until compactions had settled. */
  settleSeconds: number;
  ioWriteBytes: number;
  userBytes: number;
  statsWriteAmp: number;
  diskBytesEnd: number;
  diskBytesMax: number;
  /** The most bytes the live tables held at a once-a-second sample (what fifoMaxTableFilesSize caps). */
  tableBytesMax: number;
  /** The directory after compactRange() at the very end (absent for FIFO, which does not merge). */
  compactedBytes?: number;
  stallMs: number;
  loopP99Ms: number;
  loopMaxMs: number;
  reads: number;
  found: number;
  readSeconds: number;
  readP99Us: number;
  levels: string;
  sortedRuns: number;
  fifoDrops: { count: number; files: number; bytes: number };
  compactions: { count: number; bytesRead: number; bytesWritten: number; ms: number };
  /** Table bytes flushes wrote: the tree's input, against which RocksDB's W-Amp counts (WAL excluded). */
  flushBytes: number;
  subcompactions: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Flatness of a throughput series: the median of its second half over that of its first (1 = flat,
 * below 1 = slowing down as the database grows). 0 for fewer than two seconds.
 */
export function halfRatio(series: readonly number[]): number {
  if (series.length < 2) return 0;
  const h = Math.floor(series.length / 2);
  const first = median(series.slice(0, h));
  return first > 0 ? median(series.slice(h)) / first : 0;
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const mib = (b: number): string => fmt(b / MiB, 0);

/** Live data at the end: each distinct key's latest 16 B key and 100 B value. */
export function liveBytes(r: Pick<StyleResult, 'distinctKeys'>): number { return r.distinctKeys * 116; }

/** Bytes read by compactions per second of compaction time (0 when none ran). */
export function compactionMBps(r: Pick<StyleResult, 'compactions'>): number {
  return r.compactions.ms > 0 ? r.compactions.bytesRead / MiB / (r.compactions.ms / 1000) : 0;
}

/** The main table: one row per run. */
export function formatTable(results: readonly StyleResult[]): string {
  const lines = [
    '| run | fill ops/s | per-second min / median / max | 2nd half / 1st half | WA (/proc io) | WA (stats) | space amp: disk / live | disk / compacted | disk end / max MiB | tables max MiB | stall ms | loop p99 / max ms | settle s | readrandom ops/s | read p99 µs | found | tables per level | sorted runs | FIFO drops (files, MiB) |',
    '|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---|---:|---|',
  ];
  for (const r of results) {
    const ps = r.perSecond.length ? `${fmt(Math.min(...r.perSecond))} / ${fmt(median(r.perSecond))} / ${fmt(Math.max(...r.perSecond))}` : '-';
    const drops = r.fifoDrops.count > 0 ? `${r.fifoDrops.count} (${r.fifoDrops.files}, ${mib(r.fifoDrops.bytes)})` : '0';
    lines.push(`| ${r.label} | ${fmt(r.num / r.fillSeconds)} | ${ps} | ${halfRatio(r.perSecond).toFixed(2)} | ` +
      `${(r.ioWriteBytes / r.userBytes).toFixed(2)} | ${r.statsWriteAmp.toFixed(2)} | ${(r.diskBytesEnd / liveBytes(r)).toFixed(2)} | ${r.compactedBytes ? (r.diskBytesEnd / r.compactedBytes).toFixed(2) : '-'} | ` +
      `${mib(r.diskBytesEnd)} / ${mib(r.diskBytesMax)} | ${mib(r.tableBytesMax)} | ${fmt(r.stallMs)} | ${r.loopP99Ms.toFixed(1)} / ${r.loopMaxMs.toFixed(1)} | ` +
      `${r.settleSeconds.toFixed(1)} | ${fmt(r.reads / r.readSeconds)} | ${fmt(r.readP99Us)} | ${(r.found / r.reads).toFixed(3)} | ` +
      `${r.levels || '-'} | ${r.sortedRuns} | ${drops} |`);
  }
  return lines.join('\n');
}

/** The compaction table: how much each run compacted and how fast, subcompactions included. */
export function formatCompactionTable(results: readonly StyleResult[]): string {
  const lines = [
    '| run | compactions | MiB read / written | MiB flushed | tree WA: (flush + compaction) / flush | compaction time s | MiB read per compaction-second | subcompaction pieces | fill s |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const c = r.compactions;
    const treeWa = r.flushBytes > 0 ? ((r.flushBytes + c.bytesWritten) / r.flushBytes).toFixed(2) : '-';
    lines.push(`| ${r.label} | ${c.count} | ${mib(c.bytesRead)} / ${mib(c.bytesWritten)} | ${mib(r.flushBytes)} | ${treeWa} | ${(c.ms / 1000).toFixed(1)} | ` +
      `${compactionMBps(r).toFixed(1)} | ${r.subcompactions} | ${r.fillSeconds.toFixed(1)} |`);
  }
  return lines.join('\n');
}
