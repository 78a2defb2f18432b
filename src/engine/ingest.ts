/**
 * db.ingest(): bulk-loads external tables (sstable/FORMAT.md "External tables") as one atomic write
 * (RocksDB's IngestExternalFile). The steps, in this order:
 * 1. Open and check every file and that no two overlap (ingest-source.ts): refusals change nothing.
 * 2. With writes held (the write queue's exclusive slot, so no write is between its WAL record and
 *    its memtable insert): if a memtable holds a key or range tombstone in the files' key range,
 *    freeze it and wait for the flushes (a memtable is read before every table, so an older version
 *    left there would hide the ingested one); otherwise sync the WAL, so no acknowledged write before
 *    the ingest can be lost to a torn tail while the ingest survives.
 * 3. Assign ONE sequence number, the published one + 1, to every entry of every file.
 * 4. Hold compaction picks; choose each file's level (ingest-level.ts: the deepest with no overlap at
 *    it or above, in-flight compaction outputs counted); rewrite each file into engine tables at that
 *    level's options, entries at the assigned sequence (fsynced, directory synced).
 * 5. One MANIFEST edit adds every table and records the sequence; then the sequence is published.
 * Why rewrite instead of RocksDB's global sequence number: see README "Ingesting external tables".
 * Crash safety: tables written in step 4 are named by no MANIFEST until step 5's edit is durable; a
 * crash before it leaves files that the obsolete-file rule deletes at the next open (they are
 * pending outputs until then, so this session's file GC leaves them alone). After it, the ingest is
 * whole. A failure in step 4 removes what it wrote; a failed MANIFEST write is sticky (read-only).
 * Snapshots taken before the ingest read below its sequence and never see it; open transactions
 * see it as a write of the files' key ranges (their conflict check).
 * Main thread only.
 */
import * as path from 'node:path';
import { compareBytes } from '../base/bytes.js';
import { KIND_FOR_SEEK, makeInternalKey, MAX_SEQUENCE, TRAILER_SIZE } from '../base/internal-key.js';
import { FileKind, type KeyResolver } from '../encryption/file-cipher.js';
import type { KeyRing } from '../encryption/keyring.js';
import { InvalidArgumentError } from '../errors.js';
import type { FileSystem } from '../fs/file-system.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { tableFileName } from '../manifest/file-names.js';
import type { NewFile, VersionEdit } from '../manifest/version-edit.js';
import type { Version } from '../manifest/version.js';
import type { ReadableMemTable } from '../memtable/readable-memtable.js';
import { RangeSet } from '../mvcc/range-set.js';
import type { ResolvedOptions } from '../options.js';
import { immediateSuccessor } from '../rangedel/range-tombstone.js';
import { tableOptionsFor } from '../table/table-options.js';
import { TableOutput } from '../table/table-output.js';
import { chooseIngestLevel, type PendingOutput, type UserKeyRange } from './ingest-level.js';
import { openExternalTables, rewriteExternalTable, type ExternalTable } from './ingest-source.js';

export interface IngestOptions {
  /** Remove the source files once the ingest is installed (they were rewritten, so nothing links to them). */
  move?: boolean;
}

export interface IngestResult {
  /** The sequence number every ingested entry carries (0 when every file was empty: nothing was written). */
  sequence: number;
  /** Entries ingested, over all files. */
  entries: number;
  /** Per input file (empty ones left out), in key order: where its tables went. */
  files: { path: string; level: number; tables: number[]; entries: number }[];
}

export interface IngestHost {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly o: ResolvedOptions;
  readonly keys: KeyRing | undefined;
  /** Throws when writes are refused (closed, read-only, failed). */
  checkWritable(): void;
  /** Runs `fn` with no write group in flight and writes waiting (write-queue.ts exclusive). */
  exclusive(fn: () => Promise<void>): Promise<void>;
  /** Every memtable, active included. */
  memtables(): readonly ReadableMemTable[];
  /** Inside exclusive(): freezes the active memtable (if it has entries) and waits for every flush. */
  flushMemtables(): Promise<void>;
  /** Inside exclusive(): fsyncs the current WAL. */
  syncWal(): Promise<void>;
  lastSequence(): number;
  /** Makes `seq` the published sequence (after the edit recording it is durable). */
  publish(seq: number): void;
  /** Tells open transactions' conflict checks that `ranges` were written at `seq`. */
  recordWrite(seq: number, ranges: RangeSet): void;
  /** A new table number, registered as a pending output (never obsolete) until released. */
  allocateOutput(): number;
  releaseOutput(n: number): void;
  currentVersion(): Version;
  /** Where the outputs of compactions in flight will land. */
  pendingCompactionOutputs(): PendingOutput[];
  /** See CompactionScheduler.holdPicks. */
  holdPicks(): () => void;
  logAndApply(edit: VersionEdit): Promise<void>;
  /** The MANIFEST edit failed: the database turns read-only. */
  onManifestFailure(e: unknown): void;
  /** After the install: open the new tables, let compaction look at the new shape. */
  installed(fileNumbers: number[]): void;
  log(line: string): void;
}

/** Ingests `files` (see the header); relative paths are resolved against the working directory. */
export async function ingestExternalFiles(host: IngestHost, files: readonly string[], options: IngestOptions): Promise<IngestResult> {
  host.checkWritable();
  const paths = files.map((f) => path.resolve(f));
  const seen = new Set<string>();
  for (const p of paths) {
    if (seen.has(p)) throw new InvalidArgumentError(`ingest(files): ${p} is listed twice`);
    seen.add(p);
  }
  const ring = host.keys;
  // A plain external table is fine in an encrypted database: it is rewritten under the database's key.
  const keys: KeyResolver | undefined = ring ? { keyFor: (id, file) => ring.keyFor(id, file), allowPlaintext: true } : undefined;
  const t0 = performance.now();
  const tables = await openExternalTables(host.fs, paths, keys);
  try {
    let result: IngestResult = { sequence: 0, entries: 0, files: [] };
    if (tables.length > 0) {
      await host.exclusive(async () => {
        host.checkWritable();
        result = await ingestHeld(host, tables);
      });
    }
    if (options.move) {
      for (const p of paths) await host.fs.remove(p).catch((e: unknown) => host.log(`ingest: removing ${p} failed: ${(e as Error).message}`));
    }
    const r = result;
    host.log(`ingest: ${r.entries} entries from ${r.files.length} file(s) at sequence ${r.sequence} into ` +
      `${r.files.map((f) => `L${f.level}:${f.tables.join(',')}`).join(' ')} in ${(performance.now() - t0).toFixed(1)} ms`);
    return r;
  } finally {
    for (const t of tables) await t.reader.close().catch(() => undefined);
  }
}

/** Steps 2-5, with writes held. */
async function ingestHeld(host: IngestHost, tables: ExternalTable[]): Promise<IngestResult> {
  const whole: UserKeyRange = { smallest: tables[0]!.smallest, largest: tables[tables.length - 1]!.largest };
  if (host.memtables().some((m) => memtableOverlaps(m, whole))) await host.flushMemtables();
  else await host.syncWal();
  host.checkWritable(); // a flush or the sync may have failed (sticky)
  const seq = host.lastSequence() + 1;
  const release = host.holdPicks();
  const written: FileMetadata[] = [];
  const allocated: number[] = [];
  let isEditStarted = false;
  try {
    const version = host.currentVersion();
    const pending = host.pendingCompactionOutputs();
    const edit: NewFile[] = [];
    const files: IngestResult['files'] = [];
    let entries = 0;
    // FIFO keeps every table in L0, dropping oldest first: an ingest is the newest there.
    const levels = host.o.compactionStyle === 'fifo' ? 1 : host.o.numLevels;
    const now = host.o.clock();
    for (const t of tables) {
      const level = chooseIngestLevel(version.levels, levels, pending, t);
      const from = written.length;
      await rewriteExternalTable(t, {
        seq, maxKeySize: host.o.maxKeySize, maxValueSize: host.o.maxValueSize, targetFileSize: host.o.targetFileSize,
        openOutput: async () => {
          const n = host.allocateOutput();
          allocated.push(n);
          return TableOutput.open({
            fs: host.fs, dir: host.dir, fileNumber: n, options: tableOptionsFor(host.o, level), creationTimeMs: host.o.clock(),
            exclusive: true, ...(host.keys ? { cipher: await host.keys.newFileCipher(FileKind.TABLE) } : {}),
          });
        },
      }, written);
      const mine = written.slice(from);
      // Its entries were written now (FIFO's TTL and the tiered/FIFO age order read this).
      for (const f of mine) edit.push({ level, file: Object.freeze({ ...f, newestWriteTimeMs: Math.max(0, Math.floor(now)) }) });
      files.push({ path: t.path, level, tables: mine.map((f) => f.fileNumber), entries: t.entries });
      entries += t.entries;
    }
    // Every table's directory entry is durable before the edit names it.
    await host.fs.syncDir(host.dir);
    isEditStarted = true;
    try {
      await host.logAndApply({ newFiles: edit, lastSequence: seq });
    } catch (e) {
      host.onManifestFailure(e);
      throw e;
    }
    host.recordWrite(seq, RangeSet.of(tables.map((t) => [t.smallest, immediateSuccessor(t.largest)] as const)));
    host.publish(seq);
    host.installed(written.map((f) => f.fileNumber));
    return { sequence: seq, entries, files };
  } catch (e) {
    // Before the edit nothing can name these tables: remove them now. After a failed MANIFEST write
    // the record may still be on disk, so they stay for the next open's obsolete-file rule to judge.
    if (!isEditStarted) {
      for (const f of written) await host.fs.remove(tableFileName(host.dir, f.fileNumber)).catch(() => undefined);
    }
    throw e;
  } finally {
    for (const n of allocated) host.releaseOutput(n);
    release();
  }
}

/** True when memtable `m` holds a key, or a range tombstone, in `r`. */
export function memtableOverlaps(m: ReadableMemTable, r: UserKeyRange): boolean {
  if (m.entries > 0) {
    const it = m.newIterator();
    try {
      void it.seek(makeInternalKey(r.smallest, MAX_SEQUENCE, KIND_FOR_SEEK)); // in memory: synchronous
      if (it.valid()) {
        const k = it.key();
        if (compareBytes(k.subarray(0, k.length - TRAILER_SIZE), r.largest) <= 0) return true;
      }
    } finally {
      void it.close();
    }
  }
  if (m.rangeDeletions > 0) {
    for (const f of m.rangeDelFragments().fragments()) {
      if (compareBytes(f.start, r.largest) <= 0 && compareBytes(f.end, r.smallest) > 0) return true;
    }
  }
  return false;
}
