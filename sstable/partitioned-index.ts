/**
 * The metadata of a partitioned table (format versions 3 and 4, FORMAT.md §9): a top-level index,
 * held by the reader, whose entry for each partition is (the partition's last key -> the index
 * partition's handle, then the filter partition's handle, size 0 without a filter). Partitions are
 * read through the block cache (RocksDB's partitioned index and filters with the top level pinned),
 * so an open table costs memory for its top-level index only, whatever its size.
 * Partition loads are synchronous: with syncReads (the engine's readers) a cache miss is one pread of
 * a small uncompressed block; a reader without syncReads (tools, backups) loads every partition at
 * open instead, as an unpartitioned table does. So the table iterator's index level
 * (PartitionedIndexCursor) moves synchronously like an index block's BlockIterator.
 * A filter partition holds the filter keys of exactly the data blocks its index partition lists, so
 * the partition the index chooses for a target also answers for the entry at or after it.
 * Contract: the file is untrusted: a handle out of bounds, a partition whose last key is not its
 * top-level key, or an empty partition is CorruptionError(file, offset). Main thread or worker.
 */
import { CorruptionError } from '../src/errors.js';
import type { BlockFetcher } from './block-fetch.js';
import { Block, BlockIterator } from './block-reader.js';
import { FilterBlockReader, type FilterKeyTransform } from './filter-block.js';
import { decodePartitionHandles, type BlockHandle } from './format.js';
import type { RangeCompare } from './range-compare.js';

/** The partitions of one top-level entry. */
interface PartitionHandles { index: BlockHandle; filter: BlockHandle }

export class PartitionedIndex {
  private readonly top: BlockIterator;
  private readonly handles: PartitionHandles = { index: { offset: 0, size: 0 }, filter: { offset: 0, size: 0 } };
  /** Filter partitions by offset, when loaded at open (no syncReads); otherwise the block cache holds them decoded. */
  private readonly filters = new Map<number, FilterBlockReader>();

  private constructor(
    readonly topBlock: Block,
    private readonly fetcher: BlockFetcher,
    private readonly cmp: RangeCompare,
    /** File size less the footer: handles must end before it. */
    private readonly limit: number,
    private readonly transform: FilterKeyTransform | undefined,
    /** Index partitions by offset when loaded at open (no syncReads); undefined: read through the cache. */
    private readonly preloaded: Map<number, Block> | undefined,
  ) {
    this.top = new BlockIterator(cmp, topBlock);
  }

  static async open(
    topBlock: Block, fetcher: BlockFetcher, cmp: RangeCompare, limit: number, transform: FilterKeyTransform | undefined, syncReads: boolean,
  ): Promise<PartitionedIndex> {
    if (syncReads) return new PartitionedIndex(topBlock, fetcher, cmp, limit, transform, undefined);
    const blocks = new Map<number, Block>();
    const pi = new PartitionedIndex(topBlock, fetcher, cmp, limit, transform, blocks);
    const it = new BlockIterator(cmp, topBlock);
    for (it.seekToFirst(); it.valid(); it.next()) {
      const h = pi.decode(it);
      blocks.set(h.index.offset, (await fetcher.fetchUncached(h.index.offset, h.index.size)).block);
      if (h.filter.size > 0) {
        const f = await fetcher.fetchBytes(h.filter.offset, h.filter.size);
        pi.filters.set(h.filter.offset, new FilterBlockReader(f.data, fetcher.fileName, h.filter.offset, transform));
      }
    }
    return pi;
  }

  /** Bytes held beyond the block cache: the top-level index, and partitions loaded at open. */
  memoryBytes(): number {
    let n = this.topBlock.byteSize;
    if (this.preloaded) for (const b of this.preloaded.values()) n += b.byteSize;
    for (const f of this.filters.values()) n += f.bytes.byteLength;
    return n;
  }

  /** The filter key of table key `key` (the transform the filter partitions were built with). */
  filterKeyOf(key: Uint8Array): Uint8Array {
    return this.transform ? this.transform(key) : key;
  }

  /** The partition handles of the top-level entry `it` is on (bounds-checked). */
  decode(it: BlockIterator): PartitionHandles {
    const h = this.handles;
    decodePartitionHandles(it.valueBytes, it.valueOffset, it.valueLimit, this.limit, h.index, h.filter, this.fetcher.fileName, this.topBlock.fileOffset);
    return h;
  }

  /** The index partition `h` names, from the blocks loaded at open or through the cache (synchronously). */
  partition(h: BlockHandle): Block {
    const pre = this.preloaded?.get(h.offset);
    if (pre !== undefined) return pre;
    const b = this.fetcher.get(h.offset, h.size);
    if (b instanceof Promise) {
      // Index partitions are stored uncompressed and read with readSync: never asynchronous.
      throw new CorruptionError(this.fetcher.fileName, h.offset, 'index partition needs an asynchronous read (a compressed partition?)');
    }
    if (b.numRestarts === 0) throw new CorruptionError(this.fetcher.fileName, h.offset, 'empty index partition');
    return b;
  }

  /** The filter partition `h` names (undefined when size is 0: the table has no filter). */
  filter(h: BlockHandle): FilterBlockReader | undefined {
    if (h.size === 0) return undefined;
    const known = this.filters.get(h.offset);
    if (known !== undefined) return known;
    return this.fetcher.getDecoded(h.offset, h.size, (bytes) => new FilterBlockReader(bytes, this.fetcher.fileName, h.offset, this.transform));
  }

  /**
   * Positions `top` on the partition that may hold the first key >= target; false when target is past
   * the table's last key. The handles are then in `handles`.
   */
  seekTop(target: Uint8Array): PartitionHandles | undefined {
    const t = this.top;
    t.seek(target);
    if (!t.valid()) return undefined;
    return this.decode(t);
  }

  /** A cursor over every index entry of every partition (the table iterator's index level). */
  newCursor(): PartitionedIndexCursor {
    return new PartitionedIndexCursor(this, new BlockIterator(this.cmp, this.topBlock), new BlockIterator(this.cmp));
  }
}

/**
 * The index entries of all partitions in order, moved synchronously: the shape of an index block's
 * BlockIterator that TwoLevelIterator needs (valid, key, the value's bytes, seeks and steps).
 */
export class PartitionedIndexCursor {
  constructor(private readonly pi: PartitionedIndex, private readonly top: BlockIterator, private readonly part: BlockIterator) {}

  valid(): boolean { return this.part.valid(); }
  key(): Uint8Array { return this.part.key(); }
  get valueBytes(): Uint8Array { return this.part.valueBytes; }
  get valueOffset(): number { return this.part.valueOffset; }
  get valueLimit(): number { return this.part.valueLimit; }
  /** The partition block the cursor is on (readahead peeks within it). */
  get currentBlock(): Block | undefined { return this.part.currentBlock; }

  /** Loads the partition of the top-level entry the cursor's top is on (or ends the cursor). */
  private enter(): boolean {
    if (!this.top.valid()) { this.part.seekPastEnd(); return false; }
    this.part.reset(this.pi.partition(this.pi.decode(this.top).index));
    return true;
  }

  seek(target: Uint8Array): void {
    this.top.seek(target);
    if (!this.enter()) return;
    this.part.seek(target);
    if (!this.part.valid()) {
      throw new CorruptionError(this.pi.topBlock.fileName, this.pi.topBlock.fileOffset, 'top-level index entry promises a key its partition does not hold');
    }
  }

  seekToFirst(): void {
    this.top.seekToFirst();
    if (this.enter()) this.part.seekToFirst();
  }

  seekToLast(): void {
    this.top.seekToLast();
    if (this.enter()) this.part.seekToLast();
  }

  next(): void {
    this.part.next();
    if (this.part.valid()) return;
    this.top.next();
    if (this.enter()) this.part.seekToFirst();
  }

  prev(): void {
    this.part.prev();
    if (this.part.valid()) return;
    this.top.prev();
    if (this.enter()) this.part.seekToLast();
  }

  close(): void {
    this.part.close();
    this.top.close();
  }
}
