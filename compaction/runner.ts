/**
 * Runs one compaction plan: merges the input tables, drops what no reader can see
 * (compaction-iterator.ts), and writes the outputs cut at targetFileSize and where the overlap with
 * the grandparent level would grow past maxGrandparentOverlapBytes (LevelDB's ShouldStopBefore), so
 * one later compaction of an output never has to rewrite a huge range below it. Cuts happen only
 * between user keys: a user key's versions never straddle two outputs of one level.
 *
 * The same function runs inline (tests, in-memory fs) and inside a worker thread (real use): it
 * takes a FileSystem and plain data, and returns plain FileMetadata; it never touches the MANIFEST.
 * On failure it removes every output it created and rethrows (inputs are untouched); a corrupt
 * input surfaces as ERR_CORRUPTION (block checksums are verified on every read), never merged around,
 * and so does an input that is not the table the MANIFEST names (size and unique id, checked at open).
 * Range tombstones: the inputs' tombstones are read first (one open per input), covered versions
 * are dropped and the carried fragments are split among the outputs by range-dels.ts's partition:
 * each output holds them up to just after its last key, so a tombstone crossing a cut is split
 * there and no two outputs' bounds share a user key. With no kept entry but tombstones to carry,
 * the compaction writes one tombstone-only output.
 * Each output file is written through src/table/table-output.ts (open, add, finish, fsync, metadata
 * with a fresh unique id); deciding where to cut stays here.
 * A compaction filter (options.filter) is loaded here, in the thread that runs the plan
 * (entry-filter.ts), and asked through the compaction iterator. Each output records the newest write
 * time of what it holds (write-time.ts), the bound the ttl filter reads in later compactions.
 * A subcompaction's piece (plan.piece, subcompactions.ts) writes only user keys in [lo, hi) and the
 * tombstones clipped to that range: its first output's tombstones start at lo, its last's end at hi.
 */
import { DatabaseClosedError } from '../src/errors.js';
import type { FileSystem } from '../src/fs/file-system.js';
import type { InternalIterator, MaybePromise } from '../src/base/internal-iterator.js';
import { compareInternalKeys } from '../src/base/internal-key.js';
import { MergingIterator } from '../src/iterator/merging-iterator.js';
import { ConcatIterator } from '../src/iterator/concat-iterator.js';
import { DelegatingIterator } from '../src/iterator/delegating-iterator.js';
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { TableReader } from '../sstable/table-reader.js';
import { FileKind } from '../src/encryption/file-cipher.js';
import { KeyRing } from '../src/encryption/keyring.js';
import { TableOutput } from '../src/table/table-output.js';
import { openTable } from '../src/table/table-open.js';
import { tableRangeDels } from '../src/table/table-range-dels.js';
import { FragmentSet } from '../src/rangedel/fragment-set.js';
import { immediateSuccessor, type RangeTombstone } from '../src/rangedel/range-tombstone.js';
import { seqOf, TRAILER_SIZE } from '../src/base/internal-key.js';
import { carriedFragments, clipFragments, CoverageCursor } from './range-dels.js';
import { CompactionIterator } from './compaction-iterator.js';
import { allInputFiles, type CompactionOutputOptions, type CompactionPlan } from './plan.js';
import { newestWriteTimeOf } from '../sstable/properties.js';
import { loadEntryFilter } from './entry-filter.js';
import { WriteTimeBound, type InputWriteTime } from './write-time.js';

export interface RunnerEnv {
  fs: FileSystem;
  dir: string;
  /** A fresh file number for each output (the main thread owns numbering). */
  allocateFileNumber(): MaybePromise<number>;
  /** Yield to the event loop now and then (inline runs on the main thread). */
  yieldEveryMs?: number;
  /**
   * True once the database is closing: the run stops at its next check (every 64 entries or 64 KiB),
   * removes its outputs and fails with ERR_CLOSED, so close() waits milliseconds, not for the rest of
   * a compaction that may rewrite gigabytes (RocksDB checks its shutting_down flag the same way).
   */
  isStopRequested?: () => boolean;
}

export interface CompactionResult {
  outputs: FileMetadata[];
  bytesRead: number;
  bytesWritten: number;
  entriesIn: number;
  entriesOut: number;
  droppedShadowed: number;
  droppedTombstones: number;
  /** Versions dropped because a range tombstone of their stripe covers them. */
  droppedCovered: number;
  /** Range-tombstone entries (fragment, seq) read from the inputs and written to the outputs. */
  rangeDelsIn: number;
  rangeDelsOut: number;
  /** Entries the compaction filter removed, and entries whose value it replaced. */
  filteredRemoved: number;
  filteredChanged: number;
  ms: number;
}


/** A table reader's iterator that closes the reader with it (runner-owned readers, no cache). */
class OwnedTableIterator extends DelegatingIterator {
  constructor(private readonly reader: TableReader, inner: InternalIterator) { super(inner); }
  override async close(): Promise<void> {
    const p = this.inner.close();
    if (p) await p;
    await this.reader.close();
  }
}

async function openInput(fs: FileSystem, dir: string, f: FileMetadata, keys: KeyRing | undefined): Promise<InternalIterator> {
  // Checked against the MANIFEST's record: an input that is not the table it names is never merged.
  const reader = await openTable(fs, dir, f, { syncReads: true, ...(keys ? { keys } : {}) });
  return new OwnedTableIterator(reader, reader.newIterator());
}

function inputIterator(env: RunnerEnv, plan: CompactionPlan, keys: KeyRing | undefined): MergingIterator {
  const open = (f: FileMetadata): Promise<InternalIterator> => openInput(env.fs, env.dir, f, keys);
  const smallest = (f: FileMetadata): Uint8Array => f.smallest;
  const largest = (f: FileMetadata): Uint8Array => f.largest;
  const children: InternalIterator[] = [];
  if (plan.level === 0) {
    for (const f of plan.inputs[0]) children.push(new ConcatIterator([f], compareInternalKeys, open, smallest, largest));
  } else if (plan.inputs[0].length > 0) {
    children.push(new ConcatIterator(plan.inputs[0], compareInternalKeys, open, smallest, largest));
  }
  for (const m of plan.middleInputs ?? []) children.push(new ConcatIterator(m.files, compareInternalKeys, open, smallest, largest));
  if (plan.inputs[1].length > 0) children.push(new ConcatIterator(plan.inputs[1], compareInternalKeys, open, smallest, largest));
  return new MergingIterator(children, compareInternalKeys);
}

/**
 * Every input's range tombstones, fragmented together, and each input's newest write time (each
 * table opened and closed once here).
 */
async function readInputs(env: RunnerEnv, plan: CompactionPlan, keys: KeyRing | undefined):
  Promise<{ rangeDels: FragmentSet; writeTimes: WriteTimeBound }> {
  const all: RangeTombstone[] = [];
  const times: InputWriteTime[] = [];
  for (const f of allInputFiles(plan)) {
    const reader = await openTable(env.fs, env.dir, f, { syncReads: true, ...(keys ? { keys } : {}) });
    try {
      for (const t of tableRangeDels(reader).tombstones()) all.push(t);
      // The MANIFEST's newest write time where it has one, else the table's own property.
      times.push({ largestSeq: f.largestSeq, newestWriteTimeMs: f.newestWriteTimeMs ?? newestWriteTimeOf(reader.properties) });
    } finally {
      await reader.close();
    }
  }
  return { rangeDels: FragmentSet.fromTombstones(all), writeTimes: new WriteTimeBound(times) };
}

/** LevelDB's ShouldStopBefore: tracks how many grandparent bytes the current output overlaps. */
class GrandparentTracker {
  private index = 0;
  private overlapped = 0;
  private seenKey = false;
  constructor(private readonly grandparents: readonly FileMetadata[], private readonly maxBytes: number) {}
  /** True when the output should be cut before `ikey`. */
  shouldStopBefore(ikey: Uint8Array): boolean {
    const gp = this.grandparents;
    while (this.index < gp.length && compareInternalKeys(ikey, gp[this.index]!.largest) > 0) {
      if (this.seenKey) this.overlapped += gp[this.index]!.fileSize;
      this.index++;
    }
    this.seenKey = true;
    if (this.overlapped > this.maxBytes) {
      this.overlapped = 0;
      return true;
    }
    return false;
  }
  reset(): void { this.overlapped = 0; }
}

export async function runCompaction(
  env: RunnerEnv, plan: CompactionPlan, snapshots: readonly number[], o: CompactionOutputOptions,
): Promise<CompactionResult> {
  const t0 = performance.now();
  // Finished outputs, removed again if a later step fails (the unfinished one removes itself).
  const created: string[] = [];
  const outputs: FileMetadata[] = [];
  let bytesRead = 0;
  for (const f of allInputFiles(plan)) bytesRead += f.fileSize;
  const enc = o.encryption;
  const keys = enc ? KeyRing.fromKeys(enc.currentKeyId, enc.keys, enc.allowPlaintext) : undefined;
  const { rangeDels, writeTimes } = await readInputs(env, plan, keys);
  const lo = plan.piece?.lo;
  const hi = plan.piece?.hi;
  const carriedAll = carriedFragments(rangeDels, snapshots, plan.deeperRanges);
  const carried = plan.piece ? clipFragments(carriedAll, lo, hi) : carriedAll;
  let rangeDelsOut = 0;
  const userFilter = o.filter ? await loadEntryFilter(o.filter, plan.outputLevel, o.creationTimeMs) : undefined;
  const merged = inputIterator(env, plan, keys);
  const it = new CompactionIterator(merged, snapshots, plan.deeperRanges,
    rangeDels.isEmpty ? undefined : new CoverageCursor(rangeDels, snapshots), {
      lo, hi,
      filter: userFilter && ((userKey, value, seq) => userFilter(userKey, value, writeTimes.boundFor(seq))),
    });
  // Where the current output's share of the carried tombstones starts (undefined: from the start),
  // and the user key of the last entry it holds.
  let tombstonesFrom: Uint8Array | undefined = lo;
  /** The largest seq the current output holds (its newest write time is that seq's bound). */
  let outputMaxSeq = 0;
  let lastUserKey = new Uint8Array(64);
  let lastUserKeyLen = -1;
  const gp = new GrandparentTracker(plan.grandparents, o.maxGrandparentOverlapBytes);
  let current: TableOutput | undefined;
  let bytesWritten = 0;
  let entriesOut = 0;
  let sliceStart = performance.now();
  const rateStart = performance.now();
  let n = 0;
  let bytesSinceCheck = 0;

  const openOutput = async (): Promise<TableOutput> => {
    const fileNumber = await env.allocateFileNumber();
    const cipher = await keys?.newFileCipher(FileKind.TABLE);
    return TableOutput.open({
      fs: env.fs, dir: env.dir, fileNumber, options: o.table, creationTimeMs: o.creationTimeMs, exclusive: true,
      ...(cipher ? { cipher } : {}),
    });
  };

  /** `last`: the final output, which takes the tombstones up to the end. */
  const finishOutput = async (out: TableOutput, last: boolean): Promise<void> => {
    const to = last || lastUserKeyLen < 0 ? hi : immediateSuccessor(lastUserKey.subarray(0, lastUserKeyLen));
    const share = clipFragments(carried, tombstonesFrom, to);
    out.setRangeDeletions(share);
    for (const f of share.fragments()) outputMaxSeq = Math.max(outputMaxSeq, f.seqs[0]!);
    // The output's newest write time, one value in two places: the MANIFEST's FileMetadata field (what
    // the pickers read) and the table's write_time.newest property (what a table says of itself, for
    // repair and the tools). Absent, creation_time is the property's bound: written only when tighter.
    const newest = Math.min(writeTimes.boundFor(outputMaxSeq) ?? o.creationTimeMs, o.creationTimeMs);
    if (newest < o.creationTimeMs) out.writer.setNewestWriteTime(newest);
    outputMaxSeq = 0;
    rangeDelsOut += share.entryCount;
    tombstonesFrom = to;
    lastUserKeyLen = -1;
    current = undefined; // finish() removes its file if it fails: nothing left to abandon
    const meta = await out.finish();
    created.push(out.path);
    outputs.push(Object.freeze({ ...meta, newestWriteTimeMs: Math.max(0, Math.floor(newest)) }));
    bytesWritten += meta.fileSize;
  };

  try {
    let ok = await it.first();
    while (ok) {
      const key = it.key();
      if (current && it.isNewUserKey &&
        (current.writer.estimatedFileSize >= o.targetFileSize || gp.shouldStopBefore(key))) {
        await finishOutput(current, false);
        gp.reset();
      } else if (it.isNewUserKey && !current) {
        gp.shouldStopBefore(key);
      }
      if (!current) current = await openOutput();
      const value = it.value();
      const seq = seqOf(key);
      if (seq > outputMaxSeq) outputMaxSeq = seq;
      bytesSinceCheck += key.length + value.length;
      const a = current.writer.add(key, value);
      if (a) await a;
      if (it.isNewUserKey || lastUserKeyLen < 0) {
        const ulen = key.length - TRAILER_SIZE;
        if (lastUserKey.length < ulen) lastUserKey = new Uint8Array(Math.max(ulen, lastUserKey.length * 2));
        lastUserKey.set(key.subarray(0, ulen));
        lastUserKeyLen = ulen;
      }
      entriesOut++;
      // Every 64 entries or 64 KiB, whichever comes first: large values must not run unthrottled.
      if ((++n & 63) === 0 || bytesSinceCheck >= 64 * 1024) {
        bytesSinceCheck = 0;
        if (env.isStopRequested?.()) throw new DatabaseClosedError('compaction stopped: the database is closing');
        if (env.yieldEveryMs !== undefined && performance.now() - sliceStart > env.yieldEveryMs) {
          await new Promise((r) => setImmediate(r));
          sliceStart = performance.now();
        }
        if (o.rateLimitBytesPerSec > 0) {
          const written = bytesWritten + current.writer.estimatedFileSize;
          const aheadMs = (written / o.rateLimitBytesPerSec) * 1000 - (performance.now() - rateStart);
          // Sleep in steps of at least a few ms: a timer per write would be the cliff we avoid.
          if (aheadMs > 5) await new Promise((r) => setTimeout(r, aheadMs));
        }
      }
      ok = await it.next();
    }
    if (!current && outputs.length === 0 && !carried.isEmpty) current = await openOutput();
    if (current) await finishOutput(current, true);
    if (outputs.length > 0) await env.fs.syncDir(env.dir);
  } catch (e) {
    await current?.abandon();
    for (const p of created) await env.fs.remove(p).catch(() => undefined);
    throw e;
  } finally {
    const c = merged.close();
    if (c) await c.catch(() => undefined);
  }
  return {
    outputs, bytesRead, bytesWritten, entriesIn: it.kept + it.droppedShadowed + it.droppedTombstones + it.droppedCovered,
    entriesOut, droppedShadowed: it.droppedShadowed, droppedTombstones: it.droppedTombstones,
    droppedCovered: it.droppedCovered, rangeDelsIn: rangeDels.entryCount, rangeDelsOut,
    filteredRemoved: it.filteredRemoved, filteredChanged: it.filteredChanged,
    ms: performance.now() - t0,
  };
}

