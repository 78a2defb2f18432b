/**
 * An engine table's range tombstones: its range-deletion block (sstable/FORMAT.md) decoded once into
 * a FragmentSet and kept beside the reader for its lifetime (the block is already in memory: the
 * reader loads it at open, like the index and filter).
 * Contract: the block is untrusted: malformed entries, or a count that differs from the table's
 * `range_deletions` property, are CorruptionError naming the file and the block's offset. A table
 * without the block has no tombstones. Safe in a worker.
 */
import { CorruptionError } from '../errors.js';
import { FragmentSet } from '../rangedel/fragment-set.js';
import { decodeFragments } from '../rangedel/table-codec.js';
import { META_RANGE_DEL } from '../../sstable/format.js';
import type { TableReader } from '../../sstable/table-reader.js';

const decoded = new WeakMap<TableReader, FragmentSet>();

/** The fragments of `reader`'s range-deletion block (FragmentSet.EMPTY when it has none). */
export function tableRangeDels(reader: TableReader): FragmentSet {
  let set = decoded.get(reader);
  if (set) return set;
  const it = reader.newRangeDelIterator();
  const offset = reader.metaHandles.get(META_RANGE_DEL)?.offset ?? 0;
  set = it ? decodeFragments(it, reader.fileName, offset) : FragmentSet.EMPTY;
  const expected = reader.properties.numRangeDeletions;
  if (set.entryCount !== expected) {
    throw new CorruptionError(reader.fileName, offset,
      `range-deletion block holds ${set.entryCount} entries, the range_deletions property says ${expected}`);
  }
  decoded.set(reader, set);
  return set;
}
