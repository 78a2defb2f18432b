/**
 * The whole-file CRC32C of a table (the checksum the MANIFEST and backup metadata record), read in
 * 1 MiB chunks so a large file never sits in memory at once. Used by db.verifyChecksums(), backup
 * verify, and the verified copies of backup and restore (which also write each chunk out).
 * Contract: reads bytes [0, size) of an open file, in order, one read at a time; the caller owns the
 * handle and compares the result with what it expects. Main thread or worker.
 * Not here: the CRC32C itself (src/base/crc32c.ts), or computing it while writing (checksummed-file.ts).
 */
import { crc32c } from '../base/crc32c.js';
import { CorruptionError } from '../errors.js';
import type { ReadableFile } from './file-system.js';

/** Bytes per read: large enough that the calls cost little, small enough that one chunk is all a check holds. */
export const FILE_CRC_CHUNK = 1 << 20;

/**
 * Unmasked CRC32C of bytes [0, size) of `file`. `onChunk` sees each chunk (and its offset) right after it
 * is read and folded in, before the next read: a copy appends it, a progress report counts it, an abort
 * check may throw. A file that ends before `size` is a CorruptionError naming the file and the offset.
 */
export async function crc32cOfFile(file: ReadableFile, size: number,
  onChunk?: (chunk: Uint8Array, offset: number) => void): Promise<number> {
  let crc = 0;
  for (let off = 0; off < size; off += FILE_CRC_CHUNK) {
    const chunk = await file.read(off, Math.min(FILE_CRC_CHUNK, size - off));
    if (chunk.length === 0) throw new CorruptionError(file.path, off, `file ends at byte ${off}, short of the ${size} bytes expected`);
    crc = crc32c(chunk, crc);
    onChunk?.(chunk, off);
  }
  return crc;
}
