/**
 * Constants of the write-ahead log format: the file header record's magic and version, and limits.
 * Format: src/wal/FORMAT.md. The record framing underneath is src/record/FORMAT.md.
 * Encoding and decoding: wal-record.ts (records), write-batch.ts (operations).
 */

/** "SWAL" in ASCII: the first 4 bytes of the header record that starts every WAL file. */
export const WAL_MAGIC = Uint8Array.of(0x53, 0x57, 0x41, 0x4c);

/** Written in the header record; readers refuse a higher one with ERR_NOT_SUPPORTED. */
export const WAL_FORMAT_VERSION = 2;

/** The versions this build can replay. */
export const WalFormatVersion = {
  /** Header record, group records with batch boundaries and commit time, Put/Delete operations. */
  V1: 1,
  /** Adds the RangeDelete operation (kind 0x0f); a version-1 file holding one is corrupt. */
  V2: 2,
} as const;

/** magic (4) + version (1) + log number (fixed64). */
export const WAL_HEADER_SIZE = 13;

/** firstSeq (fixed64) + commitTimeMs (fixed64) + batch count (varint, >= 1 byte). */
export const GROUP_HEADER_MIN_SIZE = 17;
