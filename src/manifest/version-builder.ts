/**
 * VersionBuilder: applies VersionEdits to a base Version and produces the next one (LevelDB's
 * VersionSet::Builder). Replaying a MANIFEST applies thousands of edits to one builder and
 * materialises once, so recovery costs O(edits + files log files), not O(edits x files).
 * Format: src/manifest/FORMAT.md "Applying edits" and "Invariants".
 * Contract:
 * - apply() validates as it goes: deleting a file that is not at that level, or adding a file
 *   number that is already live, calls `fail`. finish() sorts the touched levels and checks that
 *   no two L1+ files overlap in user keys. Who fails how is the caller's choice: a MANIFEST replay
 *   passes a fail that throws CorruptionError (the bytes are bad), a live logAndApply keeps the
 *   default InternalError (the engine built a bad edit: a bug). A failed apply() leaves the
 *   builder half-applied: discard it.
 * - Within one edit, deletions apply before additions (a trivial move is delete L + add L+1).
 * - Levels nobody touched share the base Version's arrays: an edit costs O(files it touches'
 *   levels), and the base is never modified.
 * - Scalars of the edit (log number, sequences, compact pointers) are not the builder's business:
 *   the VersionSet tracks them.
 */
import { InternalError } from '../errors.js';
import type { FileMetadata } from './file-metadata.js';
import type { VersionEdit } from './version-edit.js';
import { compareBySmallest, compareL0NewestFirst, type Levels, userRangesTouch, Version } from './version.js';

export type FailFn = (detail: string) => never;

const internalFail: FailFn = (detail) => {
  throw new InternalError(`invalid version edit: ${detail}`);
};

function fileName(n: number): string {
  return String(n).padStart(6, '0');
}

export class VersionBuilder {
  /** Files added by the edits applied so far and still live: number -> where and what. */
  private readonly added = new Map<number, { level: number; file: FileMetadata }>();
  /** Files of the base deleted by the edits applied so far. */
  private readonly deletedFromBase = new Set<number>();
  private readonly touched = new Set<number>();

  constructor(private readonly base: Version, private readonly fail: FailFn = internalFail) {}

  get numLevels(): number { return this.base.numLevels; }

  /** Applies one edit's file changes. `fail` overrides the builder's for this edit (e.g. to name the record). */
  apply(edit: VersionEdit, fail: FailFn = this.fail): void {
    const numLevels = this.base.numLevels;
    const checkLevel = (level: number, what: string): void => {
      if (level >= numLevels) fail(`${what} names level ${level}, but there are ${numLevels} levels`);
    };
    for (const { level, fileNumber } of edit.deletedFiles ?? []) {
      checkLevel(level, `deletion of ${fileName(fileNumber)}`);
      const a = this.added.get(fileNumber);
      if (a !== undefined) {
        if (a.level !== level) fail(`deletes ${fileName(fileNumber)} from L${level}, but it is at L${a.level}`);
        this.added.delete(fileNumber);
      } else {
        if (this.deletedFromBase.has(fileNumber) || !this.base.hasFile(level, fileNumber)) {
          // The slow path runs only to word the error.
          const baseLevel = this.deletedFromBase.has(fileNumber) ? undefined : this.base.levelOf(fileNumber);
          if (baseLevel === undefined) fail(`deletes ${fileName(fileNumber)} from L${level}, but no such file is live`);
          fail(`deletes ${fileName(fileNumber)} from L${level}, but it is at L${baseLevel}`);
        }
        this.deletedFromBase.add(fileNumber);
      }
      this.touched.add(level);
    }
    for (const { level, file } of edit.newFiles ?? []) {
      checkLevel(level, `addition of ${fileName(file.fileNumber)}`);
      const n = file.fileNumber;
      const live = this.added.get(n)?.level
        ?? (this.deletedFromBase.has(n) ? undefined : this.base.levelOf(n));
      if (live !== undefined) fail(`adds ${fileName(n)} at L${level}, but it is already live at L${live}`);
      this.added.set(n, { level, file });
      this.touched.add(level);
    }
  }

  /** The resulting levels: fresh sorted arrays for touched levels, the base's arrays for the rest. */
  finishLevels(fail: FailFn = this.fail): Levels {
    const levels: (readonly FileMetadata[])[] = this.base.levels.slice();
    if (this.touched.size === 0) return levels;
    const addedPerLevel = new Map<number, FileMetadata[]>();
    for (const { level, file } of this.added.values()) {
      let list = addedPerLevel.get(level);
      if (!list) addedPerLevel.set(level, (list = []));
      list.push(file);
    }
    for (const level of this.touched) {
      const files = this.base.levels[level]!.filter((f) => !this.deletedFromBase.has(f.fileNumber));
      for (const f of addedPerLevel.get(level) ?? []) files.push(f);
      if (level === 0) {
        files.sort(compareL0NewestFirst);
      } else {
        files.sort(compareBySmallest);
        for (let i = 1; i < files.length; i++) {
          const prev = files[i - 1]!;
          const f = files[i]!;
          if (userRangesTouch(prev, f)) {
            fail(`L${level} files ${fileName(prev.fileNumber)} and ${fileName(f.fileNumber)} overlap in user keys`);
          }
        }
      }
      levels[level] = files;
    }
    return levels;
  }

  /** The resulting Version (unreferenced; `onRelease` becomes its release hook). */
  finish(onRelease?: (v: Version) => void, fail: FailFn = this.fail): Version {
    return new Version(this.finishLevels(fail), onRelease);
  }
}
