/**
 * A consistent point in time of a live database, for checkpoints and backups: the current Version
 * (referenced, so its tables stay on disk), the memtables of that instant, and the published sequence
 * S. Tables hold a prefix of the commit order; the memtables hold the rest up to S (and maybe newer
 * entries, which dumpMemtables() filters out), so "tables + memtable entries with seq <= S" is
 * exactly the database as of S: one point in time, while writes go on.
 */
import type { FileSystem } from '../fs/file-system.js';
import type { Version } from '../manifest/version.js';
import type { ReadableMemTable } from '../memtable/readable-memtable.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { MergingIterator } from '../iterator/merging-iterator.js';
import { compareInternalKeys } from '../base/internal-key.js';
import { SnapshotFilterIterator } from '../mvcc/snapshot-filter-iterator.js';
import { writeTable } from '../table/table-output.js';
import type { TableOptions } from '../table/table-options.js';
import { FileKind } from '../encryption/file-cipher.js';
import type { KeyRing } from '../encryption/keyring.js';
import { FragmentSet } from '../rangedel/fragment-set.js';

export interface PinnedState {
  version: Version;
  memtables: ReadableMemTable[];
  sequence: number;
  nextFileNumber: number;
  release(): void;
}

/** What backup and checkpoint need from the live database (src/engine/backup-source.ts implements it). */
export interface BackupSource {
  readonly dir: string;
  readonly fs: FileSystem;
  pin(): PinnedState;
  newFileNumber(): number;
  /** The options of the memtable dump, an L0 table like a flush's (src/table/table-options.ts). */
  tableOptions(): TableOptions;
  clock(): number;
  /**
   * Encryption at rest: the database's keys (undefined when it is not encrypted). Every file a
   * checkpoint or backup writes itself (memtable dump, MANIFEST, metadata) is sealed with the current key.
   */
  readonly keys: KeyRing | undefined;
}

/**
 * Writes the pinned memtables' entries with seq <= S as one table `fileNumber` in `dir` with the
 * source's table options (undefined when there is none), encrypted under the current key when the
 * source has keys. Cost: O(memtable), never O(database).
 */
export async function dumpMemtables(fs: FileSystem, dir: string, fileNumber: number, pin: PinnedState,
  source: Pick<BackupSource, 'tableOptions' | 'clock' | 'keys'>): Promise<FileMetadata | undefined> {
  if (pin.memtables.every((m) => m.entries === 0)) return undefined;
  const keys = source.keys;
  const cipher = keys ? await keys.newFileCipher(FileKind.TABLE) : undefined;
  const merged = new MergingIterator(pin.memtables.map((m) => m.newIterator()), compareInternalKeys);
  const it = new SnapshotFilterIterator(merged, pin.sequence);
  try {
    // Range tombstones at or below S go with the entries (a later one must not reach the dump).
    const rangeDels = FragmentSet.fromTombstones(pin.memtables.flatMap((m) => m.rangeDelFragments().tombstones())
      .filter((t) => t.seq <= pin.sequence));
    return await writeTable({
      fs, dir, fileNumber, options: source.tableOptions(), creationTimeMs: source.clock(), ...(cipher ? { cipher } : {}),
    }, it, rangeDels);
  } finally {
    const c = it.close();
    if (c) await c;
  }
}
