/**
 * FileMetadata: what the MANIFEST records about one table file, and what every reader of a Version
 * (gets, iterators, the compaction picker) knows about it without opening it.
 * Format: src/manifest/FORMAT.md "NEW_FILE" (the encoding lives in version-edit.ts).
 * Contract: plain, immutable data (numbers and Uint8Arrays only), so it survives structuredClone
 * and postMessage to a compaction worker unchanged. `smallest`/`largest` are internal keys
 * (user key + 8-byte trailer, base/internal-key.ts); the arrays are owned by the metadata and
 * never mutated after construction (makeFileMetadata copies its inputs).
 * Not here: the level (a property of the Version that holds the file), "being compacted" flags
 * (the compaction scheduler keeps those beside the Version: a Set of file numbers in flight).
 */
import { Buffer } from 'node:buffer';
import { printableKey, copyBytes } from '../base/bytes.js';
import { compareInternalKeys, isInternalKey, kindOf, seqOf, userKeyOf, ValueKind } from '../base/internal-key.js';
import { invariant } from '../base/invariant.js';
import { TABLE_UNIQUE_ID_MAX_SIZE } from '../../sstable/format.js';

export interface FileMetadata {
  /** The number in `NNNNNN.sst`. */
  readonly fileNumber: number;
  /** Bytes in the file. */
  readonly fileSize: number;
  /** Unmasked CRC32C of the whole file, computed by the writer as it streams (verifiers and backups compare it). */
  readonly crc32c: number;
  /** Smallest internal key in the file. */
  readonly smallest: Uint8Array;
  /** Largest internal key in the file. */
  readonly largest: Uint8Array;
  /** Smallest and largest sequence number of any entry (not only of the boundary keys). */
  readonly smallestSeq: number;
  readonly largestSeq: number;
  /** Entries, and how many of them are deletions (the picker favours tombstone-heavy files). */
  readonly numEntries: number;
  readonly numDeletions: number;
  /**
   * Entries of the table's range-deletion block (fragment, seq pairs); absent when it has none or
   * an older build recorded the table. The picker and compactRange look for tombstones by it.
   */
  readonly numRangeDeletions?: number;
  /** The encryption key id of an encrypted table (absent for a plain one): rotation and stats read it. */
  readonly keyId?: string;
  /**
   * The table's unique id, also stored in its `unique_id` property (sstable/FORMAT.md): opening checks
   * that the file carries it, so a table swapped for another is refused. Absent for tables written
   * before ids existed, and in MANIFESTs rewritten by builds that skip the field (size check only).
   */
  readonly uniqueId?: Uint8Array;
  /**
   * When the table's newest entry was written, in ms since the epoch, at least: a flush records the
   * flush time, a compaction output the newest of its inputs' (compaction/plan-edit.ts). FIFO's TTL
   * reads it. Absent for tables recorded by older builds (FIFO then never drops them for age).
   */
  readonly newestWriteTimeMs?: number;
}

/** The fields of a FileMetadata; makeFileMetadata validates and copies them. */
export type FileMetadataInit = FileMetadata;

/**
 * A validated FileMetadata whose key arrays are private copies (callers reuse their buffers).
 * Throws InternalError on impossible input: it is the engine, not a user, that builds these.
 */
export function makeFileMetadata(init: FileMetadataInit): FileMetadata {
  const problem = fileMetadataProblem(init);
  invariant(problem === undefined, `bad file metadata for ${init.fileNumber}: ${problem}`);
  return Object.freeze({
    fileNumber: init.fileNumber,
    fileSize: init.fileSize,
    crc32c: init.crc32c,
    smallest: copyBytes(init.smallest),
    largest: copyBytes(init.largest),
    smallestSeq: init.smallestSeq,
    largestSeq: init.largestSeq,
    numEntries: init.numEntries,
    numDeletions: init.numDeletions,
    ...(init.numRangeDeletions !== undefined && init.numRangeDeletions > 0 ? { numRangeDeletions: init.numRangeDeletions } : {}),
    ...(init.keyId !== undefined ? { keyId: init.keyId } : {}),
    ...(init.uniqueId !== undefined ? { uniqueId: new Uint8Array(init.uniqueId) } : {}),
    ...(init.newestWriteTimeMs !== undefined ? { newestWriteTimeMs: init.newestWriteTimeMs } : {}),
  });
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * Why these fields cannot describe a table, or undefined if they can. Shared by makeFileMetadata
 * (a bug: InternalError) and the MANIFEST decoder (bad bytes: CorruptionError).
 */
export function fileMetadataProblem(f: FileMetadataInit): string | undefined {
  if (!isCount(f.fileNumber)) return `file number ${f.fileNumber} is not a non-negative integer`;
  if (!isCount(f.fileSize)) return `file size ${f.fileSize} is not a non-negative integer`;
  if (!Number.isInteger(f.crc32c) || f.crc32c < 0 || f.crc32c > 0xffff_ffff) return `crc32c ${f.crc32c} is not a 32-bit value`;
  if (!isInternalKey(f.smallest)) return 'smallest key is shorter than an internal-key trailer';
  if (!isInternalKey(f.largest)) return 'largest key is shorter than an internal-key trailer';
  if (compareInternalKeys(f.smallest, f.largest) > 0) return 'smallest key sorts after largest key';
  if (!isCount(f.smallestSeq) || !isCount(f.largestSeq)) return 'sequence numbers must be non-negative integers';
  if (f.smallestSeq > f.largestSeq) return `smallest seq ${f.smallestSeq} > largest seq ${f.largestSeq}`;
  if (!isCount(f.numEntries) || !isCount(f.numDeletions)) return 'entry counts must be non-negative integers';
  if (f.numDeletions > f.numEntries) return `${f.numDeletions} deletions > ${f.numEntries} entries`;
  if (f.numRangeDeletions !== undefined && !isCount(f.numRangeDeletions)) return 'range deletion count must be a non-negative integer';
  if (f.keyId !== undefined && (typeof f.keyId !== 'string' || f.keyId.length === 0)) return 'key id must be a non-empty string';
  if (f.uniqueId !== undefined && (!(f.uniqueId instanceof Uint8Array) || f.uniqueId.length === 0 ||
    f.uniqueId.length > TABLE_UNIQUE_ID_MAX_SIZE)) return `unique id must be 1..${TABLE_UNIQUE_ID_MAX_SIZE} bytes`;
  if (f.newestWriteTimeMs !== undefined && !isCount(f.newestWriteTimeMs)) return 'newest write time must be a non-negative integer';
  return undefined;
}

/** The user-key part of `smallest` (a view). */
export function smallestUserKey(f: FileMetadata): Uint8Array { return userKeyOf(f.smallest); }
/** The user-key part of `largest` (a view). */
export function largestUserKey(f: FileMetadata): Uint8Array { return userKeyOf(f.largest); }

/** `'key'@seq:kind` for tools, logs and golden tests. */
export function describeInternalKey(ikey: Uint8Array): string {
  if (!isInternalKey(ikey)) return `<bad internal key 0x${Buffer.from(ikey).toString('hex')}>`;
  const kind = kindOf(ikey);
  const kindName = kind === ValueKind.Put ? 'put' : kind === ValueKind.Delete ? 'del'
    : kind === ValueKind.RangeDelete ? 'rangedel' : `kind${kind}`;
  return `'${printableKey(userKeyOf(ikey))}'@${seqOf(ikey)}:${kindName}`;
}

/**
 * One line per file for tools: `000012 1234B ['a'@5:put .. 'c'@3:put] seq 3..5 entries 10 (2 del) crc …`,
 * then ` id <hex>` when the table has a unique id.
 */
export function describeFile(f: FileMetadata): string {
  return `${String(f.fileNumber).padStart(6, '0')} ${f.fileSize}B [${describeInternalKey(f.smallest)} .. ` +
    `${describeInternalKey(f.largest)}] seq ${f.smallestSeq}..${f.largestSeq} ` +
    `entries ${f.numEntries} (${f.numDeletions} del${f.numRangeDeletions ? `, ${f.numRangeDeletions} rangedel` : ''}) crc ${f.crc32c.toString(16).padStart(8, '0')}` +
    (f.uniqueId !== undefined ? ` id ${Buffer.from(f.uniqueId).toString('hex')}` : '');
}
