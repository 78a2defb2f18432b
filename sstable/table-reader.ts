/**
 * Opens a table and answers point lookups and iterators over it. open() reads the footer, metaindex,
 * properties, filter and index (never the data); data blocks come through the block cache.
 * Format: sstable/FORMAT.md; the blocks' own decoders are block-reader.ts, properties.ts, filter-block.ts;
 * point lookups search the index through index-search.ts (summaries built once at open).
 * Contract:
 * - The file is untrusted: any damage is CorruptionError(file, offset), a table from a newer format
 *   is NotSupportedError, a table written with another comparator is InvalidArgumentError.
 * - After a successful open the reader owns the file and close() closes it; if open() fails, the
 *   caller still owns (and closes) the file.
 * - getAtOrAfter() returns a Promise only when it had to wait (async read or zstd). Returned keys are
 *   copies unless the caller asks for a view (then a synchronous answer is the reader's own scratch
 *   entry, valid until its next call); values are views into immutable blocks.
 * - Iterators hold only the blocks they are on (plus a few decoded ahead in async forward scans);
 *   many may run at once. Main thread (or one worker).
 */
import { bytewiseComparator, type Comparator } from '../src/base/comparator.js';
import type { InternalIterator, MaybePromise } from '../src/base/internal-iterator.js';
import { CorruptionError, InvalidArgumentError } from '../src/errors.js';
import type { ReadableFile } from '../src/fs/file-system.js';
import type { BlockCache } from './block-cache.js';
import { BlockFetcher } from './block-fetch.js';
import { Block, BlockIterator, countEntries } from './block-reader.js';
import { FILTER_META_NAME, FilterBlockReader, type FilterKeyTransform } from './filter-block.js';
import { decodeBlockHandle, decodeFooter, FOOTER_SIZE, META_PROPERTIES, META_RANGE_DEL, type BlockHandle, type Footer } from './format.js';
import { IndexSearch } from './index-search.js';
import { decodeProperties, type TableProperties } from './properties.js';
import { rangeCompareFor, type RangeCompare } from './range-compare.js';
import { TwoLevelIterator, type DataBlockLoader } from './two-level-iterator.js';
import { cipherFor, decodeEncryptionHeader, FileKind, hasCryptMagic, plaintextRefused, type FileCipher, type KeyResolver } from '../src/encryption/file-cipher.js';
import { isEncryptedVersion, isPartitionedVersion } from './format.js';
import { PartitionedIndex } from './partitioned-index.js';
import { compareByteRanges, copyBytes } from '../src/base/bytes.js';

/** Longest encryption header (a 255-byte key id). */
const MAX_HEADER_READ = 12 + 255 + 16 + 8 + 4;

export interface TableReaderOptions {
  fileName: string;
  /** Must have the name stored in the table (default bytewise). */
  comparator?: Comparator;
  /** NB: must be the transform the writer used, or the filter answers for the wrong keys. */
  filterKeyTransform?: FilterKeyTransform;
  /** Shared block cache; without one every data block read goes to the file. */
  cache?: BlockCache;
  /** Read data blocks with readSync (page-cache hits cost a few µs; no thread-pool round trip). */
  syncReads?: boolean;
  /** Check each block's CRC before decoding it (default true). */
  verifyChecksums?: boolean;
  /** Keys for encrypted tables (format version 2); without them such a table is refused, naming its key id. */
  keys?: KeyResolver;
}

export interface TableEntry { key: Uint8Array; value: Uint8Array }

export class TableReader {
  private filterChecksCount = 0;
  private filterNegativesCount = 0;
  private prefixChecksCount = 0;
  private prefixNegativesCount = 0;
  private readonly indexIter: BlockIterator;
  /** Summaries for point lookups (undefined for other comparators or unusual index blocks). */
  private readonly indexSearch: IndexSearch | undefined;
  private readonly dataIter: BlockIterator;
  private readonly handle: BlockHandle = { offset: 0, size: 0 };
  private readonly loader: DataBlockLoader;
  /** The answer of a synchronous lookup that asked for a key view (reused: no allocation). */
  private readonly scratch: TableEntry = { key: new Uint8Array(0), value: new Uint8Array(0) };
  private closed = false;

  private constructor(
    private readonly file: ReadableFile,
    readonly fileName: string,
    readonly fileSize: number,
    readonly footer: Footer,
    readonly properties: TableProperties,
    /** Metaindex entries by name (for layout dumps). */
    readonly metaHandles: ReadonlyMap<string, BlockHandle>,
    private readonly indexBlock: Block,
    private readonly filter: FilterBlockReader | undefined,
    private readonly rangeDelBlock: Block | undefined,
    private readonly fetcher: BlockFetcher,
    private readonly cmp: RangeCompare,
    private readonly cache: BlockCache | undefined,
    comparator: Comparator,
    /** The key id of an encrypted table; undefined for a plain one. */
    readonly keyId: string | undefined,
    /** Partitioned tables (format 3 and 4): indexBlock is the top-level index over these partitions. */
    private readonly parts: PartitionedIndex | undefined,
  ) {
    this.indexIter = new BlockIterator(cmp, indexBlock);
    this.indexSearch = parts ? undefined : IndexSearch.build(indexBlock, comparator, cmp);
    this.dataIter = new BlockIterator(cmp);
    const limit = fileSize - FOOTER_SIZE;
    this.loader = {
      decodeHandle: (index, out) => {
        decodeBlockHandle(index.valueBytes, index.valueOffset, index.valueLimit, limit, out, fileName, footer.index.offset);
      },
      load: (h) => fetcher.get(h.offset, h.size),
    };
  }

  static async open(file: ReadableFile, options: TableReaderOptions): Promise<TableReader> {
    const name = options.fileName;
    const comparator = options.comparator ?? bytewiseComparator;
    const size = file.size;
    if (size < FOOTER_SIZE) throw new CorruptionError(name, 0, `file of ${size} bytes is too short for a table`);
    const footer = decodeFooter(await file.read(size - FOOTER_SIZE, FOOTER_SIZE), size, name);
    const limit = size - FOOTER_SIZE;
    const cipher = isEncryptedVersion(footer.formatVersion) ? await tableCipher(file, name, limit, options.keys) : undefined;
    if (!cipher && options.keys && options.keys.allowPlaintext === false) throw plaintextRefused(name);
    const fetcher = new BlockFetcher(file, name, options.verifyChecksums ?? true, options.cache, options.syncReads ?? false, cipher);
    const cmp = rangeCompareFor(comparator);

    const metaindex = (await fetcher.fetchUncached(footer.metaindex.offset, footer.metaindex.size)).block;
    const meta = new Map<string, BlockHandle>();
    const it = new BlockIterator(cmp, metaindex);
    const dec = new TextDecoder();
    for (it.seekToFirst(); it.valid(); it.next()) {
      const h = decodeBlockHandle(it.valueBytes, it.valueOffset, it.valueLimit, limit, { offset: 0, size: 0 }, name, footer.metaindex.offset);
      meta.set(dec.decode(it.key()), h);
    }
    const propsHandle = meta.get(META_PROPERTIES);
    if (!propsHandle) throw new CorruptionError(name, footer.metaindex.offset, 'metaindex has no properties block');
    const properties = decodeProperties((await fetcher.fetchUncached(propsHandle.offset, propsHandle.size)).block);
    if (properties.formatVersion !== footer.formatVersion) {
      throw new CorruptionError(name, propsHandle.offset, `properties say format ${properties.formatVersion}, footer says ${footer.formatVersion}`);
    }
    if (properties.comparatorName !== comparator.name) {
      throw new InvalidArgumentError(`${name}: table was written with comparator ${properties.comparatorName}, opened with ${comparator.name}`);
    }
    let filter: FilterBlockReader | undefined;
    const filterHandle = meta.get(FILTER_META_NAME);
    if (filterHandle) {
      const f = await fetcher.fetchBytes(filterHandle.offset, filterHandle.size);
      filter = new FilterBlockReader(f.data, name, filterHandle.offset, options.filterKeyTransform);
    }
    let rangeDel: Block | undefined;
    const rangeDelHandle = meta.get(META_RANGE_DEL);
    if (rangeDelHandle) rangeDel = (await fetcher.fetchUncached(rangeDelHandle.offset, rangeDelHandle.size)).block;
    const index = (await fetcher.fetchUncached(footer.index.offset, footer.index.size)).block;
    const parts = isPartitionedVersion(footer.formatVersion)
      ? await PartitionedIndex.open(index, fetcher, cmp, limit, options.filterKeyTransform, options.syncReads ?? false)
      : undefined;
    return new TableReader(file, name, size, footer, properties, meta, index, filter, rangeDel, fetcher, cmp, options.cache, comparator, cipher?.keyId, parts);
  }

  get filterChecks(): number { return this.filterChecksCount; }
  get filterNegatives(): number { return this.filterNegativesCount; }
  get hasFilter(): boolean { return this.filter !== undefined || (this.parts !== undefined && this.properties.filterPolicy !== ''); }
  /** mayContainPrefix() calls that reached the filter, and those it answered "no". */
  get prefixChecks(): number { return this.prefixChecksCount; }
  get prefixNegatives(): number { return this.prefixNegativesCount; }

  /**
   * False only when no key of this table has a filter key starting with `prefix`. Only a filter built
   * with a prefix length (the `filter.prefix_length` property) no longer than `prefix` can say so:
   * any other table (no filter, whole keys only, a longer prefix length) answers true, uncounted.
   */
  mayContainPrefix(prefix: Uint8Array): boolean {
    const n = this.properties.filterPrefixLength ?? 0;
    if (!this.hasFilter || n === 0 || prefix.length < n) return true;
    this.prefixChecksCount++;
    const yes = this.parts ? this.partitionsMayContainPrefix(prefix, n) : this.filter!.mayContainPrefix(prefix, n);
    if (!yes) this.prefixNegativesCount++;
    return yes;
  }

  /**
   * A prefix's keys may span partitions: every filter partition from the first whose last key reaches
   * the prefix to the first whose last key is past it is asked. Partitions are found by their last
   * keys' filter keys (the top level holds table keys, internal keys in the engine, which a bare prefix
   * cannot seek), so the filter key transform must keep key order (stripping a trailer does).
   */
  private partitionsMayContainPrefix(prefix: Uint8Array, n: number): boolean {
    const pi = this.parts!;
    const top = new BlockIterator(this.cmp, this.indexBlock);
    for (top.seekToFirst(); top.valid(); top.next()) {
      const last = pi.filterKeyOf(top.key());
      const c = compareByteRanges(last, 0, Math.min(n, last.length), prefix, 0, n);
      if (c < 0) continue; // the whole partition sorts before the prefix
      const f = pi.filter(pi.decode(top).filter);
      if (f === undefined || f.mayContainPrefix(prefix, n)) return true;
      if (c > 0) return false; // later partitions start past the prefix
    }
    return false;
  }

  /** Bytes this reader keeps in memory (index, filter, range-deletion block), beyond the block cache. */
  memoryBytes(): number {
    const index = this.parts ? this.parts.memoryBytes() : this.indexBlock.byteSize + (this.indexSearch?.byteSize ?? 0);
    return index + (this.filter?.bytes.byteLength ?? 0) + (this.rangeDelBlock?.byteSize ?? 0) + 512;
  }

  /** True when the filter rules out the key (counts the check). */
  private filteredOut(target: Uint8Array, filterKey: Uint8Array | undefined): boolean {
    const f = this.filter;
    if (f === undefined) return false;
    this.filterChecksCount++;
    if (f.mayContain(filterKey ?? f.filterKeyOf(target))) return false;
    this.filterNegativesCount++;
    return true;
  }

  /** Finds the data block for target into this.handle; false when target is past the last key. */
  private seekIndex(target: Uint8Array): boolean {
    if (this.parts) {
      const h = this.parts.seekTop(target);
      return h !== undefined && this.seekPartition(h.index, target);
    }
    const search = this.indexSearch;
    let idx: BlockIterator;
    if (search !== undefined) {
      const i = search.lowerBound(target);
      if (i === search.count) return false;
      idx = search.at(i);
    } else {
      idx = this.indexIter;
      idx.seek(target);
      if (!idx.valid()) return false;
    }
    this.loader.decodeHandle(idx, this.handle);
    return true;
  }

  /** The data block for target in the index partition `h` (whose last key is >= target) into this.handle. */
  private seekPartition(h: BlockHandle, target: Uint8Array): boolean {
    const it = this.indexIter;
    it.reset(this.parts!.partition(h));
    it.seek(target);
    if (!it.valid()) throw new CorruptionError(this.fileName, h.offset, 'top-level index entry promises a key its partition does not hold');
    this.loader.decodeHandle(it, this.handle);
    return true;
  }

  /** Partitioned tables: the filter partition, then the index partition, then the data block's handle. */
  private seekPartitioned(target: Uint8Array, filterKey: Uint8Array | undefined): boolean {
    const pi = this.parts!;
    const h = pi.seekTop(target);
    if (h === undefined) return false;
    const f = pi.filter(h.filter);
    if (f !== undefined) {
      this.filterChecksCount++;
      if (!f.mayContain(filterKey ?? f.filterKeyOf(target))) { this.filterNegativesCount++; return false; }
    }
    return this.seekPartition(h.index, target);
  }

  /** Positions dataIter on the answer in the block the index chose (a sound table has a key >= target there). */
  private seekData(block: Block, target: Uint8Array): BlockIterator {
    const d = this.dataIter;
    d.reset(block);
    d.seek(target);
    if (!d.valid()) {
      throw new CorruptionError(this.fileName, block.fileOffset, 'index entry promises a key the data block does not hold');
    }
    return d;
  }

  private answer(block: Block, target: Uint8Array): TableEntry {
    const d = this.seekData(block, target);
    return { key: d.keyCopy(), value: d.value() };
  }

  private answerView(block: Block, target: Uint8Array): TableEntry {
    const d = this.seekData(block, target);
    const e = this.scratch;
    e.key = d.key();
    e.value = d.value();
    return e;
  }

  /**
   * First entry with key >= target, if the filter (probed with filterKey, default the transform of
   * target) says maybe; undefined if filtered out or past the end. The value may be a view into an
   * immutable cached block. The key is a copy, unless `keyView`: then a synchronous answer is this
   * reader's scratch entry whose key is a view of its key buffer, both valid only until the next call
   * on this reader (for a caller that reads the answer at once and keeps neither). An answer that had
   * to wait is always a fresh entry with a copied key: other lookups may run on the reader meanwhile.
   * target and filterKey need to stay unchanged only until this returns.
   */
  getAtOrAfter(target: Uint8Array, filterKey?: Uint8Array, keyView = false): MaybePromise<TableEntry | undefined> {
    if (this.parts ? !this.seekPartitioned(target, filterKey) : this.filteredOut(target, filterKey) || !this.seekIndex(target)) return undefined;
    const r = this.fetcher.get(this.handle.offset, this.handle.size);
    if (r instanceof Promise) {
      // The caller may reuse target's bytes once this returns (a get's lookup buffer).
      const t = copyBytes(target);
      return r.then((b) => this.answer(b, t));
    }
    return keyView ? this.answerView(r, target) : this.answer(r, target);
  }

  /**
   * Where in the file the data for keys >= target (an internal key) starts: the offset of the data
   * block the index names for target, or the file size when target is past the last key. Reads the
   * in-memory index only, never a data block (db.approximateSize). Main thread.
   */
  approximateOffsetOf(target: Uint8Array): number {
    return this.seekIndex(target) ? this.handle.offset : this.fileSize;
  }

  newIterator(): InternalIterator {
    if (this.parts) return new TwoLevelIterator(this.parts.newCursor(), this.loader, this.cmp);
    return new TwoLevelIterator(new BlockIterator(this.cmp, this.indexBlock), this.loader, this.cmp, this.indexSearch);
  }

  /** Iterator over the range-deletion block (reserved; absent in tables written by this version). */
  newRangeDelIterator(): BlockIterator | undefined {
    return this.rangeDelBlock ? new BlockIterator(this.cmp, this.rangeDelBlock) : undefined;
  }

  /** Handles of all data blocks, in key order (walks the index). */
  dataBlockHandles(): BlockHandle[] {
    const out: BlockHandle[] = [];
    const it = this.parts ? this.parts.newCursor() : new BlockIterator(this.cmp, this.indexBlock);
    for (it.seekToFirst(); it.valid(); it.next()) {
      const h = { offset: 0, size: 0 };
      this.loader.decodeHandle(it, h);
      out.push(h);
    }
    return out;
  }

  /** Reads a block bypassing the cache, always checking its CRC (layout dumps, verification). */
  fetchBlock(handle: BlockHandle): Promise<{ block: Block; type: number }> {
    return this.fetcher.fetchUncached(handle.offset, handle.size, true);
  }

  /** Reads every block, checking CRCs and entry encodings; CorruptionError at the first bad one. */
  async verifyChecksums(): Promise<void> {
    const f = this.footer;
    for (const h of this.metaHandles.values()) await this.fetcher.fetchBytes(h.offset, h.size, true);
    for (const h of this.partitionHandles()) await this.fetcher.fetchBytes(h.offset, h.size, true);
    for (const h of [f.metaindex, f.index, ...this.dataBlockHandles()]) countEntries((await this.fetchBlock(h)).block, this.cmp);
  }

  /** Partitioned tables: each top-level entry's index partition and filter partition (if any), in key order. */
  partitions(): { index: BlockHandle; filter: BlockHandle | undefined }[] {
    const out: { index: BlockHandle; filter: BlockHandle | undefined }[] = [];
    if (!this.parts) return out;
    const top = new BlockIterator(this.cmp, this.indexBlock);
    for (top.seekToFirst(); top.valid(); top.next()) {
      const h = this.parts.decode(top);
      out.push({ index: { ...h.index }, filter: h.filter.size > 0 ? { ...h.filter } : undefined });
    }
    return out;
  }

  /** Partitioned tables: the handles of every index and filter partition. */
  partitionHandles(): BlockHandle[] {
    return this.partitions().flatMap((p) => (p.filter ? [p.filter, p.index] : [p.index]));
  }

  /** Reads a block's stored and decompressed bytes, CRC checked, without decoding entries (layout dumps). */
  fetchBytes(handle: BlockHandle): Promise<{ data: Uint8Array; type: number }> {
    return this.fetcher.fetchBytes(handle.offset, handle.size, true);
  }

  /** Drops this table's blocks from the cache and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache?.erase(this.fetcher.cacheId);
    await this.file.close();
  }
}

/** The cipher of an encrypted table, from its header at offset 0. */
async function tableCipher(file: ReadableFile, name: string, limit: number, keys: KeyResolver | undefined): Promise<FileCipher> {
  const head = await file.read(0, Math.min(MAX_HEADER_READ, limit));
  if (!hasCryptMagic(head)) throw new CorruptionError(name, 0, 'table format 2 (encrypted) without an encryption header');
  const h = decodeEncryptionHeader(head, 0, name, 0, FileKind.TABLE);
  return cipherFor(h, name, keys);
}
