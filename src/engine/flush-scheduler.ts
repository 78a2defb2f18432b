/**
 * Runs flushes in the background, oldest immutable memtable first: build the L0 table (flush.ts),
 * install it with a VersionEdit that also advances the log number past the flushed memtable's WALs,
 * then drop the memtable and delete the WALs nothing needs any more.
 * Each flush of one memtable is a job of the background job queue (compaction/job-queue.ts decides
 * when it runs: before any waiting compaction); at most one is submitted at a time, since each
 * flush advances the log number and so must follow the one before.
 *
 * Failures: a failed table build (EIO, ENOSPC) removes its partial output and is retried with
 * exponential back-off (100 ms, 200 ms, … up to MAX_ATTEMPTS); only then does it become sticky.
 * A failed MANIFEST write is sticky at once (the VersionSet refuses further edits): the database
 * turns read-only, and every acknowledged write is still in its WAL for the next open.
 * Main thread only.
 */
import { FileKind } from '../base/file-cipher.js';
import { buildTable } from '../flush/build-table.js';
import type { DB } from '../db.js';
import type { VersionEdit } from '../manifest/version-edit.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import type { BackgroundJobQueue } from '../../compaction/job-queue.js';
import { compressionForLevel } from '../options.js';

const MAX_ATTEMPTS = 5;
const BASE_BACKOFF_MS = 100;

export class FlushScheduler {
  private running: Promise<void> | undefined;
  private stopped = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly db: DB, private readonly jobs: BackgroundJobQueue) {}

  /** Submits a flush of the oldest memtable if there is one to flush and no flush is submitted. */
  schedule(): void {
    if (this.running || this.stopped) return;
    if (this.db.imm.length === 0 || this.db.backgroundError) return;
    let ran = false;
    this.running = this.jobs.submit('flush', () => this.flushOldest())
      .then((r) => { ran = r; }, (e: unknown) => this.db.setBackgroundError(e, 'flush failed'))
      .finally(() => {
        this.running = undefined;
        this.notify();
        // Not run: the queue has stopped for good; resubmitting would spin.
        if (ran) this.schedule();
        else this.stopped = true;
      });
  }

  /** Resolves when the next memtable has been flushed (or flushing failed for good, or stopped). */
  waitForProgress(): Promise<void> {
    if (this.db.backgroundError || this.stopped) return Promise.resolve();
    this.schedule();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when no immutable memtable is left (or flushing failed for good). */
  async waitForAll(): Promise<void> {
    while (this.db.imm.length > 0 && !this.db.backgroundError && !this.stopped) {
      await this.waitForProgress();
    }
  }

  /** Lets the running flush finish and starts no other. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.running) await this.running.catch(() => undefined);
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async flushOldest(): Promise<void> {
    const db = this.db;
    if (db.imm.length === 0 || this.stopped || db.backgroundError) return;
    const entry = db.imm[0]!;
    let meta: FileMetadata | undefined;
    let outNumber = 0;
    const t0 = performance.now();
    for (let attempt = 1; ; attempt++) {
      const fileNumber = db.versions.newFileNumber();
      outNumber = fileNumber;
      db.pendingOutputs.add(fileNumber);
      try {
        meta = await buildTable(db.fileSystem, db.location, fileNumber, entry.mem.newIterator(), {
          blockSize: db.o.blockSize,
          blockRestartInterval: db.o.blockRestartInterval,
          bloomBitsPerKey: db.o.bloomBitsPerKey,
          compression: compressionForLevel(db.o, 0),
          zstdLevel: db.o.zstdLevel,
          clock: db.o.clock,
          ...(db.keyRing ? { cipher: await db.keyRing.newFileCipher(FileKind.TABLE) } : {}),
        });
        break;
      } catch (e) {
        db.pendingOutputs.delete(fileNumber);
        db.counters.backgroundErrors++;
        db.log.write(`flush attempt ${attempt} of ${MAX_ATTEMPTS} failed: ${(e as Error).message}`);
        if (attempt >= MAX_ATTEMPTS || this.stopped) {
          db.setBackgroundError(e, 'flush failed repeatedly');
          return;
        }
        await new Promise((r) => setTimeout(r, BASE_BACKOFF_MS * 2 ** (attempt - 1)));
      }
    }
    const nextWal = db.imm[1]?.walNumber ?? db.mem.walNumber;
    const edit: VersionEdit = {
      logNumber: nextWal,
      lastSequence: db.versions.lastSequence,
      ...(meta ? { newFiles: [{ level: 0, file: meta }] } : {}),
    };
    try {
      await db.versions.logAndApply(edit);
    } catch (e) {
      db.setBackgroundError(e, 'MANIFEST write during flush failed');
      return;
    } finally {
      db.pendingOutputs.delete(outNumber);
    }
    // Open the new table now, off the read path, so the next read (or getSync) finds it open.
    if (meta) await db.tables.warm([meta.fileNumber]);
    db.imm.shift();
    db.counters.flushes++;
    db.counters.flushBytes += meta?.fileSize ?? 0;
    db.log.write(`flushed memtable (${entry.mem.entries} entries) to ` +
      (meta ? `L0 table ${meta.fileNumber} (${meta.fileSize} bytes)` : 'nothing (empty)') +
      ` in ${(performance.now() - t0).toFixed(1)} ms; log number now ${nextWal}`);
    await db.deleteObsoleteFiles().catch((e: unknown) => db.log.write(`deleting obsolete files failed: ${(e as Error).message}`));
    db.compactions.maybeSchedule();
  }
}
