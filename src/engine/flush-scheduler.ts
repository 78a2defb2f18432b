/**
 * Runs flushes in the background, oldest immutable memtable first: build the L0 table (the host's
 * buildTable: a job of the compaction executor, in a worker thread where workers run, so encoding and
 * writing the table never hold the event loop; compaction/flush-job.ts),
 * install it with a VersionEdit that also advances the log number past the flushed memtable's WALs,
 * then drop the memtable and delete the WALs nothing needs any more.
 * Each flush of one memtable is a job of the background job queue (compaction/job-queue.ts decides
 * when it runs: before any waiting compaction); at most one is submitted at a time, since each
 * flush advances the log number and so must follow the one before.
 * A flushable batch whose WAL is still the current one (sealed: memtable-set.ts) is not flushed
 * before that WAL rolls over: the log number its flush records must be past the batch's WAL.
 *
 * Failures: a failed table build (EIO, ENOSPC) removes its partial output and is retried with the
 * back-off of compaction/job-policy.ts (FLUSH_RETRY: 100 ms, 200 ms, …); only when its attempts run
 * out, or the scheduler stops meanwhile, does it become sticky.
 * A failed MANIFEST write is sticky at once (the VersionSet refuses further edits): the database
 * turns read-only, and every acknowledged write is still in its WAL for the next open.
 * Main thread only.
 */
import type { ReadableMemTable } from '../memtable/readable-memtable.js';
import type { VersionEdit } from '../manifest/version-edit.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import type { FlushResult } from '../../compaction/flush-job.js';
import type { VersionSet } from '../manifest/version-set.js';
import type { TableCache } from '../cache/table-cache.js';
import type { BackgroundJobQueue } from '../../compaction/job-queue.js';
import { FLUSH_RETRY, JobRetry, KEEP_ALIVE_TIMERS } from '../../compaction/job-policy.js';
import type { MemtableSet } from './memtable-set.js';
import type { BackgroundError } from './background-error.js';
import type { StatsCounters } from './stats.js';
import type { EventLog } from './event-log.js';
import type { EngineEvents, JobToken } from './engine-events.js';

/** What a flush sees of the engine. */
export interface FlushHost {
  readonly memtables: MemtableSet;
  readonly versions: VersionSet;
  readonly tables: TableCache;
  readonly failure: BackgroundError;
  readonly counters: StatsCounters;
  readonly log: EventLog;
  readonly events: EngineEvents;
  /** File numbers of tables being written: never obsolete while listed. */
  readonly pendingOutputs: Set<number>;
  /** Writes `mem` as the L0 table `fileNumber` (no partial file is left on failure). */
  buildTable(fileNumber: number, mem: ReadableMemTable): Promise<FlushResult>;
  /** After an installed flush: obsolete WALs go, compactions may have work. */
  afterFlush(): Promise<void>;
}

export class FlushScheduler {
  private running: Promise<void> | undefined;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly retry = new JobRetry(FLUSH_RETRY, KEEP_ALIVE_TIMERS);

  constructor(private readonly host: FlushHost, private readonly jobs: BackgroundJobQueue) {}

  /** Submits a flush of the oldest memtable if there is one to flush and no flush is submitted. */
  schedule(): void {
    if (this.running || this.stopped) return;
    if (this.host.memtables.immutable.length === 0 || this.host.failure.error) return;
    let ran = false;
    this.running = this.jobs.submit('flush', () => this.flushOldest())
      .then((r) => { ran = r; }, (e: unknown) => this.host.failure.set(e, 'flush failed'))
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
    if (this.host.failure.error || this.stopped) return Promise.resolve();
    this.schedule();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when no immutable memtable is left (or flushing failed for good). */
  async waitForAll(): Promise<void> {
    while (this.host.memtables.immutable.length > 0 && !this.host.failure.error && !this.stopped) {
      await this.waitForProgress();
    }
  }

  /** Lets the running flush finish and starts no other. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retry.stop();
    this.host.memtables.releaseUnsealWaiters();
    if (this.running) await this.running.catch(() => undefined);
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async flushOldest(): Promise<void> {
    const host = this.host;
    const memtables = host.memtables;
    if (memtables.immutable.length === 0 || this.stopped || host.failure.error) return;
    const entry = memtables.immutable[0]!;
    while (memtables.sealed && memtables.immutable.length === 1 && memtables.walAfterOldest === entry.walNumber) {
      await memtables.whenUnsealed();
      if (this.stopped || host.failure.error) return;
    }
    let outNumber = 0;
    const t0 = performance.now();
    const job = host.events.beginJob('flush');
    const bytes = job ? entry.mem.approximateMemoryUsage() : 0, entries = entry.mem.entries;
    if (job) host.events.emit('flush', { phase: 'begin', jobId: job.jobId, bytes, entries });
    const built = await this.retry.run(async () => {
      const fileNumber = host.versions.newFileNumber();
      outNumber = fileNumber;
      host.pendingOutputs.add(fileNumber);
      try {
        return await host.buildTable(fileNumber, entry.mem);
      } catch (e) {
        host.pendingOutputs.delete(fileNumber);
        throw e;
      }
    }, undefined, (f) => {
      host.counters.backgroundErrors++;
      const what = `flush attempt ${f.attempts} of ${FLUSH_RETRY.maxAttempts} failed`;
      host.log.write(`${what}: ${(f.error as Error).message}`);
      // The last attempt is reported as the sticky failure (failure.set) instead.
      if (!f.fatal && host.events.listening('background-error')) {
        host.events.emit('background-error', { error: asError(f.error), readOnly: false, reason: what });
      }
    });
    if (!built.ok) {
      host.failure.set(built.error, 'flush failed repeatedly');
      this.emitEnd(job, bytes, entries, undefined, t0, built.error);
      return;
    }
    const meta: FileMetadata | undefined = built.value.meta;
    const nextWal = memtables.walAfterOldest;
    const edit: VersionEdit = {
      logNumber: nextWal,
      // What this flush makes durable, not the published sequence (VersionSet.recordedSeq: why).
      lastSequence: entry.mem.lastSeq,
      ...(meta ? { newFiles: [{ level: 0, file: meta }] } : {}),
    };
    try {
      await host.versions.logAndApply(edit);
    } catch (e) {
      host.failure.set(e, 'MANIFEST write during flush failed');
      this.emitEnd(job, bytes, entries, undefined, t0, e);
      return;
    } finally {
      host.pendingOutputs.delete(outNumber);
    }
    // Open the new table now, off the read path, so the next read finds it open.
    if (meta) await host.tables.warm([meta.fileNumber]);
    memtables.dropOldest();
    host.counters.flushes++;
    host.counters.flushBytes += meta?.fileSize ?? 0;
    host.log.write(`flushed memtable (${entry.mem.entries} entries) to ` +
      (meta ? `L0 table ${meta.fileNumber} (${meta.fileSize} bytes)` : 'nothing (empty)') +
      ` in ${(performance.now() - t0).toFixed(1)} ms (${built.value.ranIn === 'worker' ? 'in a worker' : 'on the main thread'}); ` +
      `log number now ${nextWal}`);
    this.emitEnd(job, bytes, entries, meta, t0);
    await host.afterFlush();
  }

  private emitEnd(job: JobToken | undefined, bytes: number, entries: number, meta: FileMetadata | undefined,
    t0: number, error?: unknown): void {
    if (!job) return;
    this.host.events.emit('flush', {
      phase: 'end', jobId: job.jobId, bytes, entries, fileNumber: meta?.fileNumber, fileSize: meta?.fileSize ?? 0,
      durationMs: performance.now() - t0, ...(error === undefined ? {} : { error: asError(error) }),
    });
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
