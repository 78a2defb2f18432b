/**
 * Writes one table, streaming: entries in strictly increasing key order, cut into data blocks of
 * about blockSize, each compressed with the configured codec (stored raw when that saves < 12.5%),
 * then the filter, properties, metaindex and index blocks and the footer.
 * Format: sstable/FORMAT.md (layout, block trailer, footer); properties.ts; filter-block.ts.
 * Contract:
 * - add() copies what it needs (the caller may reuse its key/value arrays at once); it returns a
 *   Promise only when a block was cut, the codec is async (zstd) and MAX_IN_FLIGHT blocks are being
 *   compressed: the caller must await it before the next add(). Out-of-order keys throw
 *   InvalidArgumentError naming both keys and leave the writer usable.
 * - addRangeDeletion() entries go to the range-deletion block (FORMAT.md): in strictly increasing key
 *   order among themselves, at any time before finish(), independent of add()'s order; they count in
 *   `range_deletions` and (internal keys) the sequence range, not in `entries` or `key.*`.
 * - finish() once; it does not sync or close the file (the caller fsyncs before installing the table).
 *   abandon() stops a writer whose output will be deleted; pending compressions are ignored.
 * - Errors from the file (IOError) or a codec are sticky: every later call rethrows the first one.
 * - The file must be empty when the writer starts (handles are file offsets). Safe in a worker.
 */
import type { Comparator } from '../src/base/comparator.js';
import { bytewiseComparator } from '../src/base/comparator.js';
import { printableKey, copyBytes } from '../src/base/bytes.js';
import { putFixed32 } from '../src/base/coding.js';
import { crc32c, maskCrc } from '../src/base/crc32c.js';
import type { MaybePromise } from '../src/base/internal-iterator.js';
import { seqOf, TRAILER_SIZE, ValueKind } from '../src/base/internal-key.js';
import { InternalError, InvalidArgumentError } from '../src/errors.js';
import type { WritableFile } from '../src/fs/file-system.js';
import { BlockBuilder, copyRange } from './block-builder.js';
import {
  codecByName, storeSync, storeZstd, ZSTD_DEFAULT_LEVEL, ZSTD_MAX_LEVEL, ZSTD_MIN_LEVEL,
  type CompressionName, type StoredBlock,
} from './compression.js';
import { FILTER_META_NAME, FILTER_POLICY_NAME, FilterBlockBuilder, type FilterKeyTransform } from './filter-block.js';
import {
  BLOCK_TRAILER_SIZE, COMPRESSION_NONE, COMPRESSION_ZSTD, encodeFooter, MAX_BLOCK_HANDLE_LENGTH, META_PROPERTIES, META_RANGE_DEL,
  putBlockHandle, TABLE_UNIQUE_ID_MAX_SIZE, tableVersionFor, type BlockHandle,
} from './format.js';
import { encodeProperties, type TableProperties } from './properties.js';
import { rangeCompareFor, type RangeCompare } from './range-compare.js';
import { TAG_SIZE, type FileCipher } from '../src/encryption/file-cipher.js';

export interface TableWriterOptions {
  /** Target size of a data block's raw bytes; a single larger entry makes its own block. */
  blockSize: number;
  blockRestartInterval: number;
  /**
   * Keys between restart points of the index block (default 1: every entry, which index-search.ts
   * binary-searches directly). Larger values shrink the index of a big table (index entries share
   * prefixes) at the cost of a short linear scan per lookup, as RocksDB's index_block_restart_interval.
   */
  indexBlockRestartInterval?: number;
  compression: CompressionName;
  zstdLevel?: number;
  /** 0 = no filter block. */
  bloomBitsPerKey: number;
  comparator?: Comparator;
  /** The part of each key the filter is built over (default: the whole key). */
  filterKeyTransform?: FilterKeyTransform;
  /**
   * 0 (default): the filter holds whole filter keys. N > 0: it also holds each filter key's first N
   * bytes (filter-block.ts), recorded as the `filter.prefix_length` property. Ignored without a filter.
   */
  prefixLength?: number;
  /** Keys are internal keys: count deletions and record the sequence range from their trailers. */
  keysAreInternal?: boolean;
  /** Stored in the properties; 0 (the default) means "not recorded" (no module reads the clock itself). */
  creationTimeMs?: number;
  /** Stored as `write_time.newest` when set (properties.ts); setNewestWriteTime() may set it later. */
  newestWriteTimeMs?: number;
  fileName?: string;
  /**
   * Stored as the `unique_id` property (1..TABLE_UNIQUE_ID_MAX_SIZE bytes, copied): the engine's proof
   * that a file is the table its MANIFEST names. Absent: no property is written.
   */
  uniqueId?: Uint8Array;
  /** Encrypts every block (format version 2, FORMAT.md §8); a fresh FileCipher of kind TABLE per file. */
  cipher?: FileCipher;
  /**
   * Partitioned metadata (format version 3, or 4 encrypted; FORMAT.md §9): the index and the filter
   * are cut into partitions covering about metadataBlockSize bytes of index entries each, written
   * between the data blocks, and the footer's index is a top-level index over them. A reader then
   * keeps only the top-level index in memory and reads partitions through the block cache.
   */
  partitionedMetadata?: boolean;
  /** Index-entry bytes per partition (default 4096), as RocksDB's metadata_block_size. */
  metadataBlockSize?: number;
}

export interface TableWriterResult {
  properties: TableProperties;
  fileSize: number;
}

/** zstd blocks compressing at once (DESIGN.md: ~22 µs each when many are in flight, ~60 µs awaited one by one). */
const MAX_IN_FLIGHT = 4;
/** Appends are batched into writes of about this size (one write(2) per block would dominate at 4 KiB). */
const WRITE_BUFFER_SIZE = 64 * 1024;

type JobResult = { ok: StoredBlock; err?: undefined } | { ok?: undefined; err: unknown };
/** A partition ends after this data block: its filter partition (undefined without a filter). */
interface PartitionEnd { filter: Uint8Array | undefined }
interface Job { result: Promise<JobResult>; lastKey: Uint8Array; partitionEnd: PartitionEnd | undefined }

const DEFAULT_METADATA_BLOCK_SIZE = 4096;
/** Index-entry bytes besides the key, counted towards a partition's size (handle and lengths). */
const INDEX_ENTRY_OVERHEAD = 8;

export class TableWriter {
  private readonly cmp: RangeCompare;
  private readonly codecId: number;
  private readonly zstdLevel: number;
  private readonly dataBlock: BlockBuilder;
  private readonly indexBlock: BlockBuilder;
  private readonly filter: FilterBlockBuilder | undefined;
  private readonly out: Uint8Array = new Uint8Array(WRITE_BUFFER_SIZE);
  private outLength = 0;
  /** Bytes handed to the file plus bytes buffered in `out`: the offset of the next block. */
  private offset = 0;
  private lastKey: Uint8Array = new Uint8Array(64);
  private lastKeyLength = 0;
  private smallestKey: Uint8Array | undefined;
  private readonly jobs: Job[] = [];
  private drainTail: Promise<void> = Promise.resolve();
  private pendingRaw = 0;
  private state: 'open' | 'finished' | 'abandoned' | 'failed' = 'open';
  private error: unknown;
  private readonly handleScratch = new Uint8Array(2 * MAX_BLOCK_HANDLE_LENGTH);
  /** Partitioned tables: the top-level index (the current partition is `indexBlock`). */
  private readonly topIndex: BlockBuilder | undefined;
  private readonly metadataBlockSize: number;
  /** Index-entry bytes of the partition being filled, counted when its data blocks are cut. */
  private partitionBytes = 0;
  /** The last key of the last data block written (the key of the partition's top-level entry). */
  private lastIndexKey: Uint8Array | undefined;
  private readonly partitionStats = { partitions: 0, indexBytes: 0, filterBytes: 0 };
  private readonly trailer = new Uint8Array(BLOCK_TRAILER_SIZE);
  private readonly single: Uint8Array[] = [EMPTY];
  private rangeDelBlock: BlockBuilder | undefined;
  private lastRangeDelKey: Uint8Array | undefined;
  private numRangeDeletions = 0;
  private readonly stats = {
    numEntries: 0, numDeletions: 0, rawKeyBytes: 0, rawValueBytes: 0, dataSize: 0, numDataBlocks: 0,
    smallestSeq: Infinity, largestSeq: -Infinity,
  };

  constructor(private readonly file: WritableFile, private readonly options: TableWriterOptions) {
    const o = options;
    if (!Number.isInteger(o.blockSize) || o.blockSize < 1 || o.blockSize > 2 ** 30) {
      throw new InvalidArgumentError(`blockSize: expected an integer in 1..2^30, got ${o.blockSize}`);
    }
    if (!Number.isInteger(o.blockRestartInterval) || o.blockRestartInterval < 1 || o.blockRestartInterval > 65536) {
      throw new InvalidArgumentError(`blockRestartInterval: expected an integer in 1..65536, got ${o.blockRestartInterval}`);
    }
    const indexInterval = o.indexBlockRestartInterval ?? 1;
    if (!Number.isInteger(indexInterval) || indexInterval < 1 || indexInterval > 65536) {
      throw new InvalidArgumentError(`indexBlockRestartInterval: expected an integer in 1..65536, got ${indexInterval}`);
    }
    this.indexBlock = new BlockBuilder(indexInterval, 1024);
    this.codecId = codecByName(o.compression).id;
    this.zstdLevel = o.zstdLevel ?? ZSTD_DEFAULT_LEVEL;
    if (!Number.isInteger(this.zstdLevel) || this.zstdLevel < ZSTD_MIN_LEVEL || this.zstdLevel > ZSTD_MAX_LEVEL) {
      throw new InvalidArgumentError(`zstdLevel: expected an integer in ${ZSTD_MIN_LEVEL}..${ZSTD_MAX_LEVEL}, got ${o.zstdLevel}`);
    }
    if (o.bloomBitsPerKey !== 0) this.filter = new FilterBlockBuilder(o.bloomBitsPerKey, o.filterKeyTransform, o.prefixLength ?? 0);
    if (o.uniqueId !== undefined) {
      if (!(o.uniqueId instanceof Uint8Array) || o.uniqueId.length === 0 || o.uniqueId.length > TABLE_UNIQUE_ID_MAX_SIZE) {
        throw new InvalidArgumentError(`uniqueId: expected 1..${TABLE_UNIQUE_ID_MAX_SIZE} bytes`);
      }
      this.uniqueId = copyBytes(o.uniqueId);
    }
    if (file.size !== 0) throw new InvalidArgumentError(`table file ${file.path} must be empty, has ${file.size} bytes`);
    this.cmp = rangeCompareFor(o.comparator ?? bytewiseComparator);
    this.dataBlock = new BlockBuilder(o.blockRestartInterval, Math.min(Math.max(o.blockSize * 2, 256), 1 << 20));
    this.metadataBlockSize = o.metadataBlockSize ?? DEFAULT_METADATA_BLOCK_SIZE;
    if (!Number.isInteger(this.metadataBlockSize) || this.metadataBlockSize < 1 || this.metadataBlockSize > 2 ** 30) {
      throw new InvalidArgumentError(`metadataBlockSize: expected an integer in 1..2^30, got ${o.metadataBlockSize}`);
    }
    if (o.partitionedMetadata) this.topIndex = new BlockBuilder(1, 256);
    this.formatVersion = tableVersionFor(o.cipher !== undefined, o.partitionedMetadata === true);
    if (o.cipher) this.append(o.cipher.headerBytes);
    if (o.newestWriteTimeMs !== undefined) this.setNewestWriteTime(o.newestWriteTimeMs);
  }

  private readonly formatVersion: number;
  private newestWriteTimeMs: number | undefined;

  /** Sets the `write_time.newest` property (ms since the epoch) written at finish(). */
  setNewestWriteTime(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new InvalidArgumentError(`newestWriteTimeMs: expected a non-negative integer, got ${ms}`);
    this.newestWriteTimeMs = ms;
  }
  private readonly uniqueId: Uint8Array | undefined;

  /** File size if finished now without more entries (blocks being compressed counted raw). */
  get estimatedFileSize(): number {
    return this.offset + this.pendingRaw + this.dataBlock.estimatedSize;
  }

  get numEntries(): number { return this.stats.numEntries; }

  private checkOpen(): void {
    if (this.state === 'failed') throw this.error;
    if (this.state !== 'open') throw new InvalidArgumentError(`table writer for ${this.file.path} is ${this.state}`);
  }

  add(key: Uint8Array, value: Uint8Array): MaybePromise<void> {
    this.checkOpen();
    const s = this.stats;
    if (s.numEntries > 0 && this.cmp(key, 0, key.length, this.lastKey, 0, this.lastKeyLength) <= 0) {
      throw new InvalidArgumentError(
        `table keys must be added in strictly increasing order: ${printableKey(key)} after ${printableKey(this.lastKey.subarray(0, this.lastKeyLength))}`,
      );
    }
    if (this.options.keysAreInternal) {
      if (key.length < TRAILER_SIZE) throw new InvalidArgumentError(`internal key of ${key.length} bytes has no trailer`);
      const seq = seqOf(key);
      if (seq < s.smallestSeq) s.smallestSeq = seq;
      if (seq > s.largestSeq) s.largestSeq = seq;
      if (key[key.length - TRAILER_SIZE] === ValueKind.Delete) s.numDeletions++;
    }
    let p: Promise<void> | undefined;
    if (!this.dataBlock.isEmpty && this.dataBlock.estimatedSize + key.length + value.length > this.options.blockSize) {
      p = this.cutBlock();
    }
    this.dataBlock.add(key, value);
    this.filter?.add(key);
    if (key.length > this.lastKey.length) this.lastKey = new Uint8Array(Math.max(key.length, this.lastKey.length * 2));
    copyRange(this.lastKey, 0, key, 0, key.length);
    this.lastKeyLength = key.length;
    if (s.numEntries === 0) this.smallestKey = copyBytes(key);
    s.numEntries++;
    s.rawKeyBytes += key.length;
    s.rawValueBytes += value.length;
    return p;
  }

  /**
   * Adds an entry (start key -> end key) to the range-deletion block. InvalidArgumentError for a key
   * not after the previous range-deletion key, or an internal key without a trailer.
   */
  addRangeDeletion(key: Uint8Array, value: Uint8Array): void {
    this.checkOpen();
    const prev = this.lastRangeDelKey;
    if (prev && this.cmp(key, 0, key.length, prev, 0, prev.length) <= 0) {
      throw new InvalidArgumentError(
        `range-deletion keys must be added in strictly increasing order: ${printableKey(key)} after ${printableKey(prev)}`,
      );
    }
    if (this.options.keysAreInternal) {
      if (key.length < TRAILER_SIZE) throw new InvalidArgumentError(`internal key of ${key.length} bytes has no trailer`);
      const seq = seqOf(key);
      const s = this.stats;
      if (seq < s.smallestSeq) s.smallestSeq = seq;
      if (seq > s.largestSeq) s.largestSeq = seq;
    }
    this.rangeDelBlock ??= new BlockBuilder(1, 256);
    this.rangeDelBlock.add(key, value);
    this.lastRangeDelKey = copyBytes(key);
    this.numRangeDeletions++;
  }

  /** Ends the current data block; a Promise only when the zstd pipeline is full. */
  private cutBlock(): Promise<void> | undefined {
    const raw = this.dataBlock.finish();
    const lastKey = copyBytes(this.lastKey.subarray(0, this.lastKeyLength));
    this.stats.numDataBlocks++;
    const partitionEnd = this.partitionEndAfter(lastKey);
    if (this.codecId === COMPRESSION_ZSTD) {
      const copy = copyBytes(raw);
      this.dataBlock.reset();
      this.pendingRaw += copy.length;
      const result = storeZstd(copy, this.zstdLevel).then(
        (ok): JobResult => { this.pendingRaw -= copy.length; return { ok }; },
        (err: unknown): JobResult => ({ err }),
      );
      this.jobs.push({ result, lastKey, partitionEnd });
      return this.jobs.length >= MAX_IN_FLIGHT ? this.drainOne() : undefined;
    }
    try {
      this.writeDataBlock(storeSync(raw, this.codecId), lastKey, partitionEnd);
    } catch (e) {
      this.fail(e);
    } finally {
      this.dataBlock.reset();
    }
    return undefined;
  }

  /**
   * Writes the oldest compressed block once it is ready. Drains are chained so blocks reach the file
   * in key order even if a caller starts a second drain before the first settled.
   */
  private drainOne(): Promise<void> {
    const p = this.drainTail.then(async () => {
      const job = this.jobs.shift();
      if (job === undefined) return;
      const r = await job.result;
      if (this.state === 'abandoned') return;
      if (this.state === 'failed') throw this.error;
      if (r.err !== undefined) this.fail(r.err);
      try {
        this.writeDataBlock(r.ok!, job.lastKey, job.partitionEnd);
      } catch (e) {
        this.fail(e);
      }
    });
    this.drainTail = p.catch(() => undefined);
    return p;
  }

  private fail(e: unknown): never {
    if (this.state !== 'failed') { this.state = 'failed'; this.error = e; }
    throw this.error;
  }

  private writeDataBlock(stored: StoredBlock, lastKey: Uint8Array, partitionEnd: PartitionEnd | undefined): void {
    const h = this.writeBlock(stored.payload, stored.type);
    this.stats.dataSize += h.size + BLOCK_TRAILER_SIZE;
    const n = putBlockHandle(this.handleScratch, 0, h);
    this.indexBlock.add(lastKey, this.handleScratch.subarray(0, n));
    this.lastIndexKey = lastKey;
    if (partitionEnd) this.writePartition(lastKey, partitionEnd.filter);
  }

  /**
   * Partitioned tables: whether the partition ends after the data block ending at `lastKey`, decided
   * when the block is cut (add order), so that the filter partition holds exactly the keys of its
   * data blocks even while zstd blocks are still compressing; the filter is finished here.
   */
  private partitionEndAfter(lastKey: Uint8Array): PartitionEnd | undefined {
    if (this.topIndex === undefined) return undefined;
    this.partitionBytes += lastKey.length + INDEX_ENTRY_OVERHEAD;
    if (this.partitionBytes < this.metadataBlockSize) return undefined;
    this.partitionBytes = 0;
    return { filter: this.filter?.finish() };
  }

  /** Writes the filter partition and the index partition, and their top-level entry (key: `lastKey`). */
  private writePartition(lastKey: Uint8Array, filter: Uint8Array | undefined): void {
    const ps = this.partitionStats;
    let fh: BlockHandle = { offset: 0, size: 0 };
    if (filter !== undefined) {
      fh = this.writeBlock(filter, COMPRESSION_NONE);
      ps.filterBytes += fh.size + BLOCK_TRAILER_SIZE;
    }
    const ih = this.writeBlock(this.indexBlock.finish(), COMPRESSION_NONE);
    this.indexBlock.reset();
    ps.indexBytes += ih.size + BLOCK_TRAILER_SIZE;
    ps.partitions++;
    const n = putBlockHandle(this.handleScratch, 0, ih);
    const m = putBlockHandle(this.handleScratch, n, fh);
    this.topIndex!.add(lastKey, this.handleScratch.subarray(0, m));
  }

  /**
   * Appends payload + trailer (type byte, masked CRC32C of payload and type). Encrypted tables store
   * the payload sealed at its offset with the type byte authenticated (ciphertext + 16-byte tag).
   */
  private writeBlock(plain: Uint8Array, type: number): BlockHandle {
    const t = this.trailer;
    t[0] = type;
    const handle = { offset: this.offset, size: plain.length };
    if (this.options.cipher) {
      this.single[0] = plain;
      const [body, tag] = this.options.cipher.sealParts(this.offset, this.single, type);
      this.single[0] = EMPTY;
      putFixed32(t, 1, maskCrc(crc32c(t.subarray(0, 1), crc32c(tag, crc32c(body)))));
      handle.size = body.length + tag.length;
      this.append(body);
      this.append(tag);
    } else {
      putFixed32(t, 1, maskCrc(crc32c(t.subarray(0, 1), crc32c(plain))));
      this.append(plain);
    }
    this.append(t);
    return handle;
  }

  private append(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.outLength + n > this.out.length) this.flushOut();
    if (n >= this.out.length) {
      this.file.append(bytes);
    } else {
      copyRange(this.out, this.outLength, bytes, 0, n);
      this.outLength += n;
    }
    this.offset += n;
  }

  private flushOut(): void {
    if (this.outLength === 0) return;
    this.file.append(this.out.subarray(0, this.outLength));
    this.outLength = 0;
  }

  /** Writes the rest of the table. Does not sync or close the file. */
  async finish(): Promise<TableWriterResult> {
    this.checkOpen();
    try {
      if (!this.dataBlock.isEmpty) {
        const p = this.cutBlock();
        if (p) await p;
      }
      while (this.jobs.length > 0) await this.drainOne();
      return this.writeMetaAndFooter();
    } catch (e) {
      if (this.state === 'open') { this.state = 'failed'; this.error = e; }
      throw e;
    }
  }

  private writeMetaAndFooter(): TableWriterResult {
    const o = this.options;
    const s = this.stats;
    const meta: Array<[string, BlockHandle]> = [];
    let filterSize = 0;
    const ps = this.partitionStats;
    if (this.topIndex) {
      // The last partition: whatever the last partition end left (none when it fell on the last block).
      if (!this.indexBlock.isEmpty) this.writePartition(this.lastIndexKey!, this.filter?.finish());
      filterSize = ps.filterBytes;
    } else if (this.filter) {
      const h = this.writeBlock(this.filter.finish(), COMPRESSION_NONE);
      filterSize = h.size + BLOCK_TRAILER_SIZE;
      meta.push([FILTER_META_NAME, h]);
    }
    const index = this.topIndex ? this.topIndex.finish() : this.indexBlock.finish();
    const indexStored = index.length + (this.options.cipher ? TAG_SIZE : 0);
    if (this.rangeDelBlock) meta.push([META_RANGE_DEL, this.writeBlock(this.rangeDelBlock.finish(), COMPRESSION_NONE)]);
    const hasSeqs = o.keysAreInternal === true && s.numEntries + this.numRangeDeletions > 0;
    const properties: TableProperties = {
      formatVersion: this.formatVersion,
      comparatorName: (o.comparator ?? bytewiseComparator).name,
      numEntries: s.numEntries,
      numDeletions: s.numDeletions,
      numRangeDeletions: this.numRangeDeletions,
      rawKeyBytes: s.rawKeyBytes,
      rawValueBytes: s.rawValueBytes,
      dataSize: s.dataSize,
      numDataBlocks: s.numDataBlocks,
      indexSize: indexStored + BLOCK_TRAILER_SIZE,
      filterSize,
      smallestKey: this.smallestKey,
      largestKey: s.numEntries > 0 ? copyBytes(this.lastKey.subarray(0, this.lastKeyLength)) : undefined,
      smallestSeq: hasSeqs ? s.smallestSeq : undefined,
      largestSeq: hasSeqs ? s.largestSeq : undefined,
      compression: o.compression,
      filterPolicy: this.filter ? FILTER_POLICY_NAME : '',
      bloomBitsPerKey: this.filter ? o.bloomBitsPerKey : 0,
      ...(this.filter && this.filter.prefixLength > 0 ? { filterPrefixLength: this.filter.prefixLength } : {}),
      creationTimeMs: o.creationTimeMs ?? 0,
      ...(this.newestWriteTimeMs !== undefined ? { newestWriteTimeMs: this.newestWriteTimeMs } : {}),
      blockSize: o.blockSize,
      blockRestartInterval: o.blockRestartInterval,
      ...(this.uniqueId ? { uniqueId: this.uniqueId } : {}),
      ...(this.topIndex ? { indexPartitions: ps.partitions, indexPartitionBytes: ps.indexBytes } : {}),
    };
    meta.push([META_PROPERTIES, this.writeBlock(encodeProperties(properties), COMPRESSION_NONE)]);
    // Metaindex names are bytewise sorted (ASCII, so string order is byte order); blocks are in file order.
    meta.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const metaindex = new BlockBuilder(1, 256);
    const enc = new TextEncoder();
    for (const [name, h] of meta) {
      const n = putBlockHandle(this.handleScratch, 0, h);
      metaindex.add(enc.encode(name), this.handleScratch.subarray(0, n));
    }
    const metaindexHandle = this.writeBlock(metaindex.finish(), COMPRESSION_NONE);
    const indexHandle = this.writeBlock(index, COMPRESSION_NONE);
    if (indexHandle.size + BLOCK_TRAILER_SIZE !== properties.indexSize) throw new InternalError('index size changed while writing');
    this.append(encodeFooter({ metaindex: metaindexHandle, index: indexHandle, formatVersion: this.formatVersion }));
    this.flushOut();
    this.state = 'finished';
    return { properties, fileSize: this.offset };
  }

  /** Gives up on the table: the caller deletes the file. Idempotent; pending work is dropped. */
  abandon(): void {
    if (this.state === 'open' || this.state === 'failed') this.state = 'abandoned';
    this.jobs.length = 0;
    this.outLength = 0;
  }
}

const EMPTY = new Uint8Array(0);
