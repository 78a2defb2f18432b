/**
 * The table cache: open TableReaders by file number, at most `maxOpenFiles` (-1 = unlimited), evicted
 * CLOCK-style: a use only sets the entry's reference bit (a get must not pay to reorder a Map), and
 * eviction walks the entries oldest-opened first, giving a referenced entry a second chance (bit
 * cleared, moved to the back) and closing the first unreferenced one. Readers in use are reference-counted: an evicted reader is
 * closed only when its last user lets go, so an iterator or a get awaiting I/O never loses its file.
 * A reader holds its index and filter in memory; memoryBytes() reports what open readers hold, and
 * `metadataBudget` bounds it as maxOpenFiles bounds their count (the same CLOCK eviction).
 * NB: a reader closed while in use still holds its memory until its last user lets go; it is counted.
 * Every reader is checked against the MANIFEST's record of its table before it is used (size and
 * unique id, src/manifest/table-identity.ts), once per open.
 * A read-only DB hands in its FilePins (file-pins.ts): a pinned table is read through its pinned
 * descriptor, so a writer deleting it changes nothing, and maxOpenFiles then bounds only the parsed
 * readers (index and filter memory), never the descriptors that keep the view. A table that is
 * neither pinned nor on disk any more is, for such a DB, a writer's doing: BusyError, not ERR_IO.
 * Main thread only.
 */
import type { KeyResolver } from '../encryption/file-cipher.js';
import { type FileSystem, type ReadableFile, isNotFound } from '../fs/file-system.js';
import { BusyError } from '../errors.js';
import type { FilePins } from './file-pins.js';
import { tableFileName } from '../manifest/file-names.js';
import type { TableReader } from '../../sstable/table-reader.js';
import type { BlockCache } from '../../sstable/block-cache.js';
import { checkTableIdentity, type TableIdentity } from '../manifest/table-identity.js';
import { openTableReader } from '../table/table-open.js';

interface Entry {
  fileNumber: number;
  reader: TableReader | undefined;
  opening: Promise<TableReader> | undefined;
  refs: number;
  /** Used since eviction last passed it (CLOCK reference bit). */
  referenced: boolean;
  evicted: boolean;
  /** The reader was checked against the MANIFEST's size and unique id. */
  identityChecked: boolean;
  /** What the open reader holds (index, filter, range deletions), counted in TableCache.heldBytes. */
  memoryBytes: number;
}

/** A pinned reader; release() exactly once. */
export interface TableHandle {
  readonly reader: TableReader;
  release(): void;
}

export interface TableCacheOptions {
  blockCache: BlockCache | undefined;
  maxOpenFiles: number;
  /** Bytes open readers may hold (memoryBytes()) before the least recently used are closed; 0 = no limit. */
  metadataBudget?: number;
  syncReads: boolean;
  /** Encryption at rest: keys for encrypted tables (and whether plaintext ones are accepted). */
  keys?: KeyResolver;
}

export class TableCache {
  /** Map order is the CLOCK order: next candidate for eviction first. */
  private readonly entries = new Map<number, Entry>();
  private filterChecksClosed = 0;
  private filterNegativesClosed = 0;
  private prefixChecksClosed = 0;
  private prefixNegativesClosed = 0;
  private pins: FilePins | undefined;
  /** What open readers hold (memoryBytes()). */
  private heldBytes = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly options: TableCacheOptions,
  ) {}

  /** Read pinned tables through their pinned descriptors (a read-only DB beside a writer). */
  usePins(pins: FilePins): void { this.pins = pins; }

  /** The pinned descriptor of a table (close() is a no-op), if it is pinned. */
  pinnedFile(fileNumber: number): ReadableFile | undefined { return this.pins?.get(fileNumber); }

  /**
   * The reader for a table, opening it if needed. Resolves synchronously when it is open. The reader
   * is checked against `expected` (the MANIFEST's size and unique id, table-identity.ts) once per
   * open, before it is first handed out: a mismatch is ERR_CORRUPTION and the reader is dropped.
   */
  acquire(expected: TableIdentity): TableHandle | Promise<TableHandle> {
    const fileNumber = expected.fileNumber;
    const e = this.entries.get(fileNumber);
    if (e && e.reader) {
      if (!e.identityChecked) this.checkIdentity(e, e.reader, expected);
      e.referenced = true;
      e.refs++;
      return this.handle(e, e.reader);
    }
    const entry = this.startOpen(fileNumber, expected);
    entry.refs++;
    return entry.opening!.then(
      (r) => {
        try {
          if (!entry.identityChecked) this.checkIdentity(entry, r, expected);
        } catch (err) {
          entry.refs--;
          if (entry.refs === 0 && entry.evicted) void this.closeEntry(entry);
          throw err;
        }
        return this.handle(entry, r);
      },
      (err: unknown) => { entry.refs--; throw err; },
    );
  }

  /**
   * The open reader for a table without taking a reference, or undefined when it is not open yet
   * (then acquire()). For a caller that is done with it before its synchronous turn ends: nothing
   * closes a reader within one turn. Checks identity like acquire().
   */
  peek(expected: TableIdentity): TableReader | undefined {
    const e = this.entries.get(expected.fileNumber);
    if (e === undefined || e.reader === undefined) return undefined;
    if (!e.identityChecked) this.checkIdentity(e, e.reader, expected);
    e.referenced = true;
    return e.reader;
  }

  /** The entry for `fileNumber`, with an open under way unless it is open already. */
  private startOpen(fileNumber: number, expected: TableIdentity | undefined): Entry {
    let e = this.entries.get(fileNumber);
    if (!e) {
      e = { fileNumber, reader: undefined, opening: undefined, refs: 0, referenced: false, evicted: false, identityChecked: false, memoryBytes: 0 };
      this.entries.set(fileNumber, e);
    }
    const entry = e;
    if (!entry.reader && !entry.opening) {
      entry.opening = this.open(fileNumber, expected).then(
        (r) => {
          // Referenced from the start: it was opened to be read, and must survive the eviction it causes.
          entry.reader = r; entry.opening = undefined; entry.identityChecked = expected !== undefined; entry.referenced = true;
          entry.memoryBytes = r.memoryBytes();
          this.heldBytes += entry.memoryBytes;
          this.evictIfNeeded();
          return r;
        },
        (err: unknown) => { entry.opening = undefined; if (this.entries.get(fileNumber) === entry) this.entries.delete(fileNumber); throw err; },
      );
    }
    return entry;
  }

  /** A reader opened without an expectation (warm()) is checked at its first acquire. */
  private checkIdentity(e: Entry, reader: TableReader, expected: TableIdentity): void {
    try {
      checkTableIdentity(reader, expected);
    } catch (err) {
      // Not the table the MANIFEST names: drop it, so nothing reads it through this entry.
      if (this.entries.get(e.fileNumber) === e) this.entries.delete(e.fileNumber);
      e.evicted = true;
      if (e.refs === 0) void this.closeEntry(e);
      throw err;
    }
    e.identityChecked = true;
  }

  private handle(e: Entry, reader: TableReader): TableHandle {
    let released = false;
    return {
      reader,
      release: () => {
        if (released) return;
        released = true;
        e.refs--;
        if (e.refs === 0 && e.evicted) void this.closeEntry(e);
      },
    };
  }

  private async open(fileNumber: number, expected: TableIdentity | undefined): Promise<TableReader> {
    const p = tableFileName(this.dir, fileNumber);
    const file = this.pins?.get(fileNumber) ?? await this.openUnpinned(p);
    return openTableReader(file, p, {
      syncReads: this.options.syncReads,
      ...(this.options.blockCache ? { cache: this.options.blockCache } : {}),
      ...(this.options.keys ? { keys: this.options.keys } : {}),
      ...(expected ? { expected } : {}),
    });
  }

  private async openUnpinned(p: string): Promise<ReadableFile> {
    try {
      return await this.fs.openReadable(p);
    } catch (e) {
      if (!this.pins || !isNotFound(e)) throw e;
      throw new BusyError(`${p} was removed by the writer of this database after this read-only view was taken: ` +
        'retry after db.tryCatchUpWithPrimary() or a new open', { cause: e, path: p });
    }
  }

  /** Past maxOpenFiles readers, or past the metadata budget in bytes (one reader is always kept). */
  private overLimit(): boolean {
    const max = this.options.maxOpenFiles;
    if (max >= 0 && this.entries.size > max) return true;
    const budget = this.options.metadataBudget ?? 0;
    return budget > 0 && this.heldBytes > budget && this.entries.size > 1;
  }

  private evictIfNeeded(): void {
    if (!this.overLimit()) return;
    // A Map visits entries re-inserted during the walk, so a second-chanced entry comes round again
    // (unreferenced by then): the walk ends after at most two passes.
    for (const e of this.entries.values()) {
      if (!this.overLimit()) break;
      if (!e.reader) continue;
      if (e.referenced) {
        e.referenced = false;
        this.entries.delete(e.fileNumber);
        this.entries.set(e.fileNumber, e);
        continue;
      }
      this.entries.delete(e.fileNumber);
      e.evicted = true;
      if (e.refs === 0) void this.closeEntry(e);
    }
  }

  private async closeEntry(e: Entry): Promise<void> {
    const r = e.reader;
    e.reader = undefined;
    if (!r) return;
    this.heldBytes -= e.memoryBytes;
    e.memoryBytes = 0;
    this.filterChecksClosed += r.filterChecks;
    this.filterNegativesClosed += r.filterNegatives;
    this.prefixChecksClosed += r.prefixChecks;
    this.prefixNegativesClosed += r.prefixNegatives;
    await r.close().catch(() => undefined);
  }

  /**
   * Opens tables ahead of their first read (after a flush or compaction installs them, and in the
   * background after open), so reads and getSync find them open. Best effort: errors surface on read.
   */
  async warm(fileNumbers: readonly number[]): Promise<void> {
    for (const n of fileNumbers) {
      if (this.options.maxOpenFiles >= 0 && this.entries.size >= this.options.maxOpenFiles) return;
      if ((this.options.metadataBudget ?? 0) > 0 && this.heldBytes >= this.options.metadataBudget!) return;
      try {
        // Opened without the MANIFEST's expectations at hand: acquire() checks identity on first use.
        await this.startOpen(n, undefined).opening;
      } catch {
        // a damaged table reports itself when read
      }
    }
  }

  /** Drops a table that was deleted (its blocks leave the block cache with it). */
  evict(fileNumber: number): void {
    const e = this.entries.get(fileNumber);
    if (!e) return;
    this.entries.delete(fileNumber);
    e.evicted = true;
    if (e.refs === 0) void this.closeEntry(e);
  }

  get openCount(): number { return this.entries.size; }

  /**
   * Bytes held by open readers (index, filter, range deletions), including readers evicted but still
   * in use by an iterator or a read (their memory is held until it lets go). A running count: cheap.
   */
  memoryBytes(): number { return this.heldBytes; }

  /** Point-read filter probes, and prefix probes by iterators (TableReader.mayContainPrefix). */
  filterStats(): { checks: number; negatives: number; prefixChecks: number; prefixNegatives: number } {
    let checks = this.filterChecksClosed;
    let negatives = this.filterNegativesClosed;
    let prefixChecks = this.prefixChecksClosed;
    let prefixNegatives = this.prefixNegativesClosed;
    for (const e of this.entries.values()) {
      const r = e.reader;
      if (!r) continue;
      checks += r.filterChecks; negatives += r.filterNegatives;
      prefixChecks += r.prefixChecks; prefixNegatives += r.prefixNegatives;
    }
    return { checks, negatives, prefixChecks, prefixNegatives };
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) {
      if (e.opening) await e.opening.catch(() => undefined);
      await this.closeEntry(e);
    }
  }
}
