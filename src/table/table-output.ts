/**
 * Writes one engine table: opens the file, streams internal-key entries into a TableWriter, finishes,
 * fsyncs, closes and returns the FileMetadata a VersionEdit (or a backup's metadata) records: size,
 * whole-file CRC32C, smallest/largest keys and sequences, entry counts, key id and a fresh unique id
 * (the same id is in the table's properties: src/manifest/table-identity.ts).
 * Every engine table goes through here: flush and point-in-time restore output and checkpoint/backup
 * memtable dumps (writeTable below), and each compaction output (compaction/runner.ts opens one
 * TableOutput per output file and decides where to cut).
 * Contract:
 * - Entries go straight to `output.writer.add()` (the hot path: no wrapper call per key); range
 *   tombstones, already fragmented, through setRangeDeletions(); then finish() once, or abandon().
 * - Range tombstones extend the bounds the metadata records (RocksDB): smallest is the first
 *   fragment's start at its newest seq when that sorts first, largest the last fragment's exclusive
 *   end at MAX_SEQUENCE (a sentinel that sorts before every real version of that user key) when
 *   that sorts last; an end that is some key k's immediate successor (k + 0x00, as a compaction
 *   output's share of a tombstone ends) is recorded as k at seq 0 instead, the last internal key of
 *   k, so the next output of a level, which starts at k + 0x00, shares no user key with it. The table's own key.smallest/key.largest properties stay the data blocks' keys.
 * - A failure anywhere (open, add, finish, sync, close) leaves no file: finish() removes the file
 *   before rethrowing, abandon() removes it, and open() removes it if the writer cannot be set up.
 * - finish() does not sync the directory: the caller does, once for all its outputs, before a
 *   MANIFEST edit names them (writeTable does it for its one table).
 * Keys are not plain data: an encrypted table gets a fresh FileCipher (kind TABLE) beside the plain
 * TableOptions. Safe in a worker (no clock read here: the creation time is passed in).
 */
import type { FileSystem } from '../fs/file-system.js';
import { ChecksummedFile } from '../fs/checksummed-file.js';
import type { InternalIterator } from '../base/internal-iterator.js';
import {
  compareInternalKeys, internalKeyComparator, internalKeyToUserKey, makeInternalKey, MAX_SEQUENCE, ValueKind,
} from '../base/internal-key.js';
import type { FileCipher } from '../encryption/file-cipher.js';
import { InternalError } from '../errors.js';
import { makeFileMetadata, type FileMetadata } from '../manifest/file-metadata.js';
import { tableFileName } from '../manifest/file-names.js';
import { TableWriter } from '../../sstable/table-writer.js';
import { newTableUniqueId } from '../../sstable/unique-id.js';
import { FragmentSet } from '../rangedel/fragment-set.js';
import { encodeFragments } from '../rangedel/table-codec.js';
import type { TableOptions } from './table-options.js';

export interface TableOutputParams {
  fs: FileSystem;
  dir: string;
  fileNumber: number;
  options: TableOptions;
  /** Stored in the table's properties (from the database's clock; a worker gets it as a number). */
  creationTimeMs: number;
  /** Encryption at rest: a fresh FileCipher (kind TABLE) for this file. */
  cipher?: FileCipher;
  /** Refuse to open over an existing file (compaction outputs). */
  exclusive?: boolean;
}

export class TableOutput {
  private done = false;
  private rangeDels: FragmentSet = FragmentSet.EMPTY;

  private constructor(
    private readonly fs: FileSystem,
    readonly fileNumber: number,
    readonly path: string,
    private readonly file: ChecksummedFile,
    /** Add entries here, in internal-key order (TableWriter's contract). */
    readonly writer: TableWriter,
    private readonly uniqueId: Uint8Array,
    private readonly keyId: string | undefined,
  ) {}

  /** Creates table `p.fileNumber` in `p.dir`, empty and ready for entries. */
  static async open(p: TableOutputParams): Promise<TableOutput> {
    const path = tableFileName(p.dir, p.fileNumber);
    const file = new ChecksummedFile(await p.fs.openWritable(path, p.exclusive ? { exclusive: true } : undefined));
    try {
      const uniqueId = newTableUniqueId();
      const writer = new TableWriter(file, {
        ...p.options,
        comparator: internalKeyComparator,
        filterKeyTransform: internalKeyToUserKey,
        keysAreInternal: true,
        creationTimeMs: p.creationTimeMs,
        fileName: path,
        uniqueId,
        ...(p.cipher ? { cipher: p.cipher } : {}),
      });
      return new TableOutput(p.fs, p.fileNumber, path, file, writer, uniqueId, p.cipher?.keyId);
    } catch (e) {
      await file.close().catch(() => undefined);
      await p.fs.remove(path).catch(() => undefined);
      throw e;
    }
  }

  /** The table's range tombstones (fragmented; written into its range-deletion block at finish()). */
  setRangeDeletions(set: FragmentSet): void {
    this.rangeDels = set;
  }

  /** Finishes, fsyncs and closes the table; its metadata. On failure the file is gone and the error rethrown. */
  async finish(): Promise<FileMetadata> {
    if (this.done) throw new InternalError(`table ${this.fileNumber} was already finished or abandoned`);
    this.done = true;
    try {
      encodeFragments(this.rangeDels, (k, v) => this.writer.addRangeDeletion(k, v));
      const result = await this.writer.finish();
      await this.file.sync();
      await this.file.close();
      const props = result.properties;
      const { smallest, largest } = boundsWithTombstones(props.smallestKey, props.largestKey, this.rangeDels);
      if (smallest === undefined || largest === undefined ||
        props.smallestSeq === undefined || props.largestSeq === undefined) {
        throw new InternalError(`table ${this.fileNumber} was written without key or sequence bounds`);
      }
      return makeFileMetadata({
        fileNumber: this.fileNumber,
        fileSize: result.fileSize,
        crc32c: this.file.checksum,
        smallest,
        largest,
        smallestSeq: props.smallestSeq,
        largestSeq: props.largestSeq,
        numEntries: props.numEntries,
        numDeletions: props.numDeletions,
        numRangeDeletions: this.rangeDels.entryCount,
        ...(this.keyId !== undefined ? { keyId: this.keyId } : {}),
        uniqueId: this.uniqueId,
      });
    } catch (e) {
      await this.discard();
      throw e;
    }
  }

  /** Stops writing and removes the file; never throws (it runs on error paths). */
  async abandon(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.writer.abandon();
    await this.discard();
  }

  private async discard(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await this.fs.remove(this.path).catch(() => undefined);
  }
}

/** The table's internal-key bounds: its data blocks' first and last keys, extended by its tombstones (header). */
export function boundsWithTombstones(
  smallestKey: Uint8Array | undefined, largestKey: Uint8Array | undefined, rangeDels: FragmentSet,
): { smallest: Uint8Array | undefined; largest: Uint8Array | undefined } {
  const frags = rangeDels.fragments();
  let smallest = smallestKey;
  let largest = largestKey;
  if (frags.length > 0) {
    const first = frags[0]!;
    const lo = makeInternalKey(first.start, first.seqs[0]!, ValueKind.RangeDelete);
    if (smallest === undefined || compareInternalKeys(lo, smallest) < 0) smallest = lo;
    const hi = exclusiveEndBound(frags[frags.length - 1]!.end);
    if (largest === undefined || compareInternalKeys(hi, largest) > 0) largest = hi;
  }
  return { smallest, largest };
}

/** The largest internal key of a table whose last tombstone fragment ends (exclusive) at `end` (header). */
function exclusiveEndBound(end: Uint8Array): Uint8Array {
  if (end.length > 0 && end[end.length - 1] === 0) return makeInternalKey(end.subarray(0, end.length - 1), 0, ValueKind.RangeDelete);
  return makeInternalKey(end, MAX_SEQUENCE, ValueKind.RangeDelete);
}

/**
 * A 64 MiB memtable takes a few hundred ms to encode and compress; writing it in one go would freeze
 * the event loop, so writeTable yields (setImmediate) after about this much work (the loop delay it
 * adds to a 1 ms timer).
 */
const SLICE_MS = 1;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Writes every entry of `iter` (positioned here, not closed) and the tombstones `rangeDels` as table
 * `p.fileNumber`, fsyncs it and its directory entry, and returns its metadata; undefined, with no
 * file left, when both are empty.
 * For one-table writers on the main thread: flush, point-in-time restore, memtable dumps.
 */
export async function writeTable(p: TableOutputParams, iter: InternalIterator, rangeDels: FragmentSet = FragmentSet.EMPTY): Promise<FileMetadata | undefined> {
  const out = await TableOutput.open(p);
  out.setRangeDeletions(rangeDels);
  try {
    let step = iter.seekToFirst();
    if (step) await step;
    if (!iter.valid() && rangeDels.isEmpty) {
      await out.abandon();
      return undefined;
    }
    const writer = out.writer;
    let sliceStart = performance.now();
    let n = 0;
    while (iter.valid()) {
      const a = writer.add(iter.key(), iter.value());
      if (a) await a;
      step = iter.next();
      if (step) await step;
      if ((++n & 63) === 0 && performance.now() - sliceStart > SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  } catch (e) {
    await out.abandon();
    throw e;
  }
  const meta = await out.finish();
  try {
    // The table's directory entry must be durable before a MANIFEST edit names it.
    await p.fs.syncDir(p.dir);
  } catch (e) {
    await p.fs.remove(out.path).catch(() => undefined);
    throw e;
  }
  return meta;
}
