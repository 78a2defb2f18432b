/**
 * db.verifyChecksums(): reads every block of every live table and checks its CRC32C (the table
 * reader names the file and offset of the first bad block), then the whole-file CRC32C recorded in
 * the MANIFEST (which also covers the footer and any bytes between blocks).
 * Without onCorruption the first damaged table rejects; with it every table is checked and each
 * damaged one reported (stratadb check lists them all). A read-only DB reads its pinned
 * descriptors (cache/file-pins.ts), so a writer deleting a table mid-check changes nothing.
 */
import { CorruptionError } from '../errors.js';
import type { Version } from '../manifest/version.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import type { TableCache } from '../cache/table-cache.js';
import type { FileSystem } from '../fs/file-system.js';
import { crc32cOfFile } from '../fs/file-crc.js';
import { tableFileName } from '../manifest/file-names.js';

export async function verifyTables(
  fs: FileSystem, dir: string, version: Version, tables: TableCache, onCorruption?: (e: CorruptionError) => void,
): Promise<void> {
  for (const files of version.levels) {
    for (const f of files) {
      try {
        await verifyTable(fs, dir, f, tables);
      } catch (e) {
        if (!onCorruption || !(e instanceof CorruptionError)) throw e;
        onCorruption(e);
      }
    }
  }
}

async function verifyTable(fs: FileSystem, dir: string, f: FileMetadata, tables: TableCache): Promise<void> {
  const h = await tables.acquire(f);
  try {
    await h.reader.verifyChecksums();
  } finally {
    h.release();
  }
  const file = tables.pinnedFile(f.fileNumber) ?? await fs.openReadable(tableFileName(dir, f.fileNumber));
  try {
    const crc = await crc32cOfFile(file, f.fileSize);
    if (file.size !== f.fileSize) {
      throw new CorruptionError(file.path, Math.min(file.size, f.fileSize), `file is ${file.size} bytes, the MANIFEST records ${f.fileSize}`);
    }
    if (crc !== f.crc32c) {
      throw new CorruptionError(file.path, 0, `whole-file CRC32C ${crc.toString(16)} does not match the MANIFEST's ${f.crc32c.toString(16)}`);
    }
  } finally {
    await file.close();
  }
}
