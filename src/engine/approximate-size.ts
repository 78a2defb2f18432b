/**
 * db.approximateSize(start, end): the bytes the user-key range [start, end) occupies, as RocksDB's
 * GetApproximateSizes answers it: on disk from the tables' index blocks, plus the memtables' share.
 * - A table wholly inside the range counts its file size; one outside it counts nothing; one that
 *   straddles a bound counts the distance between the data blocks the index names for start and for
 *   end (TableReader.approximateOffsetOf). So the error is at most about one data block per
 *   straddling table, and no data block is ever read (only indexes, which open readers hold).
 * - Memtables count the encoded size (key + 8-byte trailer + value) of the entries in the range, by
 *   walking their sorted order: in memory, O(entries in the range). That is an upper bound of what a
 *   flush would write (shadowed versions and compression shrink it), hence "approximate".
 * Tables not open yet are opened (that reads their index and filter, as any first read does).
 * The caller keeps `version` referenced until the promise settles. Main thread only.
 */
import { compareByteRanges, compareBytes } from '../base/bytes.js';
import { KIND_FOR_SEEK, MAX_SEQUENCE, TRAILER_SIZE, makeInternalKey } from '../base/internal-key.js';
import type { ReadableMemTable } from '../memtable/readable-memtable.js';
import type { Version } from '../manifest/version.js';
import { largestUserKey, smallestUserKey, type FileMetadata } from '../manifest/file-metadata.js';
import type { TableCache } from '../cache/table-cache.js';

/** Bytes of [start, end) in the tables of `version`. REQUIRES start < end (bytewise). */
export async function approximateTableBytes(version: Version, tables: TableCache, start: Uint8Array, end: Uint8Array): Promise<number> {
  const lo = makeInternalKey(start, MAX_SEQUENCE, KIND_FOR_SEEK);
  const hi = makeInternalKey(end, MAX_SEQUENCE, KIND_FOR_SEEK);
  let total = 0;
  // overlappingFiles is inclusive of its upper bound; a file starting exactly at `end` counts 0 below.
  for (let level = 0; level < version.numLevels; level++) {
    for (const f of version.overlappingFiles(level, start, end)) {
      if (inside(f, start, end)) {
        total += f.fileSize;
        continue;
      }
      const h = await tables.acquire(f);
      try {
        const from = h.reader.approximateOffsetOf(lo);
        const to = h.reader.approximateOffsetOf(hi);
        if (to > from) total += to - from;
      } finally {
        h.release();
      }
    }
  }
  return total;
}

/** True when every key of f lies in [start, end). */
function inside(f: FileMetadata, start: Uint8Array, end: Uint8Array): boolean {
  return compareBytes(smallestUserKey(f), start) >= 0 && compareBytes(largestUserKey(f), end) < 0;
}

/** Encoded bytes of the memtable entries whose user key lies in [start, end). */
export function approximateMemtableBytes(memtables: readonly ReadableMemTable[], start: Uint8Array, end: Uint8Array): number {
  const target = makeInternalKey(start, MAX_SEQUENCE, KIND_FOR_SEEK);
  let total = 0;
  for (const m of memtables) {
    if (m.entries === 0) continue;
    // NB: the memtable iterator is synchronous (in memory); its MaybePromise type is the interface's.
    const it = m.newIterator();
    void it.seek(target);
    for (; it.valid(); void it.next()) {
      const k = it.key();
      if (compareByteRanges(k, 0, k.length - TRAILER_SIZE, end, 0, end.length) >= 0) break;
      total += k.length + it.value().length;
    }
  }
  return total;
}
