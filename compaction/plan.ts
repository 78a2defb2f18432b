/**
 * CompactionPlan: what one compaction will do, as plain, structured-cloneable data (numbers,
 * strings, Uint8Arrays, FileMetadata), so the same plan can run inline or be posted to a worker.
 * Produced by picker.ts (pure), executed by runner.ts, installed by the scheduler as the edit that
 * plan-edit.ts derives from it.
 */
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { TableOptions } from '../src/table/table-options.js';
import type { CompactionFilterSpec } from '../src/compaction-filter.js';

export type CompactionReason = 'level0' | 'size' | 'manual' | 'trivial-move' | 'rewrite' | 'idle' | 'range-del'
  // Tiered (tiered-picker.ts) and FIFO (fifo-picker.ts); a 'fifo-drop' deletes its inputs and writes nothing.
  | 'size-amp' | 'size-ratio' | 'run-count' | 'fifo-drop' | 'intra-l0';

export interface CompactionPlan {
  /** The level whose files started the compaction. */
  level: number;
  outputLevel: number;
  /** inputs[0]: files of `level`; inputs[1]: overlapping files of `outputLevel`. */
  inputs: [FileMetadata[], FileMetadata[]];
  /**
   * Whole levels strictly between `level` and `outputLevel` that are inputs too, shallowest first:
   * a tiered merge of consecutive sorted runs can span several levels. Absent in leveled plans.
   */
  middleInputs?: { level: number; files: FileMetadata[] }[];
  /** Why a 'fifo-drop' drops its files: the size cap or their age. */
  dropCause?: 'size' | 'ttl';
  /** Files of outputLevel + 1 overlapping the inputs: outputs are cut to limit overlap with them. */
  grandparents: FileMetadata[];
  /**
   * User-key ranges ([smallest, largest] user keys) of every file below outputLevel, sorted by
   * smallest: a key overlapping none of them is at its bottommost level here (tombstones can go).
   */
  deeperRanges: { smallest: Uint8Array; largest: Uint8Array }[];
  /** Move the single input file to outputLevel without rewriting it. */
  isTrivialMove: boolean;
  reason: CompactionReason;
  /** Score that made the picker choose this level (0 for manual). */
  score: number;
  /** The largest internal key of the inputs of `level`: the level's next round-robin start. */
  compactPointer: Uint8Array | undefined;
  /**
   * Set on the pieces of a split compaction only (subcompactions.ts): this run writes the user keys in
   * [lo, hi) (absent: unbounded on that side). The picker never sets it.
   */
  piece?: { lo?: Uint8Array; hi?: Uint8Array };
}

/** The output-side options a runner needs (plain data, sent to workers). */
export interface CompactionOutputOptions {
  targetFileSize: number;
  /** Stop an output once it overlaps this many grandparent bytes (LevelDB: 10 x targetFileSize). */
  maxGrandparentOverlapBytes: number;
  /** The output level's table options (src/table/table-options.ts). */
  table: TableOptions;
  /** Bytes per second for writes (0 = unlimited). */
  rateLimitBytesPerSec: number;
  /** The engine's clock when the job started: the outputs' creation time and the ttl filter's "now". */
  creationTimeMs: number;
  /** The compaction filter (src/compaction-filter.ts); absent: none. */
  filter?: CompactionFilterSpec;
  /** Pieces the job may split into (subcompactions.ts; absent or 1: never split). */
  maxSubcompactions?: number;
  /**
   * Encryption at rest: outputs are sealed under `currentKeyId`; `keys` holds that key and the keys
   * of the inputs (plain bytes: a structured clone to an in-process worker, never written anywhere).
   */
  encryption?: { currentKeyId: string; keys: Map<string, Uint8Array>; allowPlaintext: boolean };
}

/** Every input file of the plan: inputs[0], the middle levels, inputs[1]. */
export function allInputFiles(plan: CompactionPlan): FileMetadata[] {
  return [...plan.inputs[0], ...(plan.middleInputs ?? []).flatMap((m) => m.files), ...plan.inputs[1]];
}

/** The input files by level, shallowest first, levels without inputs left out. */
export function inputsByLevel(plan: CompactionPlan): { level: number; files: FileMetadata[] }[] {
  const out = [{ level: plan.level, files: plan.inputs[0] }, ...(plan.middleInputs ?? [])];
  if (plan.inputs[1].length > 0) out.push({ level: plan.outputLevel, files: plan.inputs[1] });
  return out.filter((x) => x.files.length > 0);
}

export function inputFileNumbers(plan: CompactionPlan): number[] {
  return allInputFiles(plan).map((f) => f.fileNumber);
}

/** `L0 -> L1  L0:000012,000013  L1:000007` for LOG lines and golden tests. */
export function describePlan(plan: CompactionPlan): string {
  const names = (fs: FileMetadata[]): string => fs.map((f) => String(f.fileNumber).padStart(6, '0')).join(',');
  const parts = plan.reason === 'fifo-drop' ? [`drop`] : [`L${plan.level} -> L${plan.outputLevel}`];
  for (const { level, files } of inputsByLevel(plan)) parts.push(`L${level}:${names(files)}`);
  if (plan.isTrivialMove) parts.push('(trivial move)');
  parts.push(`reason=${plan.reason}${plan.dropCause ? ` (${plan.dropCause})` : ''}`);
  if (plan.score > 0) parts.push(`score=${plan.score.toFixed(2)}`);
  return parts.join('  ');
}
