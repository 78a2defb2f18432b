/**
 * A flush as a background job: one frozen memtable written as one L0 table, run by an executor
 * (executor.ts) inline or in a compaction worker, so that encoding, compressing and writing the table
 * (a few hundred ms for a 64 MiB memtable) stay off the main thread.
 * The main thread allocates the file number and installs the VersionEdit (src/engine/flush-scheduler.ts);
 * a job only writes the table: no partial file is left on failure (src/table/table-output.ts). Versions
 * no reader can see are left out (flush-version-filter.ts).
 * The memtable reaches a worker as a copy in the executor's pooled shared memory (memtable-handoff.ts,
 * from MemTable.share(); its few range tombstones are cloned beside it), and the main thread keeps
 * reading its own memtable until the edit installs.
 * Keys travel like a compaction's (plan.ts): plain bytes of the current key, cloned to the in-process
 * worker, never written anywhere. Safe in a worker.
 */
import type { FileSystem } from '../src/fs/file-system.js';
import { FileKind } from '../src/encryption/file-cipher.js';
import { KeyRing } from '../src/encryption/keyring.js';
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { ReadableMemTable } from '../src/memtable/readable-memtable.js';
import { writeTable } from '../src/table/table-output.js';
import { FlushVersionFilter } from './flush-version-filter.js';
import type { TableOptions } from '../src/table/table-options.js';

/** A flush's parameters as plain data (posted to a worker beside the memtable's copy). */
export interface FlushParams {
  dir: string;
  /** Allocated by the main thread, listed in its pending outputs while the job runs. */
  fileNumber: number;
  /** Level 0's table options (src/table/table-options.ts). */
  table: TableOptions;
  creationTimeMs: number;
  /** Live snapshot sequences, ascending, when the flush began: which old versions it must keep. */
  snapshots: readonly number[];
  /** Encryption at rest: the table is sealed under `currentKeyId`, whose key is in `keys`. */
  encryption?: { currentKeyId: string; keys: Map<string, Uint8Array>; allowPlaintext: boolean };
}

export interface FlushJob extends FlushParams {
  mem: ReadableMemTable;
}

export interface FlushResult {
  /** Undefined when the memtable held nothing (no file is written). */
  meta: FileMetadata | undefined;
  /** Where it ran: the executor's kind. */
  ranIn: 'inline' | 'worker';
}

/** Writes `mem` as table `p.fileNumber` through `fs` (fsynced, directory entry synced). */
export async function runFlush(fs: FileSystem, p: FlushParams, mem: ReadableMemTable): Promise<FileMetadata | undefined> {
  const enc = p.encryption;
  const cipher = enc
    ? await KeyRing.fromKeys(enc.currentKeyId, enc.keys, enc.allowPlaintext).newFileCipher(FileKind.TABLE)
    : undefined;
  const meta = await writeTable({
    fs, dir: p.dir, fileNumber: p.fileNumber, options: p.table, creationTimeMs: p.creationTimeMs,
    ...(cipher ? { cipher } : {}),
  }, new FlushVersionFilter(mem.newIterator(), p.snapshots), mem.rangeDelFragments());
  // Every entry of the memtable was written before the flush began: its time bounds their newest write.
  return meta && Object.freeze({ ...meta, newestWriteTimeMs: Math.max(0, Math.floor(p.creationTimeMs)) });
}
