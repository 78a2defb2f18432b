/**
 * The leveled compaction picker (LevelDB/RocksDB): pure, plain data in, a plan out, no I/O.
 *
 * Scores: L0 by file count over level0CompactionTrigger (L0 files overlap, so each one costs every
 * read a probe); L1+ by bytes over the level's target. Targets are static (maxBytesForLevelBase x
 * levelMultiplier^(L-1)) or, with levelCompactionDynamicLevelBytes, RocksDB's dynamic sizing: the
 * last level's actual size sets the targets of the levels above it, divided by the multiplier per
 * level, and L0 compacts straight into the first level whose target is at least the base
 * (so write amplification stays near the ideal for a given database size while the database grows).
 * The highest score >= 1 wins; levels with a compaction in flight are not picked when it would touch
 * the same files (several compactions run at once when their inputs and outputs do not overlap).
 *
 * Inputs: L0 takes every L0 file not being compacted (they overlap each other; a partial pick would
 * leave newer versions above older ones). L1+ takes one file, the first after the level's round-robin
 * cursor (compact pointer), so the same files are not always chosen. Then the overlapping files of
 * the output level. In L1+ a user key never straddles two files (manifest invariant), so inputs are
 * whole user keys by construction. A single L1+ input with no overlap below and little grandparent
 * overlap is a trivial move (the file is relinked one level down, not rewritten).
 *
 * Range tombstones (RocksDB's deletion-triggered compaction): when no level scores >= 1, an L1+ file
 * above the last level that holds range tombstones (FileMetadata.numRangeDeletions) is compacted
 * down when the next level's files lying wholly inside its key range (the estimate of what its
 * tombstones cover) make up at least half the bytes the compaction would read there: a level full
 * of covered data is reclaimed even though no level is over its size. The file with the largest
 * estimate goes first. Tombstones move down a level per compaction and are dropped at the bottom,
 * so this ends.
 */
import { compareByteRanges } from '../src/base/bytes.js';
import { compareInternalKeys, TRAILER_SIZE } from '../src/base/internal-key.js';
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { CompactionPlan } from './plan.js';

export type Levels = readonly (readonly FileMetadata[])[];

export interface PickerOptions {
  numLevels: number;
  level0CompactionTrigger: number;
  maxBytesForLevelBase: number;
  levelMultiplier: number;
  targetFileSize: number;
  levelCompactionDynamicLevelBytes: boolean;
}

export interface PickerInput {
  levels: Levels;
  options: PickerOptions;
  /** Per level: the largest internal key of the last compaction's inputs (round-robin cursor). */
  compactPointers: readonly (Uint8Array | undefined)[];
  /** Files that are inputs or outputs of compactions in flight. */
  busy: ReadonlySet<number>;
}

export interface LevelScore { level: number; score: number }

function userKey(ikey: Uint8Array): Uint8Array {
  return ikey.subarray(0, ikey.length - TRAILER_SIZE);
}

function cmpUser(a: Uint8Array, b: Uint8Array): number {
  return compareByteRanges(a, 0, a.length, b, 0, b.length);
}

function levelBytes(files: readonly FileMetadata[]): number {
  let n = 0;
  for (const f of files) n += f.fileSize;
  return n;
}

/** Target bytes per level (index 0 unused: L0 is scored by file count). */
export function levelTargets(levels: Levels, o: PickerOptions): number[] {
  const targets = new Array<number>(o.numLevels).fill(0);
  if (!o.levelCompactionDynamicLevelBytes) {
    for (let l = 1; l < o.numLevels; l++) targets[l] = o.maxBytesForLevelBase * o.levelMultiplier ** (l - 1);
    return targets;
  }
  // Dynamic: the last level holds what it holds; each level above is a multiplier smaller, down to
  // the base; levels whose target would fall below the base stay empty (target 0 -> never a target
  // of L0 output), and the first level at or above the base receives L0's output.
  const last = o.numLevels - 1;
  let size = Math.max(levelBytes(levels[last] ?? []), o.maxBytesForLevelBase);
  for (let l = last; l >= 1; l--) {
    targets[l] = size;
    size = size / o.levelMultiplier;
    if (size < o.maxBytesForLevelBase) {
      for (let m = l - 1; m >= 1; m--) targets[m] = 0;
      break;
    }
  }
  return targets;
}

/** The level L0 compacts into: L1 with static sizing; the first level with a target otherwise. */
export function baseLevel(levels: Levels, o: PickerOptions): number {
  if (!o.levelCompactionDynamicLevelBytes) return 1;
  const targets = levelTargets(levels, o);
  for (let l = 1; l < o.numLevels; l++) {
    if (targets[l]! > 0 || (levels[l]?.length ?? 0) > 0) return l;
  }
  return o.numLevels - 1;
}

export function levelScores(levels: Levels, o: PickerOptions, busy: ReadonlySet<number> = new Set()): LevelScore[] {
  const targets = levelTargets(levels, o);
  const scores: LevelScore[] = [];
  const l0 = (levels[0] ?? []).filter((f) => !busy.has(f.fileNumber));
  scores.push({ level: 0, score: l0.length / o.level0CompactionTrigger });
  for (let l = 1; l < o.numLevels - 1; l++) {
    const t = targets[l]!;
    let bytes = 0;
    for (const f of levels[l] ?? []) if (!busy.has(f.fileNumber)) bytes += f.fileSize;
    // A level with no target (dynamic sizing, above the base) must drain if it holds anything.
    scores.push({ level: l, score: t > 0 ? bytes / t : (bytes > 0 ? 1 + bytes / o.maxBytesForLevelBase : 0) });
  }
  scores.push({ level: o.numLevels - 1, score: 0 });
  return scores;
}

/** User-key range [smallest, largest] of files. REQUIRES: files non-empty. */
function range(files: readonly FileMetadata[]): [Uint8Array, Uint8Array] {
  let lo = userKey(files[0]!.smallest);
  let hi = userKey(files[0]!.largest);
  for (const f of files) {
    const s = userKey(f.smallest), l = userKey(f.largest);
    if (cmpUser(s, lo) < 0) lo = s;
    if (cmpUser(l, hi) > 0) hi = l;
  }
  return [lo, hi];
}

function overlapping(files: readonly FileMetadata[], lo: Uint8Array | undefined, hi: Uint8Array | undefined): FileMetadata[] {
  return files.filter((f) =>
    (lo === undefined || cmpUser(userKey(f.largest), lo) >= 0) &&
    (hi === undefined || cmpUser(userKey(f.smallest), hi) <= 0));
}

function deeperRanges(levels: Levels, below: number): { smallest: Uint8Array; largest: Uint8Array }[] {
  const out: { smallest: Uint8Array; largest: Uint8Array }[] = [];
  for (let l = below + 1; l < levels.length; l++) {
    for (const f of levels[l] ?? []) out.push({ smallest: userKey(f.smallest), largest: userKey(f.largest) });
  }
  out.sort((a, b) => cmpUser(a.smallest, b.smallest));
  return out;
}

/** Builds the plan for `inputs0` at `level` into `outputLevel`, or undefined if it touches busy files. */
function planFor(
  input: PickerInput, level: number, outputLevel: number, inputs0: FileMetadata[],
  reason: CompactionPlan['reason'], score: number,
): CompactionPlan | undefined {
  const { levels, busy, options } = input;
  if (inputs0.length === 0 || inputs0.some((f) => busy.has(f.fileNumber))) return undefined;
  const [lo, hi] = range(inputs0);
  const inputs1 = overlapping(levels[outputLevel] ?? [], lo, hi);
  if (inputs1.some((f) => busy.has(f.fileNumber))) return undefined;
  const [alo, ahi] = inputs1.length > 0 ? range([...inputs0, ...inputs1]) : [lo, hi];
  const grandparents = outputLevel + 1 < levels.length ? overlapping(levels[outputLevel + 1] ?? [], alo, ahi) : [];
  // An output overlapping busy grandparents is fine: they are only read for cut points.
  const maxGp = 10 * options.targetFileSize;
  const isTrivialMove = reason !== 'manual' && level > 0 && inputs0.length === 1 && inputs1.length === 0 &&
    levelBytes(grandparents) <= maxGp;
  let pointer: Uint8Array | undefined;
  for (const f of inputs0) if (!pointer || compareInternalKeys(f.largest, pointer) > 0) pointer = f.largest;
  return {
    level, outputLevel, inputs: [inputs0, inputs1], grandparents,
    deeperRanges: deeperRanges(levels, outputLevel),
    isTrivialMove, reason: isTrivialMove ? 'trivial-move' : reason, score, compactPointer: pointer,
  };
}

/** The next compaction to run, or undefined when no level scores >= 1 (or all candidates are busy). */
export function pickCompaction(input: PickerInput): CompactionPlan | undefined {
  const { levels, options } = input;
  const scores = levelScores(levels, options, input.busy).filter((s) => s.score >= 1).sort((a, b) => b.score - a.score);
  for (const { level, score } of scores) {
    if (level === 0) {
      const files = (levels[0] ?? []).filter(() => true);
      // Every L0 file, oldest to newest order does not matter for the merge (sequence numbers decide).
      const plan = planFor(input, 0, baseLevel(levels, options), files, 'level0', score);
      if (plan) return plan;
      continue;
    }
    const files = levels[level] ?? [];
    if (files.length === 0) continue;
    const pointer = input.compactPointers[level];
    let start = 0;
    if (pointer) {
      start = files.findIndex((f) => compareInternalKeys(f.largest, pointer) > 0);
      if (start < 0) start = 0; // wrap around
    }
    for (let k = 0; k < files.length; k++) {
      const f = files[(start + k) % files.length]!;
      const plan = planFor(input, level, level + 1, [f], 'size', score);
      if (plan) return plan;
    }
  }
  return pickRangeDel(input);
}

/** The deletion-triggered pick (header), or undefined. */
function pickRangeDel(input: PickerInput): CompactionPlan | undefined {
  const { levels, options } = input;
  let best: { level: number; file: FileMetadata; covered: number } | undefined;
  for (let level = 1; level < options.numLevels - 1; level++) {
    for (const f of levels[level] ?? []) {
      if ((f.numRangeDeletions ?? 0) === 0 || input.busy.has(f.fileNumber)) continue;
      const lo = userKey(f.smallest), hi = userKey(f.largest);
      const below = overlapping(levels[level + 1] ?? [], lo, hi);
      let covered = 0;
      for (const g of below) {
        if (cmpUser(userKey(g.smallest), lo) >= 0 && cmpUser(userKey(g.largest), hi) <= 0) covered += g.fileSize;
      }
      if (covered === 0 || covered * 2 < levelBytes(below)) continue;
      if (!best || covered > best.covered) best = { level, file: f, covered };
    }
  }
  if (!best) return undefined;
  const plan = planFor(input, best.level, best.level + 1, [best.file], 'range-del', 0);
  // Moving the file down unchanged would reclaim nothing: it is always rewritten.
  return plan && { ...plan, isTrivialMove: false, reason: 'range-del' };
}

/**
 * A manual compaction of `level` over the user-key range [lo, hi] (undefined = unbounded) into the
 * next level (L0: into the base level). Undefined when nothing in the level overlaps the range or
 * the files are busy.
 */
export function pickManual(input: PickerInput, level: number, lo: Uint8Array | undefined, hi: Uint8Array | undefined): CompactionPlan | undefined {
  const { levels, options } = input;
  let files = overlapping(levels[level] ?? [], lo, hi);
  if (files.length === 0) return undefined;
  if (level === 0) files = [...(levels[0] ?? [])]; // L0 files overlap: take them all (see header)
  const out = level === 0 ? baseLevel(levels, options) : level + 1;
  return planFor(input, level, out, files, 'manual', 0);
}

/**
 * Work for a quiet database (no write for a while): L0 files below the trigger still cost every
 * get and every seek a probe each, and without writes the trigger is never reached. With at least
 * `minFiles` L0 files, none busy, all of L0 goes to the base level, as a level0 compaction would.
 * It cannot loop: the plan empties L0, so the next call answers undefined until flushes refill it.
 * Undefined when L0 is below `minFiles` or any L0 file is busy (a running L0 job does this work).
 */
export function pickIdle(input: PickerInput, minFiles: number): CompactionPlan | undefined {
  const { levels, busy, options } = input;
  const l0 = levels[0] ?? [];
  if (l0.length < Math.max(1, minFiles) || l0.some((f) => busy.has(f.fileNumber))) return undefined;
  return planFor(input, 0, baseLevel(levels, options), [...l0], 'idle', l0.length / options.level0CompactionTrigger);
}

/**
 * A rewrite of a file that must be written again (a table sealed with an old encryption key, or a
 * plaintext one in an encrypted database): the lowest-priority work, asked for only when no level
 * needs compacting. An L1+ file is rewritten alone into its own level (its key range, hence the
 * level's order, is kept); L0 files overlap, so a stale one sends all of L0 to the base level, as a
 * manual compaction does. Undefined when nothing is stale or every stale file is busy.
 */
export function pickRewrite(input: PickerInput, isStale: (f: FileMetadata) => boolean): CompactionPlan | undefined {
  const { levels, busy, options } = input;
  const l0 = levels[0] ?? [];
  if (l0.some(isStale)) {
    const plan = planFor(input, 0, baseLevel(levels, options), [...l0], 'rewrite', 0);
    if (plan) return plan;
  }
  for (let level = 1; level < levels.length; level++) {
    for (const f of levels[level] ?? []) {
      if (!isStale(f) || busy.has(f.fileNumber)) continue;
      const grandparents = level + 1 < levels.length ? overlapping(levels[level + 1] ?? [], userKey(f.smallest), userKey(f.largest)) : [];
      return {
        level, outputLevel: level, inputs: [[f], []], grandparents, deeperRanges: deeperRanges(levels, level),
        isTrivialMove: false, reason: 'rewrite', score: 0, compactPointer: undefined,
      };
    }
  }
  return undefined;
}

/**
 * A rewrite of one file of a level into that level, for files already at the bottom that hold range
 * tombstones (compactRange): a compaction drops the tombstones and what they cover there when no
 * snapshot needs them, which moving data down cannot do at the last level. One file per plan, as
 * pickRewrite: a plan over several files of a level could write an output across a file it skipped.
 * Undefined when the file is not in `level` or is busy.
 */
export function pickInPlace(input: PickerInput, level: number, fileNumber: number): CompactionPlan | undefined {
  const { levels, busy } = input;
  const f = (levels[level] ?? []).find((x) => x.fileNumber === fileNumber);
  if (!f || busy.has(f.fileNumber)) return undefined;
  const grandparents = level + 1 < levels.length ? overlapping(levels[level + 1] ?? [], userKey(f.smallest), userKey(f.largest)) : [];
  return {
    level, outputLevel: level, inputs: [[f], []], grandparents, deeperRanges: deeperRanges(levels, level),
    isTrivialMove: false, reason: 'manual', score: 0, compactPointer: undefined,
  };
}
