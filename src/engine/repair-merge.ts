/**
 * DB.repair's placement: where each surviving table goes in the new MANIFEST, correct by construction.
 * The old level of a table is gone with its MANIFEST, and putting every table in L0 is wrong: L0 is
 * read newest-first by largest sequence (version.ts compareL0NewestFirst), and tables from different
 * old levels can overlap in keys AND in sequence ranges (an old L2 table with seqs 1..100 holding k@30,
 * an old L1 table with seqs 40..60 holding k@45: the L2 table sorts first and k@30 would win).
 * So the tables are grouped into runs of overlapping user-key ranges; a table that overlaps no other
 * is kept as it is, and each group of two or more is merged once, with the compaction runner
 * (compaction/runner.ts: newest version per key, range tombstones applied), into fresh tables that
 * overlap nothing. Every table then holds all the versions of its keys that survive, and no two tables
 * share a user key, so all of them go into one level, the last one (a fully compacted database's
 * shape): a read finds each key in exactly one table, whatever the sequence ranges were.
 * Contract: returns the tables of that level, sorted, and the inputs the merges consumed (the caller
 * moves those to lost/ once the new MANIFEST is in place). Merges run with no snapshots and as the
 * bottom level, so shadowed versions and tombstones are dropped. On failure the runner removes its
 * partial outputs; outputs of earlier groups are the caller's to remove. Main thread (inline runner).
 */
import type { FileSystem } from '../fs/file-system.js';
import type { KeyRing } from '../encryption/keyring.js';
import { compareBySmallest } from '../manifest/version.js';
import { compareBytes } from '../base/bytes.js';
import { userKeyOf } from '../base/internal-key.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import type { ResolvedOptions } from '../options.js';
import { tableOptionsFor } from '../table/table-options.js';
import { runCompaction } from '../../compaction/runner.js';
import type { CompactionPlan } from '../../compaction/plan.js';

export interface Placement {
  /** The last level's tables, sorted by smallest key, no two sharing a user key. */
  level: FileMetadata[];
  /** Tables merged into new ones (no longer part of the database). */
  consumed: FileMetadata[];
  /** The new tables the merges wrote. */
  written: FileMetadata[];
}

/** Groups of tables whose user-key ranges chain together by overlap, in key order. */
export function overlapGroups(tables: readonly FileMetadata[]): FileMetadata[][] {
  const groups: FileMetadata[][] = [];
  let reach: Uint8Array | undefined; // the largest user key of the group being built
  for (const t of [...tables].sort(compareBySmallest)) {
    const last = userKeyOf(t.largest);
    if (reach !== undefined && compareBytes(userKeyOf(t.smallest), reach) <= 0) {
      groups[groups.length - 1]!.push(t);
      if (compareBytes(last, reach) > 0) reach = last;
    } else {
      groups.push([t]);
      reach = last;
    }
  }
  return groups;
}

/** Places `tables` (see the header); `allocate` numbers the merge outputs. */
export async function placeTables(fs: FileSystem, dir: string, tables: readonly FileMetadata[], o: ResolvedOptions,
  keys: KeyRing | undefined, allocate: () => number, written: (meta: FileMetadata) => void): Promise<Placement> {
  const bottom = o.numLevels - 1;
  const out: Placement = { level: [], consumed: [], written: [] };
  for (const group of overlapGroups(tables)) {
    if (group.length === 1) {
      out.level.push(group[0]!);
      continue;
    }
    const plan: CompactionPlan = {
      level: 0, outputLevel: bottom, inputs: [group, []], grandparents: [], deeperRanges: [],
      isTrivialMove: false, reason: 'manual', score: 0, compactPointer: undefined,
    };
    let encryption;
    if (keys) {
      const ids = new Set<string>([keys.currentKeyId()]);
      for (const f of group) if (f.keyId !== undefined) ids.add(f.keyId);
      for (const id of ids) await keys.keyFor(id);
      encryption = { currentKeyId: keys.currentKeyId(), keys: keys.snapshot(ids), allowPlaintext: keys.allowPlaintext };
    }
    const result = await runCompaction({ fs, dir, allocateFileNumber: allocate, yieldEveryMs: 1 }, plan, [], {
      targetFileSize: o.targetFileSize,
      maxGrandparentOverlapBytes: 10 * o.targetFileSize,
      table: tableOptionsFor(o, bottom),
      rateLimitBytesPerSec: 0,
      creationTimeMs: o.clock(),
      ...(encryption ? { encryption } : {}),
    });
    for (const m of result.outputs) written(m);
    out.level.push(...result.outputs);
    out.written.push(...result.outputs);
    out.consumed.push(...group);
  }
  out.level.sort(compareBySmallest);
  return out;
}
