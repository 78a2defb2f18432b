/**
 * A table iterator: an index-block iterator whose values are block handles, and a data-block
 * iterator over the block the index points at (LevelDB's two-level iterator).
 * Contract: InternalIterator (src/base/internal-iterator.ts): a movement returns a Promise only
 * when a data block had to be read or decoded asynchronously; otherwise it completes synchronously
 * and returns undefined. Empty data blocks (only in odd or hostile tables) are skipped in both
 * directions. Views from key()/value() are valid until the next movement. Errors from the loader
 * (CorruptionError, IOError) surface from the movement that needed the block. The iterator holds
 * the block it is on plus, during forward scans of async blocks, up to READAHEAD_BLOCKS decoded ahead.
 * seek() finds its index entry with the table's IndexSearch (the point lookups' summaries) when the
 * reader built one, and with a plain block seek otherwise; both land on the same entry.
 * Not here: reading and caching blocks (block-fetch.ts via the loader), filters.
 */
import type { InternalIterator, MaybePromise } from '../src/base/internal-iterator.js';
import { Block, BlockIterator } from './block-reader.js';
import type { BlockHandle } from './format.js';
import type { IndexSearch } from './index-search.js';
import type { RangeCompare } from './range-compare.js';

/**
 * The index level: an index block's BlockIterator, or a partitioned table's cursor over its index
 * partitions (partitioned-index.ts). Movements are synchronous.
 */
export interface IndexCursor {
  valid(): boolean;
  key(): Uint8Array;
  readonly valueBytes: Uint8Array;
  readonly valueOffset: number;
  readonly valueLimit: number;
  /** The block the current entry is in (readahead peeks at the entries after it there). */
  readonly currentBlock: Block | undefined;
  seek(target: Uint8Array): void;
  seekToFirst(): void;
  seekToLast(): void;
  next(): void;
  prev(): void;
  close(): void;
}

export interface DataBlockLoader {
  /** Decodes the handle in the index iterator's current value into `out` (bounds-checked). */
  decodeHandle(index: IndexCursor, out: BlockHandle): void;
  load(handle: BlockHandle): MaybePromise<Block>;
}

/**
 * Blocks decoded ahead of a forward scan once a load had to wait (zstd, or async reads): compaction
 * reads zstd tables front to back, and one awaited zstd decode at a time costs ~60 µs, while several
 * in flight cost ~22 µs each (DESIGN.md). Loads that complete synchronously never start readahead.
 */
const READAHEAD_BLOCKS = 4;

interface Ahead { offset: number; result: MaybePromise<Block> }

export class TwoLevelIterator implements InternalIterator {
  private readonly data: BlockIterator;
  private hasData = false;
  private dataOffset = -1;
  private readonly handle: BlockHandle = { offset: 0, size: 0 };
  private readonly ahead: Ahead[] = [];
  private peek: BlockIterator | undefined;
  /**
   * @param search the point lookups' summary search over the same index block, when the table's
   *   reader built one: seeks then use it instead of the index iterator's binary search.
   */
  constructor(
    private readonly index: IndexCursor, private readonly loader: DataBlockLoader, private readonly cmp: RangeCompare,
    /** Only with an index block's BlockIterator as `index`. */
    private readonly search?: IndexSearch,
  ) {
    this.data = new BlockIterator(cmp);
  }

  valid(): boolean {
    return this.hasData && this.data.valid();
  }

  key(): Uint8Array { return this.data.key(); }
  value(): Uint8Array { return this.data.value(); }

  /**
   * Loads the block of the index's current entry; undefined when done synchronously. `forward`:
   * the caller moves forward, so a load that has to wait also starts the next blocks' loads.
   */
  private initDataBlock(forward = false): Promise<void> | undefined {
    if (!this.index.valid()) { this.hasData = false; this.dataOffset = -1; return undefined; }
    this.loader.decodeHandle(this.index, this.handle);
    if (this.hasData && this.handle.offset === this.dataOffset) return undefined;
    const offset = this.handle.offset;
    let r: MaybePromise<Block>;
    const head = this.ahead[0];
    if (forward && head !== undefined && head.offset === offset) {
      r = head.result;
      this.ahead.shift();
    } else {
      this.ahead.length = 0;
      r = this.loader.load(this.handle);
    }
    if (r instanceof Promise) {
      this.hasData = false;
      if (forward) {
        // Readahead is speculative: damage it meets (a bad index handle) is reported when the scan
        // reaches that entry. Throwing here would leave `r` with no handler, an unhandled rejection.
        try { this.readAhead(); } catch { /* reported later, by the read that needs that block */ }
      }
      return r.then((block) => { this.setBlock(block, offset); });
    }
    this.setBlock(r, offset);
    return undefined;
  }

  /** Starts loading up to READAHEAD_BLOCKS blocks after the index's current entry. */
  private readAhead(): void {
    const block = this.index.currentBlock;
    if (block === undefined) return;
    const peek = (this.peek ??= new BlockIterator(this.cmp));
    peek.reset(block);
    peek.seek(this.index.key());
    // Skip the current entry and the blocks already on their way.
    for (let i = 0; i <= this.ahead.length && peek.valid(); i++) peek.next();
    const h: BlockHandle = { offset: 0, size: 0 };
    while (this.ahead.length < READAHEAD_BLOCKS && peek.valid()) {
      this.loader.decodeHandle(peek, h);
      const result = this.loader.load(h);
      // A failed readahead surfaces when the scan reaches that block; never as an unhandled rejection.
      if (result instanceof Promise) result.catch(() => undefined);
      this.ahead.push({ offset: h.offset, result });
      peek.next();
    }
  }

  private setBlock(block: Block, offset: number): void {
    this.data.reset(block);
    this.hasData = true;
    this.dataOffset = offset;
  }

  private skipEmptyForward(): MaybePromise<void> {
    while (!this.valid()) {
      if (!this.index.valid()) { this.hasData = false; return; }
      this.index.next();
      const p = this.initDataBlock(true);
      if (p) return p.then(() => { if (this.hasData) this.data.seekToFirst(); return this.skipEmptyForward(); });
      if (this.hasData) this.data.seekToFirst();
    }
  }

  private skipEmptyBackward(): MaybePromise<void> {
    while (!this.valid()) {
      if (!this.index.valid()) { this.hasData = false; return; }
      this.index.prev();
      const p = this.initDataBlock();
      if (p) return p.then(() => { if (this.hasData) this.data.seekToLast(); return this.skipEmptyBackward(); });
      if (this.hasData) this.data.seekToLast();
    }
  }

  seek(target: Uint8Array): MaybePromise<void> {
    if (this.search !== undefined) this.search.seekIterator(this.index as BlockIterator, target);
    else this.index.seek(target);
    const p = this.initDataBlock(true);
    if (p) return p.then(() => { if (this.hasData) this.data.seek(target); return this.skipEmptyForward(); });
    if (this.hasData) this.data.seek(target);
    return this.skipEmptyForward();
  }

  seekForPrev(target: Uint8Array): MaybePromise<void> {
    const p = this.seek(target);
    if (p) return p.then(() => this.afterSeekForPrev(target));
    return this.afterSeekForPrev(target);
  }

  private afterSeekForPrev(target: Uint8Array): MaybePromise<void> {
    if (!this.valid()) return this.seekToLast();
    // seek() landed on the first key >= target; step back once unless it equals target.
    const d = this.data;
    d.seekForPrev(target);
    if (d.valid()) return undefined;
    return this.skipEmptyBackward();
  }

  seekToFirst(): MaybePromise<void> {
    this.index.seekToFirst();
    const p = this.initDataBlock(true);
    if (p) return p.then(() => { if (this.hasData) this.data.seekToFirst(); return this.skipEmptyForward(); });
    if (this.hasData) this.data.seekToFirst();
    return this.skipEmptyForward();
  }

  seekToLast(): MaybePromise<void> {
    this.index.seekToLast();
    const p = this.initDataBlock();
    if (p) return p.then(() => { if (this.hasData) this.data.seekToLast(); return this.skipEmptyBackward(); });
    if (this.hasData) this.data.seekToLast();
    return this.skipEmptyBackward();
  }

  next(): MaybePromise<void> {
    this.data.next();
    return this.skipEmptyForward();
  }

  prev(): MaybePromise<void> {
    this.data.prev();
    return this.skipEmptyBackward();
  }

  close(): undefined {
    this.ahead.length = 0;
    this.data.close();
    this.index.close();
    this.hasData = false;
  }
}
