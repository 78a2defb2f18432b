/**
 * On-disk constants of the table format and the two fixed-size structures every reader needs first:
 * the block handle and the footer. Spec: sstable/FORMAT.md ("Footer", "Block handle", "Block trailer").
 * Contract: decoders here take untrusted bytes and throw CorruptionError naming the file and offset,
 * or NotSupportedError for a table written by a newer format version; never a RangeError.
 * Not here: block contents (block-builder.ts / block-reader.ts), codecs (compression.ts).
 */
import { getFixed32, getFixed64, getVarint, putFixed32, putFixed64, putVarint, type VarintResult } from '../src/base/coding.js';
import { crc32c, maskCrc, unmaskCrc } from '../src/base/crc32c.js';
import { CorruptionError, NotSupportedError } from '../src/errors.js';

/** "STRTABLE" in ASCII: the last 8 bytes of every table file. */
export const TABLE_MAGIC: Uint8Array = new Uint8Array([0x53, 0x54, 0x52, 0x54, 0x41, 0x42, 0x4c, 0x45]);

/** Format versions, oldest first (Pebble's TableFormat). A reader refuses a version above its newest. */
export const TableFormatVersion = {
  V1: 1,
  /** V1's layout with an encryption header at offset 0 and every block sealed (FORMAT.md §8). */
  V2_ENCRYPTED: 2,
  /**
   * Partitioned metadata (FORMAT.md §9): the footer's index is a top-level index over index and
   * filter partitions of about metadataBlockSize each, read through the block cache.
   */
  V3_PARTITIONED: 3,
  /** V3's layout, encrypted as V2. */
  V4_PARTITIONED_ENCRYPTED: 4,
} as const;
export type TableFormatVersionValue = (typeof TableFormatVersion)[keyof typeof TableFormatVersion];
export const TABLE_FORMAT_VERSION_CURRENT = TableFormatVersion.V1;
/** The newest version this build reads. */
export const TABLE_FORMAT_VERSION_NEWEST = TableFormatVersion.V4_PARTITIONED_ENCRYPTED;

/** Every block of a table of this version is sealed (an encryption header at offset 0). */
export function isEncryptedVersion(v: number): boolean {
  return v === TableFormatVersion.V2_ENCRYPTED || v === TableFormatVersion.V4_PARTITIONED_ENCRYPTED;
}

/** The footer's index of a table of this version is a top-level index over partitions. */
export function isPartitionedVersion(v: number): boolean {
  return v === TableFormatVersion.V3_PARTITIONED || v === TableFormatVersion.V4_PARTITIONED_ENCRYPTED;
}

/** The version a writer gives a table. */
export function tableVersionFor(encrypted: boolean, partitioned: boolean): number {
  if (partitioned) return encrypted ? TableFormatVersion.V4_PARTITIONED_ENCRYPTED : TableFormatVersion.V3_PARTITIONED;
  return encrypted ? TableFormatVersion.V2_ENCRYPTED : TableFormatVersion.V1;
}

/**
 * The `unique_id` property (FORMAT.md "Properties block"): engine writers store TABLE_UNIQUE_ID_SIZE
 * random bytes; readers accept 1..TABLE_UNIQUE_ID_MAX_SIZE so a later writer may choose another size.
 */
export const TABLE_UNIQUE_ID_SIZE = 16;
export const TABLE_UNIQUE_ID_MAX_SIZE = 64;

/** Compression type byte in each block trailer (RocksDB's numbering, so dumps look familiar). */
export const COMPRESSION_NONE = 0x00;
export const COMPRESSION_LZ4 = 0x04;
export const COMPRESSION_ZSTD = 0x07;

/** Block trailer: 1-byte compression type + fixed32 masked CRC32C of (stored bytes, type byte). */
export const BLOCK_TRAILER_SIZE = 5;

/**
 * Footer: metaindex handle (fixed64 offset, fixed64 size), index handle (same), fixed32 format
 * version, fixed32 masked CRC32C of the 36 bytes before it, then the 8-byte magic.
 */
export const FOOTER_SIZE = 48;
const FOOTER_CRC_OFFSET = 36;
const FOOTER_MAGIC_OFFSET = 40;

/** Compressed payloads start with the fixed32 raw length; raw may not exceed this many times the payload. */
export const MAX_COMPRESSION_RATIO = 256;

/** Metaindex entry names (bytewise sorted in the metaindex block). */
export const META_FILTER_PREFIX = 'filter.';
export const META_PROPERTIES = 'strata.properties';
export const META_RANGE_DEL = 'strata.range_del';

/** Where a block lives: its offset and its stored size, excluding the 5-byte trailer. */
export interface BlockHandle {
  offset: number;
  size: number;
}

/** Longest varint encoding of a handle (two varints of values below 2^53). */
export const MAX_BLOCK_HANDLE_LENGTH = 16;

/** Encodes a handle as two varints at off; returns the offset after it. */
export function putBlockHandle(buf: Uint8Array, off: number, h: BlockHandle): number {
  return putVarint(buf, putVarint(buf, off, h.offset), h.size);
}

const slot: VarintResult = { value: 0, offset: 0 };

/**
 * Reads one varint handle at buf[start, end) into `out`, bounds-checked against `limit` (the first
 * byte a block may not reach: the footer's offset); returns the offset after it.
 */
function readHandle(
  buf: Uint8Array, start: number, end: number, limit: number, out: BlockHandle, fileName: string, fileOffset: number,
): number {
  if (!getVarint(buf, start, end, slot)) throw new CorruptionError(fileName, fileOffset, 'bad block handle offset varint');
  const offset = slot.value;
  if (!getVarint(buf, slot.offset, end, slot)) throw new CorruptionError(fileName, fileOffset, 'bad block handle size varint');
  checkHandleBounds(offset, slot.value, limit, fileName, fileOffset);
  out.offset = offset;
  out.size = slot.value;
  return slot.offset;
}

/** Decodes the varint handle that is all of buf[start, end) into `out` (bounds-checked as readHandle). */
export function decodeBlockHandle(
  buf: Uint8Array, start: number, end: number, limit: number,
  out: BlockHandle, fileName: string, fileOffset: number,
): BlockHandle {
  if (readHandle(buf, start, end, limit, out, fileName, fileOffset) !== end) {
    throw new CorruptionError(fileName, fileOffset, 'trailing bytes after block handle');
  }
  return out;
}

/**
 * Decodes the two handles of a partitioned table's top-level index entry (index partition, then
 * filter partition; a filter handle of size 0 means no filter) from buf[start, end), bounds-checked.
 */
export function decodePartitionHandles(
  buf: Uint8Array, start: number, end: number, limit: number,
  index: BlockHandle, filter: BlockHandle, fileName: string, fileOffset: number,
): void {
  const at = readHandle(buf, readHandle(buf, start, end, limit, index, fileName, fileOffset), end, limit, filter, fileName, fileOffset);
  if (at !== end) throw new CorruptionError(fileName, fileOffset, 'trailing bytes after partition handles');
}

export function checkHandleBounds(offset: number, size: number, limit: number, fileName: string, fileOffset: number): void {
  if (offset + size + BLOCK_TRAILER_SIZE > limit) {
    throw new CorruptionError(fileName, fileOffset, `block handle (offset ${offset}, size ${size}) runs past ${limit}`);
  }
}

export interface Footer {
  metaindex: BlockHandle;
  index: BlockHandle;
  formatVersion: number;
}

export function encodeFooter(f: Footer): Uint8Array {
  const out = new Uint8Array(FOOTER_SIZE);
  putFixed64(out, 0, f.metaindex.offset);
  putFixed64(out, 8, f.metaindex.size);
  putFixed64(out, 16, f.index.offset);
  putFixed64(out, 24, f.index.size);
  putFixed32(out, 32, f.formatVersion);
  putFixed32(out, FOOTER_CRC_OFFSET, maskCrc(crc32c(out.subarray(0, FOOTER_CRC_OFFSET))));
  out.set(TABLE_MAGIC, FOOTER_MAGIC_OFFSET);
  return out;
}

/**
 * Decodes the footer (the last FOOTER_SIZE bytes of a file of `fileSize` bytes). Order of checks:
 * magic (is this a table at all?), CRC, version, then handle bounds.
 */
export function decodeFooter(bytes: Uint8Array, fileSize: number, fileName: string): Footer {
  const at = fileSize - FOOTER_SIZE;
  if (fileSize < FOOTER_SIZE || bytes.length !== FOOTER_SIZE) {
    throw new CorruptionError(fileName, Math.max(0, at), `file of ${fileSize} bytes is too short for a table footer`);
  }
  for (let i = 0; i < TABLE_MAGIC.length; i++) {
    if (bytes[FOOTER_MAGIC_OFFSET + i] !== TABLE_MAGIC[i]) {
      throw new CorruptionError(fileName, at + FOOTER_MAGIC_OFFSET, 'bad table magic (not a table, or truncated)');
    }
  }
  const stored = unmaskCrc(getFixed32(bytes, FOOTER_CRC_OFFSET));
  if (stored !== crc32c(bytes.subarray(0, FOOTER_CRC_OFFSET))) {
    throw new CorruptionError(fileName, at + FOOTER_CRC_OFFSET, 'footer checksum mismatch');
  }
  const formatVersion = getFixed32(bytes, 32);
  if (formatVersion === 0) throw new CorruptionError(fileName, at + 32, 'format version 0');
  if (formatVersion > TABLE_FORMAT_VERSION_NEWEST) {
    throw new NotSupportedError(`${fileName}: table format version ${formatVersion} is newer than this build reads (${TABLE_FORMAT_VERSION_NEWEST})`);
  }
  const nums = [getFixed64(bytes, 0), getFixed64(bytes, 8), getFixed64(bytes, 16), getFixed64(bytes, 24)];
  for (let i = 0; i < 4; i++) {
    if (Number.isNaN(nums[i])) throw new CorruptionError(fileName, at + i * 8, 'footer field out of range');
  }
  const metaindex = { offset: nums[0]!, size: nums[1]! };
  const index = { offset: nums[2]!, size: nums[3]! };
  checkHandleBounds(metaindex.offset, metaindex.size, at, fileName, at);
  checkHandleBounds(index.offset, index.size, at, fileName, at + 16);
  return { metaindex, index, formatVersion };
}
