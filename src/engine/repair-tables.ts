/**
 * DB.repair's table check: is one `NNNNNN.sst` a whole, readable table, and what would a MANIFEST
 * record about it? Nothing here trusts the file: the footer, metaindex, properties and index are
 * decoded (TableReader.open), every block's CRC32C is checked (verifyChecksums), every entry is read
 * back to see that the keys are internal keys in strictly increasing order and that the counts, key
 * bounds and sequence bounds are the ones the properties record, the range-deletion block is decoded
 * against its count, and, when an old MANIFEST still lists the number, the file must be the table it
 * lists (size and unique id: src/manifest/table-identity.ts).
 * Contract: checkTable() resolves to the table's FileMetadata (built as table-output.ts builds it for
 * a new table, the whole-file CRC32C read here), or to a reason when the table is damaged (a
 * CorruptionError, or no entries at all). Every other error (a missing key, a newer format, I/O)
 * rejects: the caller stops the repair before it changes anything. The files are closed either way.
 * readManifestRecords() reads what every old MANIFEST still says about its tables; an unreadable
 * MANIFEST says nothing. Main thread.
 */
import * as path from 'node:path';
import { compareInternalKeys, isInternalKey, kindOf, seqOf, ValueKind } from '../base/internal-key.js';
import { copyBytes, equalBytes } from '../base/bytes.js';
import { CorruptionError } from '../errors.js';
import type { FileSystem } from '../fs/file-system.js';
import { crc32cOfFile } from '../fs/file-crc.js';
import type { KeyRing } from '../encryption/keyring.js';
import { makeFileMetadata, type FileMetadata } from '../manifest/file-metadata.js';
import { parseFileName } from '../manifest/file-names.js';
import { replayManifest } from '../manifest/manifest-replay.js';
import { manifestCipher } from '../manifest/version-set.js';
import { checkTableIdentity, type TableIdentity } from '../manifest/table-identity.js';
import { openTableReader } from '../table/table-open.js';
import { tableRangeDels } from '../table/table-range-dels.js';
import { boundsWithTombstones } from '../table/table-output.js';
import type { TableReader } from '../../sstable/table-reader.js';
import { newestWriteTimeOf } from '../../sstable/properties.js';

export type TableCheck = { ok: true; meta: FileMetadata } | { ok: false; reason: string };

/** What the old MANIFESTs in `names` still say: their tables by number, and the highest next file number. */
export interface ManifestRecords {
  tables: Map<number, TableIdentity>;
  /** Numbers below this may have named files since deleted: a repair numbers its files above it. */
  nextFileNumber: number;
}

/** Reads every old MANIFEST in `names` (see ManifestRecords); the newest MANIFEST's record of a table wins. */
export async function readManifestRecords(fs: FileSystem, dir: string, names: readonly string[],
  keys: KeyRing | undefined): Promise<ManifestRecords> {
  const manifests = names.map((n) => ({ n, p: parseFileName(n) }))
    .filter((x) => x.p?.type === 'manifest').sort((a, b) => a.p!.number - b.p!.number);
  const out: ManifestRecords = { tables: new Map(), nextFileNumber: 0 };
  for (const { n } of manifests) {
    const file = path.join(dir, n);
    try {
      const data = await fs.readFile(file);
      const replay = replayManifest(data, file, { mode: 'report', cipher: await manifestCipher(data, file, keys) });
      for (const level of replay.levels) for (const f of level) out.tables.set(f.fileNumber, f);
      out.nextFileNumber = Math.max(out.nextFileNumber, replay.nextFileNumber ?? 0);
    } catch {
      // Unreadable (or encrypted under a key we lack): it vouches for nothing. A damaged one vouches
      // for the records before the damage ('report' mode).
    }
  }
  return out;
}

/** Checks table `fileNumber` of `dir` (see the header). */
export async function checkTable(fs: FileSystem, dir: string, fileNumber: number, name: string,
  keys: KeyRing | undefined, listed: TableIdentity | undefined): Promise<TableCheck> {
  const file = path.join(dir, name);
  let reader: TableReader | undefined;
  try {
    reader = await openTableReader(await fs.openReadable(file), file, { syncReads: true, ...(keys ? { keys } : {}) });
    if (listed) checkTableIdentity(reader, listed, 'an old MANIFEST');
    await reader.verifyChecksums();
    const rangeDels = tableRangeDels(reader);
    const scan = await scanEntries(reader);
    const props = reader.properties;
    const mismatch = (what: string, found: unknown, recorded: unknown): CorruptionError =>
      new CorruptionError(file, 0, `the entries' ${what} (${String(found)}) differ from the properties' (${String(recorded)})`);
    if (scan.entries !== props.numEntries) throw mismatch('count', scan.entries, props.numEntries);
    if (scan.deletions !== props.numDeletions) throw mismatch('deletion count', scan.deletions, props.numDeletions);
    if (!sameKey(scan.first, props.smallestKey) || !sameKey(scan.last, props.largestKey)) {
      throw new CorruptionError(file, 0, 'the first or last key differs from the key bounds the properties record');
    }
    const { smallest, largest } = boundsWithTombstones(props.smallestKey, props.largestKey, rangeDels);
    if (smallest === undefined || largest === undefined || props.smallestSeq === undefined || props.largestSeq === undefined) {
      return { ok: false, reason: 'the table holds no entries and no range deletions' };
    }
    if (scan.entries > 0 && (scan.minSeq < props.smallestSeq || scan.maxSeq > props.largestSeq)) {
      throw mismatch('sequence range', `${scan.minSeq}..${scan.maxSeq}`, `${props.smallestSeq}..${props.largestSeq}`);
    }
    const crc = await wholeFileCrc(fs, file, reader.fileSize);
    return {
      ok: true,
      meta: makeFileMetadata({
        fileNumber,
        fileSize: reader.fileSize,
        crc32c: crc,
        smallest,
        largest,
        smallestSeq: props.smallestSeq,
        largestSeq: props.largestSeq,
        numEntries: props.numEntries,
        numDeletions: props.numDeletions,
        numRangeDeletions: rangeDels.entryCount,
        // What the MANIFEST said of it (the runner and flush write the same value into the table)
        newestWriteTimeMs: Math.max(0, Math.floor(newestWriteTimeOf(props))),
        ...(reader.keyId !== undefined ? { keyId: reader.keyId } : {}),
        ...(props.uniqueId !== undefined ? { uniqueId: props.uniqueId } : {}),
      }),
    };
  } catch (e) {
    if (e instanceof CorruptionError) return { ok: false, reason: e.message };
    throw e;
  } finally {
    await reader?.close().catch(() => undefined);
  }
}

interface EntryScan { entries: number; deletions: number; minSeq: number; maxSeq: number; first?: Uint8Array; last?: Uint8Array }

/** Reads every entry once, checking the order the table format promises. */
async function scanEntries(reader: TableReader): Promise<EntryScan> {
  const it = reader.newIterator();
  const out: EntryScan = { entries: 0, deletions: 0, minSeq: Infinity, maxSeq: -Infinity };
  let prev: Uint8Array | undefined;
  try {
    let step = it.seekToFirst();
    if (step) await step;
    while (it.valid()) {
      const key = it.key();
      if (!isInternalKey(key)) throw new CorruptionError(reader.fileName, 0, `entry ${out.entries} has a key shorter than an internal key`);
      if (prev && compareInternalKeys(prev, key) >= 0) {
        throw new CorruptionError(reader.fileName, 0, `entry ${out.entries} is not after the entry before it (keys out of order)`);
      }
      prev = copyBytes(key);
      out.first ??= prev;
      out.entries++;
      if (kindOf(key) === ValueKind.Delete) out.deletions++;
      const seq = seqOf(key);
      if (seq < out.minSeq) out.minSeq = seq;
      if (seq > out.maxSeq) out.maxSeq = seq;
      step = it.next();
      if (step) await step;
    }
  } finally {
    const c = it.close();
    if (c) await c;
  }
  if (prev) out.last = prev;
  return out;
}

function sameKey(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equalBytes(a, b);
}

async function wholeFileCrc(fs: FileSystem, file: string, size: number): Promise<number> {
  const f = await fs.openReadable(file);
  try {
    return await crc32cOfFile(f, size);
  } finally {
    await f.close();
  }
}
