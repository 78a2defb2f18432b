/**
 * Where an ingested table goes: the deepest level such that nothing at that level or any level above
 * it overlaps the table's user-key range, counting the outputs of compactions in flight at their
 * output level (they are not in the Version yet, but will land there). Ingested data is newer than
 * everything in the database, so it must sit above every table that holds a version of its keys;
 * going as deep as that allows spares the compactions that would otherwise push it down (RocksDB's
 * IngestedFileFitInLevel, with the same in-flight check).
 * Pure: plain data in, a level out. Main thread or worker.
 */
import { compareByteRanges, compareBytes } from '../base/bytes.js';
import { TRAILER_SIZE } from '../base/internal-key.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import type { Levels } from '../manifest/version.js';

/** A user-key range, both ends inclusive. */
export interface UserKeyRange { smallest: Uint8Array; largest: Uint8Array }

/** What a compaction in flight will write: its output level and the user-key range of its inputs. */
export interface PendingOutput { level: number; range: UserKeyRange }

/** True when the user-key range of `f` (internal keys) and `r` share a key. */
function fileTouches(f: FileMetadata, r: UserKeyRange): boolean {
  const lo = f.smallest, hi = f.largest;
  return compareByteRanges(lo, 0, lo.length - TRAILER_SIZE, r.largest, 0, r.largest.length) <= 0 &&
    compareByteRanges(hi, 0, hi.length - TRAILER_SIZE, r.smallest, 0, r.smallest.length) >= 0;
}

function rangesTouch(a: UserKeyRange, b: UserKeyRange): boolean {
  return compareBytes(a.smallest, b.largest) <= 0 && compareBytes(a.largest, b.smallest) >= 0;
}

/** The user-key range a compaction's outputs can cover: the span of all its inputs. */
export function planOutputRange(inputs: readonly (readonly FileMetadata[])[]): UserKeyRange | undefined {
  let smallest: Uint8Array | undefined;
  let largest: Uint8Array | undefined;
  for (const files of inputs) {
    for (const f of files) {
      const lo = f.smallest.subarray(0, f.smallest.length - TRAILER_SIZE);
      const hi = f.largest.subarray(0, f.largest.length - TRAILER_SIZE);
      if (smallest === undefined || compareBytes(lo, smallest) < 0) smallest = lo;
      if (largest === undefined || compareBytes(hi, largest) > 0) largest = hi;
    }
  }
  return smallest && largest ? { smallest, largest } : undefined;
}

/**
 * The level for a table covering `range`: the deepest of 0..numLevels-1 with no overlap at it or
 * above (levels[l] or a pending output at l). 0 when L0 overlaps (L0 is ordered newest first by
 * sequence, and the ingested sequence is the newest).
 */
export function chooseIngestLevel(levels: Levels, numLevels: number, pending: readonly PendingOutput[], range: UserKeyRange): number {
  let chosen = 0;
  for (let level = 0; level < numLevels; level++) {
    const files = levels[level] ?? [];
    let overlaps = false;
    for (const f of files) if (fileTouches(f, range)) { overlaps = true; break; }
    if (!overlaps) for (const p of pending) if (p.level === level && rangesTouch(p.range, range)) { overlaps = true; break; }
    if (overlaps) break;
    chosen = level;
  }
  return chosen;
}
