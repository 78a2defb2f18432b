/**
 * The tiered compaction picker (RocksDB's universal compaction): pure, plain data in, a plan out, no I/O.
 *
 * Sorted runs: each L0 table is one run (newest first, the order a Version keeps L0), then each
 * non-empty level L1+ is one run, shallower ones newer. The age order is the invariant this picker
 * keeps: every version in a run is newer than every version of the same key in any later run.
 *
 * Nothing happens below level0CompactionTrigger runs. From there, RocksDB's order:
 *  1. space amplification: the newest run not busy and every older one, when (their size without the
 *     oldest run) / (the oldest run) x 100 > maxSizeAmplificationPercent: everything merges into the
 *     last level. Needs every run from that start to the oldest to be free.
 *  2. size ratio: from each free run in turn (newest first), the next older run joins while its size
 *     <= (size taken so far) x (100 + sizeRatio) / 100, up to maxMergeWidth runs (0 = no limit);
 *     the first start that gathers minMergeWidth (at least 2) runs wins.
 *  3. run count: more than level0CompactionTrigger free runs: the first free stretch of
 *     (free runs - trigger + 1) consecutive runs merges whatever their sizes (RocksDB's read-amp pick).
 * Only consecutive runs merge, so no run is skipped over. The output goes to the last level when the
 * merge takes the oldest run; otherwise just above the next older run: L0 when that run is an L0 table
 * (the output's sequence numbers then sort it between its newer and older neighbours), else the level
 * above it, which is empty or the last level merged (levels between two runs hold nothing). So a newer
 * version never lands below an older one. Levels strictly between the first and the output level go
 * in plan.middleInputs.
 * Tombstones: plan.deeperRanges lists every file of every older run (older L0 tables included, which
 * leveled plans never need), so a tombstone drops only where nothing older can hold its key.
 * Busy files (compactions in flight) make their whole run busy; runs in flight are never merged again.
 */
import { TRAILER_SIZE } from '../src/base/internal-key.js';
import { compareByteRanges } from '../src/base/bytes.js';
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { Levels } from './picker.js';
import type { CompactionPlan } from './plan.js';

export interface TieredOptions {
  numLevels: number;
  /** Runs from which tiered compaction starts; the run-count pick keeps at most this many. */
  level0CompactionTrigger: number;
  sizeRatio: number;
  minMergeWidth: number;
  /** 0: no limit. */
  maxMergeWidth: number;
  maxSizeAmplificationPercent: number;
}

export interface TieredInput {
  levels: Levels;
  options: TieredOptions;
  busy: ReadonlySet<number>;
}

/** One sorted run: an L0 table, or a whole level L1+. */
export interface SortedRun {
  level: number;
  files: readonly FileMetadata[];
  bytes: number;
  isBusy: boolean;
}

/** The sorted runs of `levels`, newest first. */
export function sortedRuns(levels: Levels, busy: ReadonlySet<number> = new Set()): SortedRun[] {
  const runs: SortedRun[] = [];
  for (const f of levels[0] ?? []) runs.push({ level: 0, files: [f], bytes: f.fileSize, isBusy: busy.has(f.fileNumber) });
  for (let level = 1; level < levels.length; level++) {
    const files = levels[level] ?? [];
    if (files.length === 0) continue;
    let bytes = 0;
    let isBusy = false;
    for (const f of files) { bytes += f.fileSize; if (busy.has(f.fileNumber)) isBusy = true; }
    runs.push({ level, files, bytes, isBusy });
  }
  return runs;
}

/** The number of sorted runs: what tiered compaction bounds, and what its write stalls count. */
export function sortedRunCount(levels: Levels): number {
  let n = (levels[0] ?? []).length;
  for (let level = 1; level < levels.length; level++) if ((levels[level] ?? []).length > 0) n++;
  return n;
}

function userKey(ikey: Uint8Array): Uint8Array {
  return ikey.subarray(0, ikey.length - TRAILER_SIZE);
}

/** The user-key ranges of `files`, sorted by smallest: CompactionPlan.deeperRanges. */
export function keyRanges(files: readonly FileMetadata[]): { smallest: Uint8Array; largest: Uint8Array }[] {
  return files.map((f) => ({ smallest: userKey(f.smallest), largest: userKey(f.largest) }))
    .sort((a, b) => compareByteRanges(a.smallest, 0, a.smallest.length, b.smallest, 0, b.smallest.length));
}

/**
 * The plan merging runs[start, end) (consecutive, none busy): output level, inputs by level and the
 * key ranges of every older run.
 */
export function planForRuns(
  runs: readonly SortedRun[], start: number, end: number, numLevels: number,
  reason: CompactionPlan['reason'], score: number,
): CompactionPlan {
  const last = numLevels - 1;
  const next = runs[end];
  const outputLevel = next === undefined ? last : next.level === 0 ? 0 : next.level - 1;
  const level = runs[start]!.level;
  const l0: FileMetadata[] = [];
  const byLevel = new Map<number, FileMetadata[]>();
  for (let i = start; i < end; i++) {
    const r = runs[i]!;
    if (r.level === 0) l0.push(...r.files);
    else byLevel.set(r.level, [...r.files]);
  }
  const inputs0 = level === 0 ? l0 : byLevel.get(level)!;
  const inputs1 = outputLevel !== level ? byLevel.get(outputLevel) ?? [] : [];
  const middleInputs = [...byLevel.entries()]
    .filter(([l]) => l !== level && l !== outputLevel)
    .sort((a, b) => a[0] - b[0])
    .map(([l, files]) => ({ level: l, files }));
  const deeperRanges = keyRanges(runs.slice(end).flatMap((r) => r.files));
  return {
    level, outputLevel, inputs: [inputs0, inputs1],
    ...(middleInputs.length > 0 ? { middleInputs } : {}),
    grandparents: [], deeperRanges, isTrivialMove: false, reason, score, compactPointer: undefined,
  };
}

/** Step 1: the space-amplification pick, or undefined. */
function pickSizeAmp(runs: readonly SortedRun[], o: TieredOptions): CompactionPlan | undefined {
  let start = runs.length;
  while (start > 0 && !runs[start - 1]!.isBusy) start--;
  if (runs.length - start < 2) return undefined;
  let candidate = 0;
  for (let i = start; i < runs.length - 1; i++) candidate += runs[i]!.bytes;
  const base = runs[runs.length - 1]!.bytes;
  if (candidate * 100 <= o.maxSizeAmplificationPercent * base) return undefined;
  const amp = base > 0 ? candidate / base : Infinity;
  return planForRuns(runs, start, runs.length, o.numLevels, 'size-amp', Number.isFinite(amp) ? amp : 0);
}

/**
 * Steps 2 and 3: consecutive free runs from the first start that gathers at least minMergeWidth of
 * them, each next run joining while its size <= taken x (100 + ratio) / 100, at most `maxRuns`.
 */
function pickByRatio(
  runs: readonly SortedRun[], o: TieredOptions, ratio: number, maxRuns: number, reason: CompactionPlan['reason'],
): CompactionPlan | undefined {
  const minWidth = Math.max(2, o.minMergeWidth);
  for (let start = 0; start < runs.length; start++) {
    if (runs[start]!.isBusy) continue;
    let taken = runs[start]!.bytes;
    let end = start + 1;
    while (end < runs.length && end - start < maxRuns) {
      const r = runs[end]!;
      if (r.isBusy || taken * ((100 + ratio) / 100) < r.bytes) break;
      taken += r.bytes;
      end++;
    }
    if (end - start >= minWidth) return planForRuns(runs, start, end, o.numLevels, reason, runs.length / o.level0CompactionTrigger);
  }
  return undefined;
}

/** The next tiered compaction, or undefined (below the trigger, or nothing qualifies). */
export function pickTiered(input: TieredInput): CompactionPlan | undefined {
  const o = input.options;
  const runs = sortedRuns(input.levels, input.busy);
  if (runs.length < o.level0CompactionTrigger || runs.length < 2) return undefined;
  const maxWidth = o.maxMergeWidth > 0 ? o.maxMergeWidth : Infinity;
  const amp = pickSizeAmp(runs, o);
  if (amp) return amp;
  const ratio = pickByRatio(runs, o, o.sizeRatio, maxWidth, 'size-ratio');
  if (ratio) return ratio;
  const free = runs.filter((r) => !r.isBusy).length;
  if (free <= o.level0CompactionTrigger) return undefined;
  return pickByRatio(runs, { ...o, minMergeWidth: 2 }, Infinity, Math.min(maxWidth, free - o.level0CompactionTrigger + 1), 'run-count');
}

/**
 * Every run merged into one at the last level (compactRange in the tiered style), or undefined when
 * there is at most one run already at the last level, or any run is busy (the caller waits).
 */
export function pickTieredAll(input: TieredInput): CompactionPlan | undefined {
  const runs = sortedRuns(input.levels, input.busy);
  if (runs.length === 0 || runs.some((r) => r.isBusy)) return undefined;
  if (runs.length === 1 && runs[0]!.level === input.options.numLevels - 1) return undefined;
  return planForRuns(runs, 0, runs.length, input.options.numLevels, 'manual', 0);
}
