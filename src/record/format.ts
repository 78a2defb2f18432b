/**
 * Constants of the record framing shared by the WAL and the MANIFEST: 32 KiB blocks, 7-byte
 * physical-record headers (11 bytes for the recyclable types, which carry the log number), fragment
 * types, and the checksum each header carries.
 * Format: src/record/FORMAT.md (LevelDB's doc/log_format.md, with the deterministic handling of
 * zero-filled regions, torn trailers and tails spelled out there).
 * Writing lives in record-writer.ts, reading in record-reader.ts; nothing here does I/O.
 */
import { crc32c, maskCrc } from '../base/crc32c.js';

/** Records are laid out in blocks of this size; a header never straddles a block boundary. */
export const BLOCK_SIZE = 32 * 1024;

/** checksum fixed32 LE, length fixed16 LE, type u8. */
export const HEADER_SIZE = 7;

/** The largest payload one physical record can carry (a whole block minus its header). */
export const MAX_FRAGMENT_PAYLOAD = BLOCK_SIZE - HEADER_SIZE;

/** The version of this framing; FORMAT.md "Versions". Not stored: version 2 is told apart by its record types. */
export const RECORD_FORMAT_VERSION = 2;

/** Recyclable records add the low 32 bits of the log number (fixed32 LE) after the type byte. */
export const RECYCLABLE_HEADER_SIZE = 11;

/** Physical record types. 0 is never written: an all-zero header is a zero-filled region. */
export const RecordType = {
  Zero: 0,
  Full: 1,
  First: 2,
  Middle: 3,
  Last: 4,
  // Recyclable types (version 2): the header carries the log number, so a record left in a reused
  // file by its previous life is told apart from this life's records.
  RecyclableFull: 5,
  RecyclableFirst: 6,
  RecyclableMiddle: 7,
  RecyclableLast: 8,
} as const;
export type RecordTypeValue = (typeof RecordType)[keyof typeof RecordType];

/** Highest type a reader of this version understands. */
export const MAX_RECORD_TYPE = RecordType.RecyclableLast;

/** Distance from a legacy type to its recyclable twin. */
export const RECYCLABLE_TYPE_OFFSET = 4;

export function isRecyclableType(type: number): boolean {
  return type >= RecordType.RecyclableFull && type <= RecordType.RecyclableLast;
}

export function recordTypeName(type: number): string {
  switch (type) {
    case RecordType.Zero: return 'ZERO';
    case RecordType.Full: return 'FULL';
    case RecordType.First: return 'FIRST';
    case RecordType.Middle: return 'MIDDLE';
    case RecordType.Last: return 'LAST';
    case RecordType.RecyclableFull: return 'RECYCLABLE_FULL';
    case RecordType.RecyclableFirst: return 'RECYCLABLE_FIRST';
    case RecordType.RecyclableMiddle: return 'RECYCLABLE_MIDDLE';
    case RecordType.RecyclableLast: return 'RECYCLABLE_LAST';
    default: return `type ${type}`;
  }
}

/** Unmasked CRC32C of the single type byte, per type: the checksum of a record continues from it. */
const TYPE_CRC: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((t) => crc32c(Uint8Array.of(t)));

/** Unmasked CRC32C of the type byte alone. */
export function typeCrc(type: number): number {
  return type <= MAX_RECORD_TYPE ? TYPE_CRC[type]! : crc32c(Uint8Array.of(type));
}

const LOG_NUMBER_BYTES = new Uint8Array(5);

/** Unmasked CRC32C of a recyclable header's type byte then its 4 log-number bytes (low 32 bits, LE). */
export function recyclableTypeCrc(type: number, logNumber: number): number {
  const b = LOG_NUMBER_BYTES;
  const n = logNumber >>> 0;
  b[0] = type;
  b[1] = n & 0xff;
  b[2] = (n >>> 8) & 0xff;
  b[3] = (n >>> 16) & 0xff;
  b[4] = n >>> 24;
  return crc32c(b);
}

/**
 * The masked CRC32C stored in a header: over the type byte, then the payload
 * data[start, end). Nothing else (not the length: a bad length is caught by the bounds checks
 * and by the checksum landing on the wrong bytes).
 */
export function recordChecksum(type: number, data: Uint8Array, start: number, end: number): number {
  return maskCrc(crc32c(data.subarray(start, end), typeCrc(type)));
}

/** The checksum of a recyclable record: over the type byte, the log number field, then the payload. */
export function recyclableChecksum(type: number, logNumber: number, data: Uint8Array, start: number, end: number): number {
  return maskCrc(crc32c(data.subarray(start, end), recyclableTypeCrc(type, logNumber)));
}
