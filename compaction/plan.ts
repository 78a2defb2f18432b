/**
 * CompactionPlan: what one compaction will do, as plain, structured-cloneable data (numbers,
 * strings, Uint8Arrays, FileMetadata), so the same plan can run inline or be posted to a worker.
 * Produced by picker.ts (pure), executed by runner.ts, installed by the scheduler as the edit that
 * plan-edit.ts derives from it.
 */
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { TableOptions } from '../src/table/table-options.js';
import type { CompactionFilterSpec } from '../src/compaction-filter.js';

export type CompactionReason = 'level0' | 'size' | 'manual' | 'trivial-move' | 'rewrite' | 'idle' | 'range-del';

export interface CompactionPlan {
  /** The level whose files started the compaction. */
  level: number;
  outputLevel: number;
  /** inputs[0]: files of `level`; inputs[1]: overlapping files of `outputLevel`. */
  inputs: [FileMetadata[], FileMetadata[]];
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

export function inputFileNumbers(plan: CompactionPlan): number[] {
  return [...plan.inputs[0], ...plan.inputs[1]].map((f) => f.fileNumber);
}

/** `L0 -> L1  L0:000012,000013  L1:000007` for LOG lines and golden tests. */
export function describePlan(plan: CompactionPlan): string {
  const names = (fs: FileMetadata[]): string => fs.map((f) => String(f.fileNumber).padStart(6, '0')).join(',');
  const parts = [`L${plan.level} -> L${plan.outputLevel}`, `L${plan.level}:${names(plan.inputs[0])}`];
  if (plan.inputs[1].length > 0) parts.push(`L${plan.outputLevel}:${names(plan.inputs[1])}`);
  if (plan.isTrivialMove) parts.push('(trivial move)');
  parts.push(`reason=${plan.reason}`);
  if (plan.score > 0) parts.push(`score=${plan.score.toFixed(2)}`);
  return parts.join('  ');
}
