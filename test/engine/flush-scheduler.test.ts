/**
 * FlushScheduler alone (src/engine/flush-scheduler.ts) with a fake FlushHost and the real
 * BackgroundJobQueue: oldest memtable first, one flush at a time, the edit's log number (the WAL
 * after the flushed memtable's), the memtable dropped only after its edit is installed, a failing
 * table build retried with exponential back-off (vitest fake timers: no real sleeps) and sticky only
 * after the last attempt, a failed MANIFEST write sticky at once, and waitForAll / waitForProgress /
 * stop. Builds the test holds are promises it settles.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemTable } from '../../src/memtable/memtable.js';
import type { ReadableMemTable } from '../../src/memtable/readable-memtable.js';
import { ValueKind } from '../../src/base/internal-key.js';
import type { VersionEdit } from '../../src/manifest/version-edit.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import type { VersionSet } from '../../src/manifest/version-set.js';
import type { TableCache } from '../../src/cache/table-cache.js';
import { BackgroundJobQueue } from '../../compaction/job-queue.js';
import { BackgroundError } from '../../src/engine/background-error.js';
import { StatsCounters } from '../../src/engine/stats.js';
import { EngineEvents } from '../../src/engine/engine-events.js';
import { FlushScheduler, type FlushHost } from '../../src/engine/flush-scheduler.js';
import type { MemtableSet, MemTableEntry } from '../../src/engine/memtable-set.js';
import { turns } from '../support/hold-fs.js';
import { deferred, recordingLog, type Deferred, type RecordingLog } from './fakes.js';

const enc = new TextEncoder();

/** The part of MemtableSet a flush uses: the immutables, oldest first, and the active WAL number. */
class FakeMemtables {
  constructor(public immutable: MemTableEntry[], public activeWal: number, private readonly events: string[]) {}
  get walAfterOldest(): number { return this.immutable[1]?.walNumber ?? this.activeWal; }
  dropOldest(): void { this.events.push(`drop wal${this.immutable[0]?.walNumber}`); this.immutable.shift(); }
  /** The active WAL holds a flushable batch (memtable-set.ts): its flush waits for the roll. */
  sealed = false;
  private waiters: (() => void)[] = [];
  whenUnsealed(): Promise<void> { return this.sealed ? new Promise((r) => this.waiters.push(r)) : Promise.resolve(); }
  releaseUnsealWaiters(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
  /** The sealed WAL rolled over to `next`. */
  roll(next: number): void { this.activeWal = next; this.sealed = false; this.releaseUnsealWaiters(); }
}

interface Fake {
  host: FlushHost;
  events: string[];
  edits: VersionEdit[];
  log: RecordingLog;
  memtables: FakeMemtables;
  /** The memtable each build was asked for, in order. */
  built: ReadableMemTable[];
  /** Replaces the table build (default: succeed at once). */
  build: (fileNumber: number, mem: ReadableMemTable) => Promise<FileMetadata | undefined>;
  /** Replaces the MANIFEST write (default: record it). */
  apply: (edit: VersionEdit) => Promise<void>;
}

function memtable(label: string, seq = 1): MemTable {
  const m = new MemTable();
  m.add(seq, ValueKind.Put, enc.encode(label), enc.encode('v'));
  return m;
}

function fake(walNumbers: number[], activeWal: number): Fake {
  const events: string[] = [];
  const log = recordingLog();
  const memtables = new FakeMemtables(walNumbers.map((n) => ({ mem: memtable(`wal${n}`, n * 10), walNumber: n })), activeWal, events);
  let nextFile = 100;
  const f: Fake = {
    events, edits: [], log, memtables, built: [],
    build: async (n) => ({ fileNumber: n, fileSize: 1000 + n } as FileMetadata),
    apply: async () => undefined,
    host: {
      memtables: memtables as unknown as MemtableSet,
      versions: {
        lastSequence: 42,
        newFileNumber: () => nextFile++,
        logAndApply: async (edit: VersionEdit) => {
          events.push(`apply log${edit.logNumber}`);
          await f.apply(edit);
          f.edits.push(edit);
        },
      } as unknown as VersionSet,
      tables: { warm: async (n: number[]) => { events.push(`warm ${n.join(',')}`); } } as unknown as TableCache,
      failure: new BackgroundError((line) => log.write(line)),
      counters: new StatsCounters(),
      log,
      events: new EngineEvents(),
      pendingOutputs: new Set<number>(),
      buildTable: (n, mem) => {
        f.built.push(mem);
        const label = memtables.immutable.find((e) => e.mem === mem)?.walNumber;
        events.push(`build ${n} wal${label} pending=${f.host.pendingOutputs.has(n)}`);
        return f.build(n, mem).then((meta) => ({ meta, ranIn: 'inline' as const }));
      },
      afterFlush: async () => { events.push('afterFlush'); },
    },
  };
  return f;
}

afterEach(() => { vi.useRealTimers(); });

describe('FlushScheduler: the order of a flush', () => {
  it('flushes oldest first; each edit logs the next WAL; the memtable goes after its edit is installed', async () => {
    const f = fake([3, 4, 5], 6);
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(2));
    flusher.schedule();
    await flusher.waitForAll();
    expect(f.events).toEqual([
      'build 100 wal3 pending=true', 'apply log4', 'warm 100', 'drop wal3', 'afterFlush',
      'build 101 wal4 pending=true', 'apply log5', 'warm 101', 'drop wal4', 'afterFlush',
      'build 102 wal5 pending=true', 'apply log6', 'warm 102', 'drop wal5', 'afterFlush',
    ]);
    expect(f.edits.map((e) => [e.logNumber, e.lastSequence, e.newFiles?.[0]?.level, e.newFiles?.[0]?.file.fileNumber]))
      // Each edit records the newest sequence its memtable made durable, not the published one (42).
      .toEqual([[4, 30, 0, 100], [5, 40, 0, 101], [6, 50, 0, 102]]);
    expect(f.host.pendingOutputs.size).toBe(0);
    expect(f.host.counters.flushes).toBe(3);
    expect(f.host.counters.flushBytes).toBe(1100 + 1101 + 1102);
    expect(f.host.failure.error).toBeUndefined();
  });

  it('an empty build installs an edit with no table, and still advances the log number', async () => {
    const f = fake([7], 8);
    f.build = async () => undefined;
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(1));
    flusher.schedule();
    await flusher.waitForAll();
    expect(f.edits).toEqual([{ logNumber: 8, lastSequence: 70 }]);
    expect(f.events).toEqual(['build 100 wal7 pending=true', 'apply log8', 'drop wal7', 'afterFlush']);
  });

  it('keeps one flush submitted at a time, however often schedule() is called', async () => {
    const f = fake([1, 2], 3);
    const held: Deferred<FileMetadata | undefined>[] = [];
    f.build = () => { const d = deferred<FileMetadata | undefined>(); held.push(d); return d.promise; };
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(4));
    flusher.schedule();
    flusher.schedule();
    const progress = flusher.waitForProgress();
    let progressed = false;
    void progress.then(() => { progressed = true; });
    await turns(20); // a bound: a second flush would have started by now
    expect(held).toHaveLength(1);
    expect(progressed).toBe(false);

    held[0]!.resolve({ fileNumber: 100, fileSize: 1 } as FileMetadata);
    await progress; // one memtable flushed
    expect(f.edits.map((e) => e.logNumber)).toEqual([2]);
    await turns(20);
    expect(held).toHaveLength(2); // the next one was submitted after the first finished
    held[1]!.resolve(undefined);
    await flusher.waitForAll();
    expect(f.memtables.immutable).toHaveLength(0);
  });

  it('does nothing with no immutable memtable or after a failure', async () => {
    const f = fake([], 1);
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(1));
    flusher.schedule();
    await flusher.waitForAll();
    f.memtables.immutable.push({ mem: memtable('x'), walNumber: 1 });
    f.host.failure.set(new Error('earlier'), 'test');
    flusher.schedule();
    await flusher.waitForProgress(); // resolves at once: flushing has failed for good
    await turns(10);
    expect(f.events).toEqual([]);
  });
});

describe('FlushScheduler: failures', () => {
  it('retries a failed table build with exponential back-off, then succeeds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const f = fake([1], 2);
    let attempts = 0;
    f.build = async (n) => {
      attempts++;
      if (attempts <= 2) throw new Error(`EIO ${attempts}`);
      return { fileNumber: n, fileSize: 10 } as FileMetadata;
    };
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(1));
    flusher.schedule();
    await vi.advanceTimersByTimeAsync(0);
    expect(attempts).toBe(1);
    expect(f.host.pendingOutputs.size).toBe(0); // a failed output is not kept pending
    await vi.advanceTimersByTimeAsync(99);
    expect(attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(1); // 100 ms
    expect(attempts).toBe(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(attempts).toBe(2);
    await vi.advanceTimersByTimeAsync(1); // 200 ms more
    expect(attempts).toBe(3);
    await flusher.waitForAll();
    expect(f.host.failure.error).toBeUndefined();
    expect(f.edits.map((e) => e.newFiles?.[0]?.file.fileNumber)).toEqual([102]); // numbers 100, 101 were the failed ones
    expect(f.host.counters.backgroundErrors).toBe(2);
    expect(f.log.lines.filter((l) => /^flush attempt \d of 5 failed/.test(l))).toHaveLength(2);
  });

  it('a build that keeps failing becomes the sticky error after the last attempt; the memtable stays', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const f = fake([1], 2);
    let attempts = 0;
    const last = new Error('ENOSPC for good');
    f.build = async () => { attempts++; throw attempts === 5 ? last : new Error(`ENOSPC ${attempts}`); };
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(1));
    const all = flusher.waitForAll();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800 - 1);
    expect(attempts).toBe(4);
    expect(f.host.failure.error).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await all;
    expect(attempts).toBe(5);
    expect(f.host.failure.error).toBe(last);
    expect(f.log.lines.some((l) => l.startsWith('ERROR flush failed repeatedly: ENOSPC for good'))).toBe(true);
    expect(f.edits).toEqual([]);
    expect(f.memtables.immutable).toHaveLength(1);
    expect(f.host.pendingOutputs.size).toBe(0);
  });

  it('a failed MANIFEST write is sticky at once: no retry, the memtable stays, no output left pending', async () => {
    const f = fake([1, 2], 3);
    const io = new Error('MANIFEST EIO');
    f.apply = async () => { throw io; };
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(1));
    flusher.schedule();
    await flusher.waitForAll();
    expect(f.host.failure.error).toBe(io);
    expect(f.events).toEqual(['build 100 wal1 pending=true', 'apply log2']);
    expect(f.memtables.immutable).toHaveLength(2);
    expect(f.host.pendingOutputs.size).toBe(0);
    expect(f.log.lines.some((l) => l.startsWith('ERROR MANIFEST write during flush failed'))).toBe(true);
  });
});

describe('FlushScheduler.stop', () => {
  it('lets the running flush finish and starts no other', async () => {
    const f = fake([1, 2], 3);
    const held = deferred<FileMetadata | undefined>();
    f.build = () => held.promise;
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(1));
    flusher.schedule();
    await turns(5);
    expect(f.built).toHaveLength(1);
    let stopped = false;
    const stopping = flusher.stop().then(() => { stopped = true; });
    await turns(20);
    expect(stopped).toBe(false); // waits for the running flush

    held.resolve(undefined);
    await stopping;
    expect(f.edits.map((e) => e.logNumber)).toEqual([2]);
    flusher.schedule();
    await flusher.waitForProgress(); // resolves at once once stopped
    await flusher.waitForAll();
    await turns(10);
    expect(f.built).toHaveLength(1);
    expect(f.memtables.immutable).toHaveLength(1);
  });
});

describe('FlushScheduler and a flushable batch still in the current WAL', () => {
  it('waits for the WAL to roll over, then records the next WAL as the log number', async () => {
    const f = fake([5], 5);
    f.memtables.sealed = true;
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(1));
    flusher.schedule();
    await turns(20);
    expect(f.built).toHaveLength(0); // a log number of 5 would keep the batch's WAL for a second replay
    f.memtables.roll(6);
    await flusher.waitForAll();
    expect(f.edits.map((e) => e.logNumber)).toEqual([6]);
  });

  it('stop() wakes a flush waiting for the roll: it ends without building', async () => {
    const f = fake([5], 5);
    f.memtables.sealed = true;
    const flusher = new FlushScheduler(f.host, new BackgroundJobQueue(1));
    flusher.schedule();
    await turns(5);
    await flusher.stop();
    expect(f.built).toHaveLength(0);
    expect(f.memtables.immutable).toHaveLength(1);
  });
});
