/**
 * Is this file the table the MANIFEST names? A table carries its unique id in its properties and the
 * MANIFEST records the same id and the file's size (FORMAT.md "FILE_UNIQUE_ID"; sstable/FORMAT.md
 * "unique_id"), as RocksDB's verify_sst_unique_id_in_manifest does. Without this, two valid tables
 * swapped (or one copied over another, or a table from another database with the same number)
 * would be served as data: wrong values and missing keys, no error.
 * Contract: every place that opens a table for the engine calls checkTableSize before opening (the
 * file's size is known without reading it) and checkTableIdentity once the reader is open (the
 * properties are read at open anyway): no cost per read. A mismatch is CorruptionError naming the
 * file. A MANIFEST entry without an id (older builds) is checked by size only; a table without an id
 * whose entry has one is refused (it cannot be the table that was written).
 */
import { CorruptionError } from '../errors.js';
import type { TableReader } from '../../sstable/table-reader.js';
import { META_PROPERTIES } from '../../sstable/format.js';
import { formatUniqueId } from '../../sstable/unique-id.js';
import { equalBytes } from '../base/bytes.js';

/** What the MANIFEST says about a table's identity (a FileMetadata has these fields). */
export interface TableIdentity {
  readonly fileNumber: number;
  readonly fileSize: number;
  readonly uniqueId?: Uint8Array;
}

/** `listedBy` names the record that lists the table: the MANIFEST, or a backup's metadata. */
function notTheTable(fileName: string, offset: number, expected: TableIdentity, listedBy: string, detail: string): CorruptionError {
  return new CorruptionError(fileName, offset,
    `not the table ${listedBy} lists as ${String(expected.fileNumber).padStart(6, '0')}: ${detail}`);
}

/** Before opening: the file has the size the MANIFEST recorded. */
export function checkTableSize(fileName: string, actualSize: number, expected: TableIdentity, listedBy = 'the MANIFEST'): void {
  if (actualSize !== expected.fileSize) {
    throw notTheTable(fileName, Math.min(actualSize, expected.fileSize), expected, listedBy,
      `${listedBy} records ${expected.fileSize} bytes, the file has ${actualSize}`);
  }
}

/** After opening: size again (a reader may come from elsewhere), then the unique id. */
export function checkTableIdentity(reader: TableReader, expected: TableIdentity, listedBy = 'the MANIFEST'): void {
  checkTableSize(reader.fileName, reader.fileSize, expected, listedBy);
  const want = expected.uniqueId;
  if (want === undefined) return;
  const found = reader.properties.uniqueId;
  if (found !== undefined && equalBytes(found, want)) return;
  const at = reader.metaHandles.get(META_PROPERTIES)?.offset ?? 0;
  throw notTheTable(reader.fileName, at, expected, listedBy,
    `${listedBy} expects unique id ${formatUniqueId(want)}, the file has ${found === undefined ? 'none' : formatUniqueId(found)}`);
}
