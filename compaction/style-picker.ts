/**
 * Which picker decides, by compaction style: the one place the scheduler asks, so scheduler.ts knows
 * styles only as "automatic work", "manual work" and "rewrites". Pure, like the pickers it calls.
 *   leveled  picker.ts (scores, idle L0 work, rewrites of stale tables)
 *   tiered   tiered-picker.ts; compactRange merges every run into one at the last level; no idle work
 *   fifo     fifo-picker.ts (drops, intra-L0 merges); compactRange merges all of L0 into one table when
 *            fifoAllowCompaction is on and does nothing otherwise; no idle work
 * Stale tables (encryption-key rotation) are rewritten the leveled way in the leveled style; in the
 * others each is rewritten alone into its own level (its run keeps its place in the age order).
 */
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import { pickCompaction, type PickerInput } from './picker.js';
import { pickFifo, pickFifoIntraL0, type FifoOptions } from './fifo-picker.js';
import { keyRanges, pickTiered, pickTieredAll, type TieredOptions } from './tiered-picker.js';
import type { CompactionPlan } from './plan.js';

export type StyleConfig =
  | { style: 'leveled' }
  | { style: 'tiered'; tiered: TieredOptions }
  | { style: 'fifo'; fifo: FifoOptions };

export const LEVELED: StyleConfig = { style: 'leveled' };

/** Automatic work in `cfg`'s style (leveled: scored work only; idle and rewrites are asked apart). */
export function pickAutoForStyle(cfg: StyleConfig, input: PickerInput, nowMs: number): CompactionPlan | undefined {
  switch (cfg.style) {
    case 'leveled': return pickCompaction(input);
    case 'tiered': return pickTiered({ levels: input.levels, options: cfg.tiered, busy: input.busy });
    case 'fifo': return pickFifo({ levels: input.levels, options: cfg.fifo, busy: input.busy, nowMs });
  }
}

/**
 * compactRange's plan in the tiered and FIFO styles (the range is not used: both compact whole runs),
 * or undefined when there is nothing (more) to do or its files are busy (`isDone` tells which).
 */
export function pickManualForStyle(cfg: StyleConfig, input: PickerInput): { plan: CompactionPlan | undefined; isDone: boolean } {
  if (cfg.style === 'tiered') {
    const plan = pickTieredAll({ levels: input.levels, options: cfg.tiered, busy: input.busy });
    const idle = pickTieredAll({ levels: input.levels, options: cfg.tiered, busy: new Set() });
    return { plan, isDone: idle === undefined };
  }
  if (cfg.style === 'fifo' && cfg.fifo.allowCompaction) {
    const all = { ...cfg.fifo, maxMergeBytes: Infinity };
    const plan = pickFifoIntraL0({ levels: input.levels, options: all, busy: input.busy, nowMs: 0 }, 2);
    const idle = pickFifoIntraL0({ levels: input.levels, options: all, busy: new Set(), nowMs: 0 }, 2);
    return { plan, isDone: idle === undefined };
  }
  return { plan: undefined, isDone: true };
}

/** A stale table rewritten alone into its own level (tiered and FIFO), or undefined. */
export function pickRewriteInPlace(input: PickerInput, isStale: (f: FileMetadata) => boolean): CompactionPlan | undefined {
  const { levels, busy } = input;
  for (let level = 0; level < levels.length; level++) {
    for (const f of levels[level] ?? []) {
      if (!isStale(f) || busy.has(f.fileNumber)) continue;
      // Every other file counts as deeper: a tombstone is kept wherever anything else may hold its key.
      const others: FileMetadata[] = [];
      levels.forEach((files) => { for (const g of files) if (g.fileNumber !== f.fileNumber) others.push(g); });
      return {
        level, outputLevel: level, inputs: [[f], []], grandparents: [], deeperRanges: keyRanges(others),
        isTrivialMove: false, reason: 'rewrite', score: 0, compactPointer: undefined,
      };
    }
  }
  return undefined;
}
