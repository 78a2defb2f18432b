/**
 * Point reads (DESIGN.md "Read"): memtable -> immutable memtables (newest first) -> the tables
 * Version.filesForGet lists (L0 newest first, then one per deeper level, found by key range: the one
 * rule for which tables a get searches); each table is asked only when its bloom filter says maybe. The first version found with seq <= the snapshot decides: a put returns its
 * value, a deletion returns undefined.
 *
 * Synchronous whenever everything needed is in memory (memtables, open readers, cached blocks, or
 * synchronous page-cache reads): the result is a value, not a Promise, so db.get pays no microtask
 * beyond its own. What a found value becomes is the caller's `found` (get: COPY_VALUE, a copy the
 * caller owns; has: PRESENT, no copy at all: the value is never touched, only the key and kind are
 * read). A synchronous get allocates only that copy: the lookup key lives in one reused buffer (a get
 * that has to wait takes a copy of it), and empty memtables are skipped without hashing the key.
 * Range tombstones (src/rangedel), as LevelDB/RocksDB walk them: the newest tombstone seq visible at the
 * read and covering the key (the "cover") is raised source by source, newest source first, before that
 * source is asked; the first version found is deleted when its seq is below the cover. A tombstone in
 * an older source cannot delete a version found in a newer one, so nothing past the found version is
 * read. A source without tombstones costs one count check, so gets pay nothing more when there are none.
 * A table whose range holds a tombstone covering the key is among filesForGet's tables (its bounds
 * include its tombstones), so no tombstone is missed.
 * Main thread only.
 */
import type { Buffer } from 'node:buffer';
import { compareByteRanges, copyToBuffer, copyBytes } from '../base/bytes.js';
import {
  KIND_FOR_SEEK, TRAILER_SIZE, ValueKind, kindOf, seqOf, writeTrailer,
} from '../base/internal-key.js';
import type { MaybePromise } from '../base/internal-iterator.js';
import { CorruptionError } from '../errors.js';
import { MISS } from '../memtable/memtable.js';
import type { ReadableMemTable } from '../memtable/readable-memtable.js';
import type { Version } from '../manifest/version.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import type { TableCache, TableHandle } from '../cache/table-cache.js';
import type { TableReader } from '../../sstable/table-reader.js';
import { tableRangeDels } from '../table/table-range-dels.js';

/** undefined: not found in this source, keep looking; null: deleted; a T: found. */
type Probe<T> = T | null | undefined;

/** What a found value becomes: a view of it (valid only during the call) in, the answer out. */
export type Found<T> = (value: Uint8Array) => T;

/** Values copied out by COPY_VALUE since the process started (a test counts has() copying none). */
export const readPathCounters = { valueCopies: 0 };

/** get(): the value as a Buffer the caller owns. */
export const COPY_VALUE: Found<Buffer> = (v) => {
  readPathCounters.valueCopies++;
  return copyToBuffer(v);
};

/** has(): only that a value is there. */
export const PRESENT: Found<true> = () => true;

/** The cover the last getFromMemtables miss left for getFromTables (0: no tombstone covers the key). */
let memtableCover = 0;

/**
 * Looks userKey up in the memtables (newest first). On a miss (undefined), memtablesCover() is the
 * cover the tables must honour; read it before the next get.
 */
export function getFromMemtables<T>(memtables: readonly ReadableMemTable[], userKey: Uint8Array, seq: number, found: Found<T>): Probe<T> {
  let cover = 0;
  for (let i = memtables.length - 1; i >= 0; i--) {
    const m = memtables[i]!;
    // An empty memtable (the usual state after a flush) costs nothing, not a hash of the key.
    if (m.entries === 0) continue;
    if (m.rangeDeletions > 0) {
      const c = m.rangeDelFragments().maxCoveringSeq(userKey, seq);
      if (c > cover) cover = c;
    }
    const kind = m.get(userKey, seq);
    if (kind === MISS) continue;
    if (cover > 0 && m.lastSeqFound() < cover) return null;
    if (kind === ValueKind.Put) return found(m.lastValue());
    return null;
  }
  memtableCover = cover;
  return undefined;
}

/** The cover left by the last getFromMemtables that returned undefined. */
export function memtablesCover(): number {
  return memtableCover;
}

/** Raises `cover` by the table's tombstones covering userKey at seq. */
function tableCover(reader: TableReader, userKey: Uint8Array, seq: number, cover: number): number {
  if (reader.properties.numRangeDeletions === 0) return cover;
  const c = tableRangeDels(reader).maxCoveringSeq(userKey, seq);
  return c > cover ? c : cover;
}

/** The lookup key's buffer, reused by every get (synchronous use only; grown on demand). */
let lookupBuf = new Uint8Array(64);

/** The internal key a get seeks to: a view of the shared buffer, valid until the next get. */
function lookupKey(userKey: Uint8Array, seq: number): Uint8Array {
  const n = userKey.length + TRAILER_SIZE;
  if (lookupBuf.length < n) lookupBuf = new Uint8Array(Math.max(n, lookupBuf.length * 2));
  const k = lookupBuf.subarray(0, n);
  k.set(userKey, 0);
  writeTrailer(k, userKey.length, seq, KIND_FOR_SEEK);
  return k;
}

function decide<T>(
  file: FileMetadata, path: string, entry: { key: Uint8Array; value: Uint8Array } | undefined, userKey: Uint8Array,
  cover: number, found: Found<T>,
): Probe<T> {
  if (!entry) return undefined;
  const k = entry.key;
  if (k.length < TRAILER_SIZE) throw new CorruptionError(path, 0, `table ${file.fileNumber} holds a key shorter than its trailer`);
  if (compareByteRanges(k, 0, k.length - TRAILER_SIZE, userKey, 0, userKey.length) !== 0) return undefined;
  if (cover > 0 && seqOf(k) < cover) return null;
  const kind = kindOf(k);
  if (kind === ValueKind.Put) return found(entry.value);
  if (kind === ValueKind.Delete) return null;
  throw new CorruptionError(path, 0, `table ${file.fileNumber} holds an entry of unknown kind ${kind}`);
}

/**
 * Looks userKey up in the tables of `version` at sequence `seq`, honouring `cover` (the newest
 * tombstone seq found covering the key in newer sources: memtablesCover()). The caller keeps
 * `version` referenced until the result settles.
 */
export function getFromTables<T>(
  version: Version, tables: TableCache, userKey: Uint8Array, seq: number, cover: number, found: Found<T>,
): MaybePromise<T | undefined> {
  const ikey = lookupKey(userKey, seq);
  const files = version.filesForGet(userKey);
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    // Unreferenced: used and let go within this turn; a reference is taken only to wait.
    const reader = tables.peek(f);
    // NB: from here on other gets reuse the lookup buffer: the continuation keeps a copy.
    if (reader === undefined) return continueAsync(tables.acquire(f), files, i, tables, userKey, copyBytes(ikey), seq, cover, found);
    cover = tableCover(reader, userKey, seq, cover);
    // A key view: decide() reads the answer at once and keeps only a copy of the value.
    const r = reader.getAtOrAfter(ikey, userKey, true);
    if (r instanceof Promise) return continueAsync(tables.acquire(f), files, i, tables, userKey, copyBytes(ikey), seq, cover, found, r);
    const probe = decide(f, reader.fileName, r, userKey, cover, found);
    if (probe !== undefined) return probe ?? undefined;
  }
  return undefined;
}

async function continueAsync<T>(
  handle: TableHandle | Promise<TableHandle>,
  files: FileMetadata[], start: number, tables: TableCache, userKey: Uint8Array, ikey: Uint8Array,
  seq: number, cover: number, found: Found<T>, pending?: Promise<{ key: Uint8Array; value: Uint8Array } | undefined>,
): Promise<T | undefined> {
  for (let i = start; i < files.length; i++) {
    const f = files[i]!;
    const h = i === start ? await handle : await tables.acquire(f);
    let entry: { key: Uint8Array; value: Uint8Array } | undefined;
    try {
      // With `pending` the cover already counts this table.
      if (!(i === start && pending)) cover = tableCover(h.reader, userKey, seq, cover);
      entry = i === start && pending ? await pending : await h.reader.getAtOrAfter(ikey, userKey);
    } finally {
      h.release();
    }
    const probe = decide(f, h.reader.fileName, entry, userKey, cover, found);
    if (probe !== undefined) return probe ?? undefined;
  }
  return undefined;
}
