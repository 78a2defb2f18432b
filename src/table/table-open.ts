/**
 * Opens an engine table for reading: a TableReader over internal keys (the engine's comparator and
 * the user-key filter transform the writer used), with the database's keys for an encrypted table,
 * checked against the record that lists it (size before the open, unique id after it:
 * src/manifest/table-identity.ts). The table cache, compaction inputs, backup verification and the
 * inspect tools all open tables here, so a reader is never opened with a mismatched comparator,
 * filter transform or unchecked identity.
 * Contract: the ReadableFile passed to openTableReader() is taken over: on success the reader owns
 * it, on failure it is closed before the error is rethrown. Safe in a worker.
 */
import type { FileSystem, ReadableFile } from '../fs/file-system.js';
import type { KeyResolver } from '../encryption/file-cipher.js';
import { internalKeyComparator, internalKeyToUserKey } from '../base/internal-key.js';
import { tableFileName } from '../manifest/file-names.js';
import { checkTableIdentity, checkTableSize, type TableIdentity } from '../manifest/table-identity.js';
import { TableReader } from '../../sstable/table-reader.js';
import type { BlockCache } from '../../sstable/block-cache.js';

export interface TableOpenOptions {
  /** Keys for an encrypted table; without them one is refused, naming its key id. */
  keys?: KeyResolver;
  /** Shared block cache; without one every data block read goes to the file. */
  cache?: BlockCache;
  /** Read data blocks with readSync (TableReaderOptions.syncReads). */
  syncReads: boolean;
  /** What the MANIFEST records about the table; undefined: not checked here (the caller checks later). */
  expected?: TableIdentity;
}

/** Opens table `path` over `file` (which it takes over), checked against `o.expected`. */
export async function openTableReader(file: ReadableFile, path: string, o: TableOpenOptions): Promise<TableReader> {
  let reader: TableReader | undefined;
  try {
    // A file that is not the table the MANIFEST names must not be read as data.
    if (o.expected) checkTableSize(path, file.size, o.expected);
    reader = await TableReader.open(file, {
      fileName: path,
      comparator: internalKeyComparator,
      filterKeyTransform: internalKeyToUserKey,
      syncReads: o.syncReads,
      ...(o.cache ? { cache: o.cache } : {}),
      ...(o.keys ? { keys: o.keys } : {}),
    });
    if (o.expected) checkTableIdentity(reader, o.expected);
    return reader;
  } catch (e) {
    if (reader) await reader.close().catch(() => undefined);
    else await file.close().catch(() => undefined);
    throw e;
  }
}

/** Opens table `t.fileNumber` of `dir`, checked against `t` (a FileMetadata is a TableIdentity). */
export async function openTable(fs: FileSystem, dir: string, t: TableIdentity,
  o: Omit<TableOpenOptions, 'expected'>): Promise<TableReader> {
  const path = tableFileName(dir, t.fileNumber);
  return openTableReader(await fs.openReadable(path), path, { ...o, expected: t });
}
