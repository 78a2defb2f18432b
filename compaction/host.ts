/**
 * CompactionHost: all that compaction sees of the database (compaction/ never imports src/engine/ or src/db.ts).
 * The DB implements it: the current version, the live snapshots as a sorted list of plain sequence
 * numbers, file numbering, and installing an edit (the main thread alone writes the MANIFEST).
 */
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { Version } from '../src/manifest/version.js';
import type { VersionEdit } from '../src/manifest/version-edit.js';
import type { CompactionOutputOptions, CompactionPlan } from './plan.js';
import type { PickerOptions } from './picker.js';
import type { StyleConfig } from './style-picker.js';

export interface CompactionStats {
  level: number;
  outputLevel: number;
  bytesRead: number;
  bytesWritten: number;
  ms: number;
  trivialMove: boolean;
  /** Pieces the job ran as (subcompactions.ts); absent for a trivial move. */
  subcompactions?: number;
  /** Entries the compaction filter removed, and entries whose value it replaced. */
  filteredRemoved?: number;
  filteredChanged?: number;
}

/** How one compaction job ended, for the host's end callback: its stats and outputs, or its error. */
export type CompactionOutcome =
  | { ok: true; stats: CompactionStats; outputs: number[] }
  | { ok: false; error: unknown };

export interface CompactionHost {
  readonly dir: string;
  /** The current version; the caller refs it while it uses it. */
  currentVersion(): Version;
  compactPointers(): readonly (Uint8Array | undefined)[];
  /** Live snapshot sequences, ascending, distinct. */
  liveSnapshots(): number[];
  /** A new file number, registered as a pending output until unregisterOutput(). */
  allocateOutput(): number;
  unregisterOutput(fileNumber: number): void;
  logAndApply(edit: VersionEdit): Promise<void>;
  deleteObsoleteFiles(): Promise<void>;
  pickerOptions(): PickerOptions;
  /** The compaction style and its options (absent: leveled). */
  compactionStyle?(): StyleConfig;
  /** The database's clock (ms since the epoch): FIFO's TTL compares write times with it. */
  nowMs?(): number;
  /** A FIFO drop was installed: `files` tables of `bytes` bytes are gone (counted in stats). */
  onFifoDrop?(files: number, bytes: number): void;
  outputOptions(outputLevel: number): CompactionOutputOptions;
  /**
   * Which files must be rewritten (tables under an old encryption key): a predicate computed once per
   * scheduling pass, or undefined when none can be.
   */
  staleFiles?(): ((f: FileMetadata) => boolean) | undefined;
  /** Awaited before a job's outputOptions() (e.g. resolving the current encryption key). */
  prepareJob?(): Promise<void>;
  log(message: string): void;
  /**
   * A job starts (the 'compaction' event's begin): the callback returned, if any, hears how it ended,
   * once, after onCompaction or onCompactionFailure.
   */
  onCompactionBegin?(plan: CompactionPlan): ((outcome: CompactionOutcome) => void) | undefined;
  onCompaction(stats: CompactionStats): void;
  /**
   * A compaction attempt failed: counted in stats. `isRetried`: it will be retried after a back-off;
   * otherwise onFatalError follows.
   */
  onCompactionFailure(e: unknown, isRetried: boolean): void;
  /** A failure that must stop writes (a MANIFEST failure, a corrupt input, repeated failures). */
  onFatalError(e: unknown, what: string): void;
  /** Whether the database refuses writes already (no point in compacting). */
  isStopped(): boolean;
}
