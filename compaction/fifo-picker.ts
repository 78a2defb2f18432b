/**
 * The FIFO compaction picker (RocksDB's FIFO style): pure, plain data in, a plan out, no I/O.
 * Flushes write L0 tables and nothing moves them down; whole tables are dropped, oldest first, once
 * all tables together exceed maxTableFilesSize, or once a table's newest write
 * (FileMetadata.newestWriteTimeMs) is more than ttlMs before `nowMs`. A drop is a plan with reason
 * 'fifo-drop' and no outputs: the edit deletes its files, nothing is read or written.
 *
 * Oldest first, per key: a database that was leveled or tiered before may hold data in L1+. Every
 * version in a deeper level is older than every version of the same key above it, and L0 tables are
 * ordered by sequence number, so the drop order is: the deepest non-empty level's files (a key lives
 * in one file per level), level by level upwards, then L0 from its oldest table. Whatever is dropped
 * is then older than whatever stays, for every key, so no deleted or overwritten value comes back.
 * For the same reason the TTL pick stops at the first table in that order that has not expired (or
 * has no write time: tables recorded by older builds are left to the size cap). One plan drops files
 * of one level; the scheduler asks again after each.
 *
 * With allowCompaction, level0CompactionTrigger or more L0 tables: the newest free ones are merged
 * into one L0 table (reason 'intra-l0'), as long as the merge stays within maxMergeBytes, which bounds
 * the file count without rewriting the old, large tables again and again.
 * Busy files (compactions in flight) are skipped: a drop never takes a file a merge is reading, and
 * stops at one (what lies beyond it is newer).
 */
import { compareL0NewestFirst } from '../src/manifest/version.js';
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { Levels } from './picker.js';
import type { CompactionPlan } from './plan.js';
import { keyRanges } from './tiered-picker.js';

export interface FifoOptions {
  maxTableFilesSize: number;
  /** 0: no age limit. */
  ttlMs: number;
  allowCompaction: boolean;
  level0CompactionTrigger: number;
  /** The most bytes one intra-L0 merge reads. */
  maxMergeBytes: number;
}

export interface FifoInput {
  levels: Levels;
  options: FifoOptions;
  busy: ReadonlySet<number>;
  nowMs: number;
}

/** Every file with its level, oldest first in the drop order of the header. */
export function fifoDropOrder(levels: Levels): { level: number; file: FileMetadata }[] {
  const out: { level: number; file: FileMetadata }[] = [];
  for (let level = levels.length - 1; level >= 1; level--) {
    const files = [...(levels[level] ?? [])].sort((a, b) => a.largestSeq - b.largestSeq || a.fileNumber - b.fileNumber);
    for (const file of files) out.push({ level, file });
  }
  const l0 = [...(levels[0] ?? [])].sort(compareL0NewestFirst).reverse();
  for (const file of l0) out.push({ level: 0, file });
  return out;
}

function dropPlan(level: number, files: FileMetadata[], cause: 'size' | 'ttl'): CompactionPlan {
  return {
    level, outputLevel: level, inputs: [files, []], grandparents: [], deeperRanges: [],
    isTrivialMove: false, reason: 'fifo-drop', dropCause: cause, score: 0, compactPointer: undefined,
  };
}

/** The oldest files, from the first in drop order, while `take` accepts them: one level's worth at most. */
function takeOldest(
  input: FifoInput, take: (f: FileMetadata, remaining: number) => boolean, cause: 'size' | 'ttl',
): CompactionPlan | undefined {
  let remaining = 0;
  input.levels.forEach((files) => { for (const f of files) remaining += f.fileSize; });
  const picked: FileMetadata[] = [];
  let pickedLevel = -1;
  for (const { level, file } of fifoDropOrder(input.levels)) {
    if (input.busy.has(file.fileNumber)) break; // newer files lie beyond it
    if (pickedLevel >= 0 && level !== pickedLevel) break;
    if (!take(file, remaining)) break;
    picked.push(file);
    pickedLevel = level;
    remaining -= file.fileSize;
  }
  return picked.length > 0 ? dropPlan(pickedLevel, picked, cause) : undefined;
}

/** Files past the size cap, oldest first, or undefined. */
export function pickFifoSize(input: FifoInput): CompactionPlan | undefined {
  const cap = input.options.maxTableFilesSize;
  return takeOldest(input, (_f, remaining) => remaining > cap, 'size');
}

/** Files whose newest write is older than nowMs - ttlMs, oldest first, or undefined. */
export function pickFifoTtl(input: FifoInput): CompactionPlan | undefined {
  const { ttlMs } = input.options;
  if (ttlMs <= 0) return undefined;
  const cutoff = input.nowMs - ttlMs;
  return takeOldest(input, (f) => f.newestWriteTimeMs !== undefined && f.newestWriteTimeMs < cutoff, 'ttl');
}

/** The intra-L0 merge of the newest free L0 tables (allowCompaction), or undefined. */
export function pickFifoIntraL0(input: FifoInput, minFiles = input.options.level0CompactionTrigger): CompactionPlan | undefined {
  const o = input.options;
  const l0 = input.levels[0] ?? [];
  if (l0.length < Math.max(2, minFiles)) return undefined;
  const picked: FileMetadata[] = [];
  let bytes = 0;
  for (const f of l0) { // newest first
    if (input.busy.has(f.fileNumber)) { if (picked.length > 0) break; continue; }
    if (bytes + f.fileSize > o.maxMergeBytes) break;
    picked.push(f);
    bytes += f.fileSize;
  }
  if (picked.length < 2) return undefined;
  const older = l0.slice(l0.indexOf(picked[picked.length - 1]!) + 1);
  const deeperRanges = keyRanges([...older, ...input.levels.slice(1).flat()]);
  return {
    level: 0, outputLevel: 0, inputs: [picked, []], grandparents: [], deeperRanges,
    isTrivialMove: false, reason: 'intra-l0', score: l0.length / o.level0CompactionTrigger, compactPointer: undefined,
  };
}

/** The next FIFO work: a drop for age, a drop for size, then an intra-L0 merge (when allowed). */
export function pickFifo(input: FifoInput): CompactionPlan | undefined {
  return pickFifoTtl(input) ?? pickFifoSize(input) ?? (input.options.allowCompaction ? pickFifoIntraL0(input) : undefined);
}

/**
 * When the next table expires after `nowMs` (ms since the epoch), or undefined when none will. Tables
 * expired already are not counted: one that waits behind an older table is freed by that table's own
 * expiry or drop, and a wake-up for it would only poll.
 */
export function nextFifoExpiryMs(levels: Levels, ttlMs: number, nowMs: number): number | undefined {
  let at: number | undefined;
  for (const files of levels) {
    for (const f of files) {
      if (f.newestWriteTimeMs === undefined) continue;
      const t = f.newestWriteTimeMs + ttlMs;
      if (t > nowMs && (at === undefined || t < at)) at = t;
    }
  }
  return at;
}
