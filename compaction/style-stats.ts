/**
 * What stats() and getProperty show of the compaction's state, in each style's own terms: the score
 * of each level and the bytes of compaction owed now (stratadb.estimate-pending-compaction-bytes,
 * what dashboards alert on). Leveled formulas mean nothing for sorted runs or FIFO's cap, so each
 * style answers the way its picker decides:
 *   leveled  picker.ts levelScores; pending = L0 past its trigger + each level's excess over its
 *            target x (levelMultiplier + 1), the bytes a compaction reads to push the excess down
 *   tiered   L0's score is sorted runs / level0CompactionTrigger (RocksDB universal's one score: the
 *            picker starts at 1), the other levels 0; pending = the bytes of the merge the picker would
 *            start now with nothing busy (0 below the trigger)
 *   fifo     L0's score is table bytes / fifoMaxTableFilesSize (RocksDB's FIFO score: drops start past
 *            1), the other levels 0; pending = the bytes of the intra-L0 merge due now (a drop writes
 *            nothing, so it owes no compaction bytes)
 * Pure, as the pickers are.
 */
import { levelScores, type Levels, type PickerOptions } from './picker.js';
import { pickTiered } from './tiered-picker.js';
import { pickFifoIntraL0 } from './fifo-picker.js';
import { allInputFiles, type CompactionPlan } from './plan.js';
import type { StyleConfig } from './style-picker.js';

const NOTHING_BUSY: ReadonlySet<number> = new Set();

/** Each level's score (index = level), as the style's picker sees it. */
export function styleLevelScores(cfg: StyleConfig, levels: Levels, leveled: PickerOptions): number[] {
  if (cfg.style === 'leveled') {
    const scores = levelScores(levels, leveled);
    return levels.map((_, level) => scores[level]?.score ?? 0);
  }
  const out = levels.map(() => 0);
  if (out.length === 0) return out;
  if (cfg.style === 'tiered') {
    let runs = (levels[0] ?? []).length;
    for (let l = 1; l < levels.length; l++) if ((levels[l] ?? []).length > 0) runs++;
    out[0] = runs / cfg.tiered.level0CompactionTrigger;
  } else {
    let bytes = 0;
    for (const files of levels) for (const f of files) bytes += f.fileSize;
    out[0] = cfg.fifo.maxTableFilesSize > 0 ? bytes / cfg.fifo.maxTableFilesSize : 0;
  }
  return out;
}

/** The bytes of compaction the style owes now (see the header). */
export function pendingCompactionBytes(cfg: StyleConfig, levels: Levels, leveled: PickerOptions): number {
  if (cfg.style === 'tiered') return inputBytes(pickTiered({ levels, options: cfg.tiered, busy: NOTHING_BUSY }));
  if (cfg.style === 'fifo') {
    if (!cfg.fifo.allowCompaction) return 0;
    return inputBytes(pickFifoIntraL0({ levels, options: cfg.fifo, busy: NOTHING_BUSY, nowMs: 0 }));
  }
  const scores = styleLevelScores(cfg, levels, leveled);
  let pending = 0;
  levels.forEach((files, level) => {
    const score = scores[level] ?? 0;
    let bytes = 0;
    for (const f of files) bytes += f.fileSize;
    if (level === 0) {
      if (score >= 1) pending += bytes;
    } else if (score > 1) {
      // score = bytes / target (picker.ts), so the excess over the target is bytes - bytes / score.
      pending += (bytes - bytes / score) * (leveled.levelMultiplier + 1);
    }
  });
  return Math.round(pending);
}

function inputBytes(plan: CompactionPlan | undefined): number {
  let bytes = 0;
  if (plan) for (const f of allInputFiles(plan)) bytes += f.fileSize;
  return bytes;
}
