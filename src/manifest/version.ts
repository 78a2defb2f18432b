/**
 * Version: an immutable snapshot of the live table files, per level, and the lookups over it that
 * gets, iterators and the compaction picker need.
 * Format: the invariants are src/manifest/FORMAT.md "Invariants" 1-4 (the Version is what a
 * MANIFEST replays to).
 * Contract:
 * - levels[0] is ordered newest first (largestSeq, then smallestSeq, then fileNumber, descending)
 *   and its files may overlap; levels[1..] are sorted by smallest key and their USER-key ranges do
 *   not overlap (a user key lives in at most one file per level), so one binary search finds the
 *   only candidate for a get. VersionBuilder (version-builder.ts) establishes this; the constructor
 *   re-verifies it only when STRATA_INVARIANTS=1 (costly).
 * - Keys are internal keys ordered by compareInternalKeys, i.e. user keys compare bytewise: the
 *   engine has one comparator, whose name the MANIFEST records.
 * - Reference counting: whoever keeps a Version past the current turn (an iterator, a backup, a
 *   compaction) calls ref() and later unref() exactly once. When the count returns to zero the
 *   release hook runs (the VersionSet drops the Version from its live set, so its files may become
 *   obsolete). A released Version must not be ref'd again. A snapshot pins a sequence, never a Version.
 * Main thread only (the levels themselves are plain data and may be sent to a worker).
 */
import { compareByteRanges } from '../base/bytes.js';
import { compareInternalKeys, TRAILER_SIZE } from '../base/internal-key.js';
import { invariant, invariantsEnabled } from '../base/invariant.js';
import { describeFile, type FileMetadata } from './file-metadata.js';

export type Levels = readonly (readonly FileMetadata[])[];

/**
 * File-number sets per level array. Versions share the arrays of levels an edit did not touch, so
 * an edit builds sets only for the levels it changed, not for all files (which cost ~3.6 ms per
 * edit at 10k files when it was one Map per Version).
 */
const levelIndexes = new WeakMap<readonly FileMetadata[], Set<number>>();
/** Up to this many files a linear scan beats building a Set. */
const SMALL_LEVEL = 16;

/** Newest first: the order L0 is searched in (RocksDB's NewestFirstBySeqNo). */
export function compareL0NewestFirst(a: FileMetadata, b: FileMetadata): number {
  return (b.largestSeq - a.largestSeq) || (b.smallestSeq - a.smallestSeq) || (b.fileNumber - a.fileNumber);
}

/** Smallest key ascending: the order of L1+. */
export function compareBySmallest(a: FileMetadata, b: FileMetadata): number {
  return compareInternalKeys(a.smallest, b.smallest) || (a.fileNumber - b.fileNumber);
}

/** userKey(ikey) compared with a user key, without making a view. */
function compareUserPart(ikey: Uint8Array, userKey: Uint8Array): number {
  return compareByteRanges(ikey, 0, ikey.length - TRAILER_SIZE, userKey, 0, userKey.length);
}

/** True when the user-key ranges of a (before) and b (after) overlap: userKey(a.largest) >= userKey(b.smallest). */
export function userRangesTouch(a: FileMetadata, b: FileMetadata): boolean {
  return compareByteRanges(a.largest, 0, a.largest.length - TRAILER_SIZE, b.smallest, 0, b.smallest.length - TRAILER_SIZE) >= 0;
}

/** Why `levels` breaks the Version invariants, or undefined. O(files). */
export function levelsProblem(levels: Levels): string | undefined {
  const seen = new Set<number>();
  for (let level = 0; level < levels.length; level++) {
    const files = levels[level]!;
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      if (seen.has(f.fileNumber)) return `file ${f.fileNumber} appears twice`;
      seen.add(f.fileNumber);
      if (i === 0) continue;
      const prev = files[i - 1]!;
      if (level === 0) {
        if (compareL0NewestFirst(prev, f) > 0) return `L0 files ${prev.fileNumber} and ${f.fileNumber} are not newest first`;
      } else if (userRangesTouch(prev, f)) {
        return `L${level} files ${prev.fileNumber} and ${f.fileNumber} overlap or are out of order`;
      }
    }
  }
  return undefined;
}

export class Version {
  readonly levels: Levels;
  private refs = 0;
  private released = false;

  /**
   * REQUIRES: `levels` satisfies the invariants above (checked only with STRATA_INVARIANTS=1);
   * the arrays are not modified afterwards (Versions share unchanged level arrays).
   */
  constructor(levels: Levels, private readonly onRelease?: (v: Version) => void) {
    this.levels = levels;
    if (invariantsEnabled) {
      const problem = levelsProblem(levels);
      invariant(problem === undefined, `bad version: ${problem}`);
    }
  }

  /** A Version with `numLevels` empty levels. */
  static empty(numLevels: number, onRelease?: (v: Version) => void): Version {
    return new Version(Array.from({ length: numLevels }, () => []), onRelease);
  }

  get numLevels(): number { return this.levels.length; }
  get refCount(): number { return this.refs; }
  get isReleased(): boolean { return this.released; }

  ref(): void {
    invariant(!this.released, 'ref() of a released Version');
    this.refs++;
  }

  unref(): void {
    invariant(this.refs > 0, 'unref() of a Version with no references');
    if (--this.refs === 0) {
      this.released = true;
      this.onRelease?.(this);
    }
  }

  numFiles(level: number): number { return this.levels[level]?.length ?? 0; }

  totalFiles(): number {
    let n = 0;
    for (const files of this.levels) n += files.length;
    return n;
  }

  levelBytes(level: number): number {
    let n = 0;
    for (const f of this.levels[level] ?? []) n += f.fileSize;
    return n;
  }

  /** True when file `fileNumber` is in `level`. O(1) after the level's index is built (once per level array). */
  hasFile(level: number, fileNumber: number): boolean {
    const files = this.levels[level];
    if (files === undefined) return false;
    if (files.length <= SMALL_LEVEL) {
      for (const f of files) if (f.fileNumber === fileNumber) return true;
      return false;
    }
    let index = levelIndexes.get(files);
    if (!index) {
      index = new Set<number>();
      for (const f of files) index.add(f.fileNumber);
      levelIndexes.set(files, index);
    }
    return index.has(fileNumber);
  }

  /** The level holding file `fileNumber`, or undefined. */
  levelOf(fileNumber: number): number | undefined {
    for (let level = 0; level < this.levels.length; level++) {
      if (this.hasFile(level, fileNumber)) return level;
    }
    return undefined;
  }

  /** Calls fn for every file, level by level. */
  forEachFile(fn: (file: FileMetadata, level: number) => void): void {
    this.levels.forEach((files, level) => { for (const f of files) fn(f, level); });
  }

  /**
   * Index of the first file in `level` (>= 1) whose largest key is >= `internalKey`, or the
   * level's length if there is none. Binary search: O(log files).
   */
  findFileInLevel(level: number, internalKey: Uint8Array): number {
    const files = this.levels[level] ?? [];
    let lo = 0;
    let hi = files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareInternalKeys(files[mid]!.largest, internalKey) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first file in `level` (>= 1) whose largest user key is >= userKey. */
  private findUserKeyInLevel(files: readonly FileMetadata[], userKey: Uint8Array): number {
    let lo = 0;
    let hi = files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareUserPart(files[mid]!.largest, userKey) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Files of `level` whose user-key range meets [smallestUserKey, largestUserKey] (inclusive;
   * undefined is unbounded), in the level's order. For L0 this is every overlapping file, without
   * LevelDB's transitive widening (the picker widens L0 inputs itself).
   */
  overlappingFiles(level: number, smallestUserKey?: Uint8Array, largestUserKey?: Uint8Array): FileMetadata[] {
    const files = this.levels[level] ?? [];
    const out: FileMetadata[] = [];
    const beforeRange = (f: FileMetadata): boolean =>
      smallestUserKey !== undefined && compareUserPart(f.largest, smallestUserKey) < 0;
    const afterRange = (f: FileMetadata): boolean =>
      largestUserKey !== undefined && compareUserPart(f.smallest, largestUserKey) > 0;
    if (level === 0) {
      for (const f of files) if (!beforeRange(f) && !afterRange(f)) out.push(f);
      return out;
    }
    const start = smallestUserKey === undefined ? 0 : this.findUserKeyInLevel(files, smallestUserKey);
    for (let i = start; i < files.length; i++) {
      const f = files[i]!;
      if (afterRange(f)) break;
      out.push(f);
    }
    return out;
  }

  /** The one file of `level` (>= 1) whose range holds userKey, or undefined. No allocation. */
  fileForGet(level: number, userKey: Uint8Array): FileMetadata | undefined {
    const files = this.levels[level] ?? [];
    const i = this.findUserKeyInLevel(files, userKey);
    const f = files[i];
    return f !== undefined && compareUserPart(f.smallest, userKey) <= 0 ? f : undefined;
  }

  /**
   * Every file that may hold userKey, in the order a get must search them: L0 newest first, then
   * at most one file per deeper level. A get stops at the first file that has a version of the key.
   * One file per level is enough because a user key's versions never straddle two files of a level
   * (the compaction runner cuts outputs between user keys).
   */
  filesForGet(userKey: Uint8Array): FileMetadata[] {
    const out: FileMetadata[] = [];
    for (const f of this.levels[0] ?? []) {
      if (compareUserPart(f.smallest, userKey) <= 0 && compareUserPart(f.largest, userKey) >= 0) out.push(f);
    }
    for (let level = 1; level < this.levels.length; level++) {
      const f = this.fileForGet(level, userKey);
      if (f) out.push(f);
    }
    return out;
  }

  /** Text for tools and golden tests: one `L<n>:` header per non-empty level, one line per file. */
  describe(): string {
    const lines: string[] = [];
    this.levels.forEach((files, level) => {
      if (files.length === 0) return;
      lines.push(`L${level}: ${files.length} files, ${this.levelBytes(level)} bytes`);
      for (const f of files) lines.push(`  ${describeFile(f)}`);
    });
    return lines.length ? lines.join('\n') : '(no files)';
  }
}
