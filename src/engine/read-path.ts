/**
 * Point reads (DESIGN.md "Read"): memtable -> immutable memtables (newest first) -> the tables
 * Version.filesForGet lists (L0 newest first, then one per deeper level, found by key range: the one
 * rule for which tables a get searches); each table is asked only when its bloom filter says maybe. The first version found with seq <= the snapshot decides: a put returns its
 * value, a deletion returns undefined.
 *
 * Synchronous whenever everything needed is in memory (memtables, open readers, cached blocks, or
 * synchronous page-cache reads): the result is a value, not a Promise, so db.get pays no microtask
 * beyond its own. Returned values are copies the caller owns. A synchronous get allocates only that
 * copy: the lookup key lives in one reused buffer (a get that has to wait takes a copy of it), and
 * empty memtables are skipped without hashing the key.
 * Main thread only.
 */
import { Buffer } from 'node:buffer';
import { compareByteRanges, copyToBuffer } from '../base/bytes.js';
import {
  KIND_FOR_SEEK, TRAILER_SIZE, ValueKind, kindOf, writeTrailer,
} from '../base/internal-key.js';
import type { MaybePromise } from '../base/internal-iterator.js';
import { CorruptionError } from '../errors.js';
import { MISS, type MemTable } from '../memtable/memtable.js';
import type { Version } from '../manifest/version.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import type { TableCache, TableHandle } from '../cache/table-cache.js';

/** undefined: not found in this source, keep looking; null: deleted; a Buffer: found. */
type Probe = Buffer | null | undefined;

/** Looks userKey up in the memtables (newest first). */
export function getFromMemtables(memtables: readonly MemTable[], userKey: Uint8Array, seq: number): Probe {
  for (let i = memtables.length - 1; i >= 0; i--) {
    const m = memtables[i]!;
    // An empty memtable (the usual state after a flush) costs nothing, not a hash of the key.
    if (m.entries === 0) continue;
    const kind = m.get(userKey, seq);
    if (kind === MISS) continue;
    if (kind === ValueKind.Put) return copyToBuffer(m.lastValue());
    return null;
  }
  return undefined;
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

function decide(
  file: FileMetadata, path: string, entry: { key: Uint8Array; value: Uint8Array } | undefined, userKey: Uint8Array,
): Probe {
  if (!entry) return undefined;
  const k = entry.key;
  if (k.length < TRAILER_SIZE) throw new CorruptionError(path, 0, `table ${file.fileNumber} holds a key shorter than its trailer`);
  if (compareByteRanges(k, 0, k.length - TRAILER_SIZE, userKey, 0, userKey.length) !== 0) return undefined;
  const kind = kindOf(k);
  if (kind === ValueKind.Put) return copyToBuffer(entry.value);
  if (kind === ValueKind.Delete) return null;
  throw new CorruptionError(path, 0, `table ${file.fileNumber} holds an entry of unknown kind ${kind}`);
}

/**
 * Looks userKey up in the tables of `version` at sequence `seq`. The caller keeps `version` referenced
 * until the result settles.
 */
export function getFromTables(
  version: Version, tables: TableCache, userKey: Uint8Array, seq: number,
): MaybePromise<Buffer | undefined> {
  const ikey = lookupKey(userKey, seq);
  const files = version.filesForGet(userKey);
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    // Unreferenced: used and let go within this turn; a reference is taken only to wait.
    const reader = tables.peek(f);
    // NB: from here on other gets reuse the lookup buffer: the continuation keeps a copy.
    if (reader === undefined) return continueAsync(tables.acquire(f), files, i, tables, userKey, ikey.slice());
    // A key view: decide() reads the answer at once and keeps only a copy of the value.
    const r = reader.getAtOrAfter(ikey, userKey, true);
    if (r instanceof Promise) return continueAsync(tables.acquire(f), files, i, tables, userKey, ikey.slice(), r);
    const probe = decide(f, reader.fileName, r, userKey);
    if (probe !== undefined) return probe ?? undefined;
  }
  return undefined;
}

async function continueAsync(
  handle: TableHandle | Promise<TableHandle>,
  files: FileMetadata[], start: number, tables: TableCache, userKey: Uint8Array, ikey: Uint8Array,
  pending?: Promise<{ key: Uint8Array; value: Uint8Array } | undefined>,
): Promise<Buffer | undefined> {
  for (let i = start; i < files.length; i++) {
    const f = files[i]!;
    const h = i === start ? await handle : await tables.acquire(f);
    let entry: { key: Uint8Array; value: Uint8Array } | undefined;
    try {
      entry = i === start && pending ? await pending : await h.reader.getAtOrAfter(ikey, userKey);
    } finally {
      h.release();
    }
    const probe = decide(f, h.reader.fileName, entry, userKey);
    if (probe !== undefined) return probe ?? undefined;
  }
  return undefined;
}
