/**
 * Builds the merged internal iterator behind a public iterator: the memtables, each L0 table
 * (newest first; L0 tables overlap), and one concatenating iterator per deeper level (its tables
 * do not overlap). Tables are opened lazily through the table cache, and each open table iterator
 * holds a table-cache handle until it closes. The Version passed in is already referenced by the
 * caller; release() drops that reference. When the read may meet range tombstones each child is
 * wrapped to hide what they delete (range-del-iterator.ts, src/rangedel/range-del-skipping-iterator.ts);
 * a memtable also jumps over its own deleted stretches (MemTable.ownStretches).
 * With a filter prefix (every key the read can return starts with it), a table whose prefix filter
 * says no key starts with it is released at once and read as empty: its index and data are never
 * touched (RocksDB's prefix seek). Only the filter can rule a table out; a table written with another
 * prefix length, or none, is always read (TableReader.mayContainPrefix).
 */
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import { compareInternalKeys, userKeyOf } from '../base/internal-key.js';
import { compareBytes } from '../base/bytes.js';
import { prefixSuccessor } from '../base/prefix-bounds.js';
import { MergingIterator } from '../iterator/merging-iterator.js';
import { ConcatIterator } from '../iterator/concat-iterator.js';
import { DelegatingIterator } from '../iterator/delegating-iterator.js';
import type { ReadableMemTable } from '../memtable/readable-memtable.js';
import type { Version } from '../manifest/version.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import type { TableCache, TableHandle } from '../cache/table-cache.js';
import type { IteratorSource } from '../iterator/strata-iterator.js';
import { RangeDelView } from './range-del-iterator.js';
import { InternalError } from '../errors.js';
import { RangeDelSkippingIterator } from '../rangedel/range-del-skipping-iterator.js';

/** A table iterator that gives its table-cache handle back when closed. */
class PinnedTableIterator extends DelegatingIterator {
  private released = false;
  constructor(inner: InternalIterator, private readonly handle: TableHandle) { super(inner); }
  override close(): MaybePromise<void> {
    if (this.released) return undefined;
    this.released = true;
    try {
      return this.inner.close();
    } finally {
      this.handle.release();
    }
  }
}

/** A table the prefix filter ruled out: valid() is never true. */
class EmptyIterator implements InternalIterator {
  valid(): boolean { return false; }
  seekToFirst(): undefined { return undefined; }
  seekToLast(): undefined { return undefined; }
  seek(): undefined { return undefined; }
  seekForPrev(): undefined { return undefined; }
  next(): never { throw new InternalError('next() on an empty iterator'); }
  prev(): never { throw new InternalError('prev() on an empty iterator'); }
  key(): never { throw new InternalError('key() on an empty iterator'); }
  value(): never { throw new InternalError('value() on an empty iterator'); }
  close(): undefined { return undefined; }
}

function pinned(h: TableHandle, prefix: Uint8Array | undefined): InternalIterator {
  if (prefix !== undefined && !h.reader.mayContainPrefix(prefix)) {
    h.release();
    return new EmptyIterator();
  }
  return new PinnedTableIterator(h.reader.newIterator(), h);
}

/**
 * Opens a table through the cache as a pinned iterator (synchronously when already open); with
 * `prefix`, an empty one when the table's prefix filter rules the prefix out.
 */
export function openTableIterator(tables: TableCache, f: FileMetadata, prefix?: Uint8Array): MaybePromise<InternalIterator> {
  const h = tables.acquire(f);
  if (h instanceof Promise) return h.then((x) => pinned(x, prefix));
  return pinned(h, prefix);
}

const smallest = (f: FileMetadata): Uint8Array => f.smallest;
const largest = (f: FileMetadata): Uint8Array => f.largest;

/**
 * Every source of a version as internal iterators, in no particular order (the merge orders them);
 * with `rangeDels`, each hides what the tombstones delete.
 */
export function versionIterators(
  version: Version, tables: TableCache, out: InternalIterator[] = [], rangeDels?: RangeDelView, prefix?: Uint8Array,
): InternalIterator[] {
  const open = (f: FileMetadata): MaybePromise<InternalIterator> => openTableIterator(tables, f, prefix);
  const wrap = (it: InternalIterator, maxSeq: number): InternalIterator =>
    rangeDels ? new RangeDelSkippingIterator(it, rangeDels, maxSeq) : it;
  const levels = version.levels;
  // With a prefix, a table whose key range misses the prefix's cannot hold a key the read returns.
  // NB: without this trim a level would, after a table skipped by its filter, step on to the next
  // table and probe it, and the next: every table to the end of the level.
  const inRange = prefix === undefined ? undefined : prefixRangeFilter(prefix);
  const filesOf = (level: number): readonly FileMetadata[] => {
    const files = levels[level] ?? [];
    return inRange === undefined ? files : files.filter(inRange);
  };
  for (const f of filesOf(0)) out.push(wrap(new ConcatIterator([f], compareInternalKeys, open, smallest, largest), f.largestSeq));
  for (let level = 1; level < levels.length; level++) {
    const files = filesOf(level);
    if (files.length === 0) continue;
    let maxSeq = 0;
    for (const f of files) if (f.largestSeq > maxSeq) maxSeq = f.largestSeq;
    out.push(wrap(new ConcatIterator(files, compareInternalKeys, open, smallest, largest), maxSeq));
  }
  return out;
}

/** Whether a table's user-key range meets [prefix, successor(prefix)). */
function prefixRangeFilter(prefix: Uint8Array): (f: FileMetadata) => boolean {
  const end = prefixSuccessor(prefix);
  return (f) => compareBytes(userKeyOf(f.largest), prefix) >= 0 &&
    (end === undefined || compareBytes(userKeyOf(f.smallest), end) < 0);
}

/**
 * The merged source of a read at `readSeq` (range tombstones newer than it are not honoured);
 * `prefix`: the filter prefix every key of the read starts with, if any.
 */
export function buildIteratorSource(
  memtables: readonly ReadableMemTable[], version: Version, tables: TableCache, readSeq: number, prefix?: Uint8Array,
): IteratorSource {
  let released = false;
  return {
    build: () => {
      const rangeDels = RangeDelView.maybe(memtables, version, tables, readSeq);
      const children: InternalIterator[] = [];
      // A memtable still empty now holds nothing the iterator may see: whatever lands in it later
      // is newer than the iterator's snapshot, taken when the iterator was made.
      for (const m of memtables) {
        if (m.entries === 0) continue;
        children.push(rangeDels ? new RangeDelSkippingIterator(m.newIterator(), rangeDels, m.lastSeq, m) : m.newIterator());
      }
      return new MergingIterator(versionIterators(version, tables, children, rangeDels, prefix), compareInternalKeys);
    },
    release: () => {
      if (released) return;
      released = true;
      version.unref();
    },
  };
}
