/**
 * The input side of db.ingest(): opening the external tables a user hands in, checking that each is
 * one (sstable/FORMAT.md "External tables": plain user keys in the engine's bytewise order, no
 * sequence numbers, no range deletions) and that no two overlap, then rewriting each one into engine
 * tables whose entries all carry the one sequence number the ingest assigned.
 * Contract:
 * - openExternalTables() reads footers, properties and indexes only; every refusal is thrown before
 *   anything changes: a missing file or one that is not an external table is InvalidArgumentError
 *   naming it, two files whose key ranges overlap are InvalidArgumentError naming both, damage is
 *   CorruptionError(file, offset). Empty tables are closed and left out. On failure every reader it
 *   opened is closed.
 * - rewriteExternalTable() reads every block (checksums checked) and refuses, naming the file, keys
 *   not strictly increasing (or not matching the key range the properties promised), a key or value
 *   over the database's limits (TooLargeError); it abandons (removes) its outputs before rethrowing.
 * Main thread only (it yields to the event loop about every millisecond of work).
 */
import { printableKey, compareBytes } from '../base/bytes.js';
import { bytewiseComparator } from '../base/comparator.js';
import { TRAILER_SIZE, ValueKind, writeTrailer } from '../base/internal-key.js';
import type { KeyResolver } from '../encryption/file-cipher.js';
import { CorruptionError, InvalidArgumentError, TooLargeError } from '../errors.js';
import type { FileSystem } from '../fs/file-system.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { TableReader } from '../../sstable/table-reader.js';
import type { TableOutput } from '../table/table-output.js';

export interface ExternalTable {
  path: string;
  reader: TableReader;
  smallest: Uint8Array;
  largest: Uint8Array;
  entries: number;
}

/** Opens and checks `paths` (see the header); sorted by smallest key. */
export async function openExternalTables(fs: FileSystem, paths: readonly string[], keys: KeyResolver | undefined): Promise<ExternalTable[]> {
  const opened: ExternalTable[] = [];
  const readers: TableReader[] = [];
  try {
    for (const path of paths) {
      if (!(await fs.exists(path))) throw new InvalidArgumentError(`ingest: file ${path} does not exist`);
      const file = await fs.openReadable(path);
      let reader: TableReader;
      try {
        reader = await TableReader.open(file, { fileName: path, comparator: bytewiseComparator, syncReads: true, ...(keys ? { keys } : {}) });
      } catch (e) {
        await file.close().catch(() => undefined);
        throw e;
      }
      readers.push(reader);
      const p = reader.properties;
      if (p.smallestSeq !== undefined || p.largestSeq !== undefined) {
        throw new InvalidArgumentError(`ingest: ${path} holds internal keys (an engine table), not an external table of user keys`);
      }
      if (p.numRangeDeletions > 0) throw new InvalidArgumentError(`ingest: ${path} has range deletions; external tables hold puts only`);
      if (p.numEntries === 0 || !p.smallestKey || !p.largestKey) continue;
      opened.push({ path, reader, smallest: p.smallestKey, largest: p.largestKey, entries: p.numEntries });
    }
    opened.sort((a, b) => compareBytes(a.smallest, b.smallest));
    for (let i = 1; i < opened.length; i++) {
      const a = opened[i - 1]!, b = opened[i]!;
      if (compareBytes(a.largest, b.smallest) >= 0) {
        throw new InvalidArgumentError(`ingest: files ${a.path} [${printableKey(a.smallest)} .. ${printableKey(a.largest)}] and ` +
          `${b.path} [${printableKey(b.smallest)} .. ${printableKey(b.largest)}] overlap`);
      }
    }
    return opened;
  } catch (e) {
    for (const r of readers) await r.close().catch(() => undefined);
    throw e;
  }
}

export interface RewriteParams {
  seq: number;
  maxKeySize: number;
  maxValueSize: number;
  /** Start a new output table past this many bytes (targetFileSize). */
  targetFileSize: number;
  /** Opens the next output table (its file number registered as a pending output). */
  openOutput: () => Promise<TableOutput>;
}

/** Yield to the event loop after about this much work (ms), as table-output.ts's writeTable. */
const SLICE_MS = 1;

/**
 * Writes every entry of `t` as internal key (user key, p.seq, Put) into output tables cut at
 * p.targetFileSize, appending each finished table's metadata to `done` (in key order). If it throws,
 * the table being written is removed; those already in `done` are the caller's to remove.
 */
export async function rewriteExternalTable(t: ExternalTable, p: RewriteParams, done: FileMetadata[]): Promise<void> {
  let out: TableOutput | undefined;
  const it = t.reader.newIterator();
  let ikey = new Uint8Array(256);
  let prev = new Uint8Array(64);
  let prevLength = -1;
  let n = 0;
  try {
    let step = it.seekToFirst();
    if (step) await step;
    let sliceStart = performance.now();
    while (it.valid()) {
      const key = it.key();
      const value = it.value();
      if (prevLength < 0) {
        if (compareBytes(key, t.smallest) !== 0) throw new CorruptionError(t.path, 0, `first key ${printableKey(key)} is not the smallest key the properties name (${printableKey(t.smallest)})`);
      } else if (compareBytes(key, prev.subarray(0, prevLength)) <= 0) {
        throw new InvalidArgumentError(`ingest: ${t.path}: keys are not strictly increasing: entry ${n} ${printableKey(key)} after ${printableKey(prev.subarray(0, prevLength))}`);
      }
      if (key.length > p.maxKeySize) throw new TooLargeError(`ingest: ${t.path}: entry ${n} has a key of ${key.length} bytes (maxKeySize ${p.maxKeySize})`);
      if (value.length > p.maxValueSize) throw new TooLargeError(`ingest: ${t.path}: entry ${n} has a value of ${value.length} bytes (maxValueSize ${p.maxValueSize})`);
      if (key.length > prev.length) prev = new Uint8Array(Math.max(key.length, prev.length * 2));
      prev.set(key);
      prevLength = key.length;
      if (key.length + TRAILER_SIZE > ikey.length) ikey = new Uint8Array((key.length + TRAILER_SIZE) * 2);
      ikey.set(key);
      writeTrailer(ikey, key.length, p.seq, ValueKind.Put);
      out ??= await p.openOutput();
      const a = out.writer.add(ikey.subarray(0, key.length + TRAILER_SIZE), value);
      if (a) await a;
      if (out.writer.estimatedFileSize >= p.targetFileSize) {
        const o = out;
        out = undefined;
        done.push(await o.finish());
      }
      n++;
      step = it.next();
      if (step) await step;
      if ((n & 63) === 0 && performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    if (prevLength < 0 || compareBytes(prev.subarray(0, prevLength), t.largest) !== 0 || n !== t.entries) {
      throw new CorruptionError(t.path, 0, `the data blocks hold ${n} entries up to ${prevLength < 0 ? 'nothing' : printableKey(prev.subarray(0, prevLength))}; ` +
        `the properties promise ${t.entries} up to ${printableKey(t.largest)}`);
    }
    if (out) {
      const o = out;
      out = undefined;
      done.push(await o.finish());
    }
  } catch (e) {
    await out?.abandon();
    throw e;
  } finally {
    await it.close();
  }
}

