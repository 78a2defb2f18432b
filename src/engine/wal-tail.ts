/**
 * Reading the log back (db.getUpdatesSince, RocksDB's GetUpdatesSince): the committed batches from a
 * sequence number on, in commit order, out of the live WALs and the archived ones (walArchiveDir),
 * for replication and change capture. Each batch comes whole, with its first sequence number and
 * commit time, as the WAL keeps it (src/wal/FORMAT.md); WAL replay (wal-replay.ts) is the one parser,
 * so encrypted WALs are opened by their key ids and a recyclable WAL's records of an earlier life
 * (another log number) read as its end, never as batches.
 *
 * Contract:
 * - The iterator ends at the sequence published when it was created (a batch past it is not
 *   delivered even if it is in the WAL already): make a new iterator to read on from there.
 * - The first batch is the one holding `sequence`. When no WAL holds it any more (flushed and deleted,
 *   with no archive or the archive trimmed), next() rejects with ERR_INVALID_ARGUMENT: the request
 *   names history the database no longer has, nothing changes, and the caller's remedy is another
 *   argument (a fresh copy from a backup or checkpoint and its sequence). A gap between two WALs
 *   (a missing file in the middle) is refused the same way, never skipped.
 * - Writable opens: the WALs are pinned (wal-pins.ts) from creation to close()/return()/the end, so
 *   neither file GC, nor the recycler, nor archive retention takes one mid-read. Read-only opens
 *   cannot pin another process's files: a WAL the writer deleted meanwhile is read from the archive
 *   if it is there, else the same "no longer has" error.
 * - Memory: the batches of one WAL file at a time (about one memtable's worth).
 * Main thread only.
 */
import { Buffer } from 'node:buffer';
import * as path from 'node:path';
import { ValueKind } from '../base/internal-key.js';
import { DatabaseClosedError, InvalidArgumentError } from '../errors.js';
import { type FileSystem, isNotFound } from '../fs/file-system.js';
import type { KeyResolver } from '../encryption/file-cipher.js';
import { parseFileName } from '../manifest/file-names.js';
import { listArchive } from '../backup/wal-archive.js';
import { replayWal, type ReplayedBatch } from '../wal/wal-replay.js';
import { abortable, abortedError } from '../base/abort.js';
import type { WalPin, WalPins } from './wal-pins.js';

/** One operation of a batch read back from the log. Buffers are the caller's copies. */
export type WalUpdateOp =
  | { type: 'put'; key: Buffer; value: Buffer }
  | { type: 'del'; key: Buffer }
  | { type: 'deleteRange'; key: Buffer; end: Buffer };

/** One committed batch: its operations took sequence numbers sequence, sequence + 1, … */
export interface WalUpdate {
  sequence: number;
  ops: WalUpdateOp[];
  /** When the write group holding the batch committed, in ms since the epoch (the engine's clock). */
  commitTime: number;
}

export interface WalTailHost {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly archiveDir: string | undefined;
  readonly keys: KeyResolver | undefined;
  /** Writable opens: pins file GC and archive retention honour. Read-only: undefined. */
  readonly pins: WalPins | undefined;
  /** WAL n is kept by the recycler for reuse: its bytes are about to be written over. */
  isRecycled(n: number): boolean;
  /** Resolves when a GC pass that started before a pin was taken is over. */
  gcIdle(): Promise<void>;
  isClosed(): boolean;
}

interface WalSource { number: number; paths: string[] }

const STOP_PROBE = Symbol('stop probe');

export class WalUpdatesIterator implements AsyncIterableIterator<WalUpdate>, AsyncDisposable {
  private readonly pin: WalPin | undefined;
  private readonly gen: AsyncGenerator<WalUpdate, void, undefined>;
  private closed = false;

  /** `from` >= 1 and `until` (the published sequence) are checked by the caller. */
  constructor(private readonly host: WalTailHost, private readonly from: number, private readonly until: number,
    private readonly signal: AbortSignal | undefined, private readonly onClose: (it: WalUpdatesIterator) => void) {
    // Taken now, before anything is listed: a WAL rolled over and flushed meanwhile stays.
    this.pin = host.pins?.pin(0);
    this.gen = this.run();
  }

  async next(): Promise<IteratorResult<WalUpdate, undefined>> {
    if (this.closed) return { done: true, value: undefined };
    if (this.host.isClosed()) {
      await this.close();
      throw new DatabaseClosedError();
    }
    if (this.signal?.aborted) {
      await this.close();
      throw abortedError('getUpdatesSince()', this.signal);
    }
    try {
      const r = await abortable('getUpdatesSince()', this.gen.next(), this.signal);
      if (r.done) await this.close();
      return r.done ? { done: true, value: undefined } : r;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async return(): Promise<IteratorResult<WalUpdate, undefined>> {
    await this.close();
    return { done: true, value: undefined };
  }

  /** Releases the pinned WALs; idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.pin?.release();
    this.onClose(this);
    // A next() may be in flight: the generator finishes it, then stops (never awaited here).
    this.gen.return(undefined).catch(() => undefined);
    return Promise.resolve();
  }

  [Symbol.asyncIterator](): this { return this; }
  [Symbol.asyncDispose](): Promise<void> { return this.close(); }

  private async *run(): AsyncGenerator<WalUpdate, void, undefined> {
    if (this.from > this.until) return;
    // A pass that listed files before the pin was taken may still be deleting them.
    if (this.pin) await this.host.gcIdle();
    const sources = await this.listSources();
    const start = await this.startIndex(sources);
    let expected: number | undefined;
    for (let i = start; i < sources.length; i++) {
      const src = sources[i]!;
      this.pin?.raise(src.number);
      const batches: WalUpdate[] = [];
      await this.replay(src, i === sources.length - 1, (b) => {
        if (b.lastSeq < this.from) return;
        if (expected === undefined ? b.firstSeq > this.from : b.firstSeq !== expected) {
          throw gone(expected ?? this.from, b.firstSeq, src.number);
        }
        expected = b.lastSeq + 1;
        batches.push(toUpdate(b));
      });
      for (const u of batches) yield u;
      if (expected !== undefined && expected > this.until) return;
    }
    const next = expected ?? this.from;
    if (next <= this.until) throw gone(next, undefined, undefined);
  }

  /** The WAL files, live and archived, by number; a number in both is read from the live one first. */
  private async listSources(): Promise<WalSource[]> {
    const { fs, dir, archiveDir } = this.host;
    const byNumber = new Map<number, string[]>();
    for (const name of await fs.list(dir)) {
      const p = parseFileName(name);
      if (p?.type === 'wal' && !this.host.isRecycled(p.number)) byNumber.set(p.number, [path.join(dir, name)]);
    }
    if (archiveDir) {
      for (const a of await listArchive(fs, archiveDir)) {
        const paths = byNumber.get(a.number);
        if (paths) paths.push(a.path);
        else byNumber.set(a.number, [a.path]);
      }
    }
    return [...byNumber].sort((a, b) => a[0] - b[0]).map(([number, paths]) => ({ number, paths }));
  }

  /**
   * The newest WAL whose first batch is at or before `from`, probed from the newest back, so an old
   * archive is not read; 0 when none is (the first batch found then decides whether `from` is gone).
   */
  private async startIndex(sources: WalSource[]): Promise<number> {
    for (let i = sources.length - 1; i >= 0; i--) {
      let first: number | undefined;
      try {
        await this.replay(sources[i]!, i === sources.length - 1, (b) => {
          first = b.firstSeq;
          throw STOP_PROBE;
        });
      } catch (e) {
        if (e !== STOP_PROBE) throw e;
      }
      if (first !== undefined && first <= this.from) return i;
    }
    return 0;
  }

  /** Replays one WAL (the live file, else its archived copy when the live one is gone). */
  private async replay(src: WalSource, isNewest: boolean, onBatch: (b: ReplayedBatch) => void): Promise<void> {
    for (let k = 0; k < src.paths.length; k++) {
      try {
        await replayWal(this.host.fs, src.paths[k]!, {
          mode: 'point-in-time', isNewest, logNumber: src.number, onBatch,
          // Replay stops at the first batch past the end: published later, not ours to deliver.
          untilSeq: this.until,
          ...(this.host.keys ? { keys: this.host.keys } : {}),
        });
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
        if (k === src.paths.length - 1) {
          throw new InvalidArgumentError(`getUpdatesSince(): WAL ${src.number} was deleted while it was being read ` +
            '(by the writing process: a read-only open cannot pin it); start again from a later sequence', { cause: e });
        }
      }
    }
  }
}

function gone(missingFrom: number, foundAt: number | undefined, walNumber: number | undefined): InvalidArgumentError {
  const where = foundAt === undefined
    ? 'no WAL, live or archived, holds it (flushed and deleted: set walArchiveDir to keep WALs for readers of the log)'
    : `the oldest WAL that follows${walNumber === undefined ? '' : ` (${walNumber})`} starts at sequence ${foundAt} ` +
      '(the sequences before it were flushed and their WALs deleted, or taken by db.ingest(), which writes tables, not the log)';
  return new InvalidArgumentError(`getUpdatesSince(): sequence ${missingFrom} is not in the log: ${where}; ` +
    'copy the database again (backup or checkpoint) and read on from its sequence, or after an ingest, ingest the same ' +
    'files into the copy and read on from the sequence after the ingest\'s');
}

function toUpdate(b: ReplayedBatch): WalUpdate {
  const ops: WalUpdateOp[] = [];
  b.forEachOp((kind, key, value) => {
    // Buffer.from(view) copies: the views point into the WAL file's bytes.
    if (kind === ValueKind.Put) ops.push({ type: 'put', key: Buffer.from(key), value: Buffer.from(value) });
    else if (kind === ValueKind.Delete) ops.push({ type: 'del', key: Buffer.from(key) });
    else ops.push({ type: 'deleteRange', key: Buffer.from(key), end: Buffer.from(value) });
  });
  return { sequence: b.firstSeq, ops, commitTime: b.commitTimeMs };
}
