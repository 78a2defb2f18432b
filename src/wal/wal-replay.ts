/**
 * WAL replay at open, with the three recovery modes, and inspectWal() for the wal-dump tool.
 * Format and the exact rules of each mode: src/wal/FORMAT.md "Recovery modes".
 * Contract:
 * - replayWal() hands every batch of every intact group to onBatch, in file order, awaiting it
 *   when it returns a promise. A group is validated whole before its first batch is handed out,
 *   so replay never applies part of a group. Batches carry views into the file's bytes: copy what
 *   you keep (the memtable does).
 * - Damage either ends replay (the result's stoppedAt says where and why) or throws
 *   CorruptionError(path, offset, detail), as the mode says. A file from a newer format version
 *   throws NotSupportedError; I/O errors are IOError.
 * - After replay stopped early, the engine must not append to that WAL, and should cut the damage
 *   off (truncateWal) before the WAL stops being the newest one: otherwise the next open sees
 *   damage in an older WAL, which point-in-time mode refuses.
 * Main thread. Reads the whole file into memory (a WAL is about one memtable's worth of data).
 */
import { ValueKind } from '../base/internal-key.js';
import { CorruptionError, isStrataError } from '../errors.js';
import type { FileSystem } from '../fs/file-system.js';
import { openRecordReader } from '../record/record-cipher.js';
import { FileKind, type KeyResolver } from '../encryption/file-cipher.js';
import { type OpCallback } from './write-batch.js';
import { type WalHeader, decodeWalHeader, decodeWalRecord, type WalGroup } from './wal-record.js';

export type WalRecoveryMode = 'point-in-time' | 'absolute' | 'tolerate-tail';

/** What onBatch receives: one batch, operations numbered firstSeq, firstSeq + 1, ... */
export interface ReplayedBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly commitTimeMs: number;
  readonly opCount: number;
  forEachOp(cb: OpCallback): void;
  /** The encoded operations (WriteBatch wire format), a view. */
  encodedOps(): Uint8Array;
}

export interface ReplayWalOptions {
  mode: WalRecoveryMode;
  /** True for the WAL with the highest number: the only one that may have unsynced damage. */
  isNewest: boolean;
  onBatch(b: ReplayedBatch): void | Promise<void>;
  /** When given, the header's log number must equal it (a WAL copied under the wrong name is corruption). */
  logNumber?: number;
  /**
   * Point-in-time restore: deliver only whole batches with lastSeq <= untilSeq and commit time
   * <= untilTimeMs; replay ends at the first batch past either bound (result.reachedLimit).
   */
  untilSeq?: number;
  untilTimeMs?: number;
  /** Keys for an encrypted WAL; without them one is refused, naming its key id. */
  keys?: KeyResolver;
}

export interface ReplayWalResult {
  /** Sequence number of the last batch delivered; 0 when none was. */
  lastSeq: number;
  /** Group records delivered (the header record not counted). */
  records: number;
  batches: number;
  /** Length of the intact prefix that was replayed (the file size unless stoppedAt is set). */
  validLength: number;
  header?: WalHeader;
  /** Set when a tolerated bad record ended replay. */
  stoppedAt?: { offset: number; detail: string };
  /** Set when untilSeq/untilTimeMs ended replay. */
  reachedLimit?: boolean;
  /**
   * A recyclable WAL ended where its records stop and nothing of this log follows: the bytes of the
   * file's earlier use, or this life's unsynced last write torn (the two look alike). Not damage.
   */
  endedAt?: { offset: number; detail: string };
}

export async function replayWal(fs: FileSystem, file: string, options: ReplayWalOptions): Promise<ReplayWalResult> {
  const data = await fs.readFile(file);
  const reader = await openRecordReader(data, file, FileKind.WAL, options.keys, options.logNumber);
  const result: ReplayWalResult = { lastSeq: 0, records: 0, batches: 0, validLength: 0 };
  const untilSeq = options.untilSeq ?? Infinity;
  const untilTimeMs = options.untilTimeMs ?? Infinity;
  /** Applies the mode to a bad record: returns to stop replay, throws to refuse the file. */
  const onDamage = (offset: number, detail: string, isTornTail: boolean): void => {
    const tolerated = options.mode === 'point-in-time'
      ? options.isNewest
      : options.mode === 'tolerate-tail' && isTornTail;
    if (!tolerated) {
      const why = options.mode === 'point-in-time'
        ? ' (in a WAL older than the newest, which was synced when it rolled over)'
        : ` (walRecoveryMode '${options.mode}')`;
      throw new CorruptionError(file, offset, detail + why);
    }
    result.stoppedAt = { offset, detail };
  };
  for (;;) {
    const r = reader.readReporting();
    if (r.kind === 'eof') break;
    if (r.kind === 'corrupt') {
      if (r.recyclable && r.atTail) result.endedAt = { offset: r.offset, detail: r.detail };
      else onDamage(r.offset, r.detail, r.atTail);
      break;
    }
    if (!result.header) {
      result.header = decodeWalHeader(r.data, file, r.offset);
      if (options.logNumber !== undefined && result.header.logNumber !== options.logNumber) {
        throw new CorruptionError(file, r.offset,
          `WAL header names log ${result.header.logNumber}, but the file name says ${options.logNumber}`);
      }
      result.validLength = reader.position;
      continue;
    }
    let group: WalGroup;
    try {
      group = decodeWalRecord(r.data, file, r.offset, result.header.version);
      if (group.firstSeq <= result.lastSeq) {
        throw new CorruptionError(file, r.offset,
          `sequence numbers go backwards: record starts at ${group.firstSeq} after ${result.lastSeq}`);
      }
    } catch (e) {
      // A checksum-valid record that does not decode was never torn: only point-in-time on the
      // newest WAL stops at it.
      if (!(e instanceof CorruptionError)) throw e;
      onDamage(r.offset, detailOf(e), false);
      break;
    }
    for (const b of group.batches) {
      if (b.lastSeq > untilSeq || b.commitTimeMs > untilTimeMs) {
        result.reachedLimit = true;
        return result;
      }
      const p = options.onBatch(b);
      if (p) await p;
      result.batches++;
      result.lastSeq = b.lastSeq;
    }
    result.records++;
    result.validLength = reader.position;
  }
  return result;
}

/** The detail part of a CorruptionError's message (without the "file: corruption at offset N: " prefix). */
function detailOf(e: CorruptionError): string {
  const prefix = `${e.file}: corruption at offset ${e.offset}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}

/**
 * Cuts the WAL at `file` to its first `length` bytes (the validLength of a stopped replay), in place
 * and durably (FileSystem.truncate: ftruncate + fsync). In place because the WAL that needs cutting is
 * the one a full disk tore: a rewrite through a temp file would need free space the size of the WAL
 * to reopen. A crash before the cut is durable leaves the damage, which the next open cuts again
 * (the WAL is still the newest).
 */
export async function truncateWal(fs: FileSystem, file: string, length: number): Promise<void> {
  await fs.truncate(file, length);
}

export interface WalInspection {
  path: string;
  size: number;
  header?: WalHeader;
  records: {
    offset: number;
    /** Payload bytes of the logical record. */
    length: number;
    firstSeq: number;
    lastSeq: number;
    commitTimeMs: number;
    batches: { firstSeq: number; lastSeq: number; ops: number; puts: number; deletes: number; rangeDeletes: number }[];
  }[];
  /** Whether the WAL is in the recyclable format (its records carry the log number). */
  recyclable: boolean;
  /**
   * The first problem, if any; nothing after it is listed. atTail: nothing valid follows it (a torn
   * write). In a recyclable WAL a problem at the tail is its end (`endOfRecyclable`): an earlier
   * use's bytes, or a torn unsynced write; replay treats it as the end in every mode.
   */
  problem?: { offset: number; detail: string; atTail: boolean; endOfRecyclable?: boolean };
}

/**
 * What wal-dump prints. Never throws for damage (it is reported as `problem`); IOError if unreadable.
 * `logNumber` (from the file name) tells a reused file's earlier records from this life's.
 */
export async function inspectWal(fs: FileSystem, file: string, keys?: KeyResolver, logNumber?: number): Promise<WalInspection> {
  const data = await fs.readFile(file);
  const reader = await openRecordReader(data, file, FileKind.WAL, keys, logNumber);
  const out: WalInspection = { path: file, size: data.length, recyclable: reader.isRecyclable, records: [] };
  for (;;) {
    const r = reader.readReporting();
    if (r.kind === 'eof') break;
    if (r.kind === 'corrupt') {
      out.problem = { offset: r.offset, detail: r.detail, atTail: r.atTail };
      if (r.recyclable && r.atTail) out.problem.endOfRecyclable = true;
      break;
    }
    try {
      if (!out.header) {
        out.header = decodeWalHeader(r.data, file, r.offset);
        continue;
      }
      const g = decodeWalRecord(r.data, file, r.offset, out.header.version);
      const prev = out.records[out.records.length - 1];
      if (prev && g.firstSeq <= prev.lastSeq) {
        throw new CorruptionError(file, r.offset, `sequence numbers go backwards: record starts at ${g.firstSeq} after ${prev.lastSeq}`);
      }
      out.records.push({
        offset: r.offset,
        length: r.data.length,
        firstSeq: g.firstSeq,
        lastSeq: g.lastSeq,
        commitTimeMs: g.commitTimeMs,
        batches: g.batches.map((b) => {
          let puts = 0;
          let rangeDeletes = 0;
          b.forEachOp((kind) => { if (kind === ValueKind.Put) puts++; else if (kind === ValueKind.RangeDelete) rangeDeletes++; });
          return { firstSeq: b.firstSeq, lastSeq: b.lastSeq, ops: b.opCount, puts, deletes: b.opCount - puts - rangeDeletes, rangeDeletes };
        }),
      });
    } catch (e) {
      if (!isStrataError(e)) throw e;
      out.problem = { offset: r.offset, detail: e instanceof CorruptionError ? detailOf(e) : e.message, atTail: false };
      break;
    }
  }
  return out;
}
