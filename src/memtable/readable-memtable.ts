/**
 * ReadableMemTable: an immutable memtable as the read path, the flush and the stats see it. Two
 * kinds implement it: MemTable (every write goes into one) and FlushableBatch (one large committed
 * batch held as it was encoded, never copied into a MemTable: flushable-batch.ts). Typing the frozen
 * list and the read paths with this interface keeps them blind to which kind a frozen entry is.
 * Not here: adding entries (only the active MemTable takes writes) and the worker handoff (share()
 * is optional: a table without it is flushed on the main thread).
 */
import type { InternalIterator } from '../base/internal-iterator.js';
import type { FragmentSet } from '../rangedel/fragment-set.js';
import type { Stretches } from '../rangedel/stretches.js';
import type { SharedMemTable } from './memtable.js';

export interface ReadableMemTable {
  /** Entries and range tombstones (0: nothing to read or flush). */
  readonly entries: number;
  /** Range tombstones held. */
  readonly rangeDeletions: number;
  /** Smallest and largest seq held (0 when empty). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /**
   * The newest version of userKey with seq <= snapshotSeq: MISS (-1) or its kind; on a hit
   * lastSeqFound() and lastValue() describe it until the next get().
   */
  get(userKey: Uint8Array, snapshotSeq: number): number;
  lastSeqFound(): number;
  /** A view: copy it to keep it. */
  lastValue(): Uint8Array;
  /** A synchronous iterator over internal keys in internal order. */
  newIterator(): InternalIterator;
  /** Bytes held. */
  approximateMemoryUsage(): number;
  /** The range tombstones, fragmented. */
  rangeDelFragments(): FragmentSet;
  /** See MemTable.ownStretches (undefined without range tombstones). */
  ownStretches(readSeq: number): Stretches | undefined;
  /** Plain data for a flush worker; absent: flush on the main thread. */
  share?(): SharedMemTable;
}
