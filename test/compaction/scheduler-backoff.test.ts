/**
 * The compaction scheduler's back-off after a failed job (compaction/scheduler.ts with job-policy.ts):
 * the next job starts when the back-off timer fires, whatever Date.now() says, so a frozen or
 * injected clock cannot stall compaction; the sixth failure in a row stops writes. The host and
 * executor are fakes (one L0 file at a trigger of 1, every run fails with EIO); fake timers move time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Buffer } from 'node:buffer';
import { IOError } from '../../src/errors.js';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { makeFileMetadata } from '../../src/manifest/file-metadata.js';
import { Version } from '../../src/manifest/version.js';
import type { CompactionExecutor } from '../../compaction/executor.js';
import type { CompactionHost } from '../../compaction/host.js';
import { BackgroundJobQueue } from '../../compaction/job-queue.js';
import type { CompactionOutputOptions } from '../../compaction/plan.js';
import { CompactionScheduler } from '../../compaction/scheduler.js';
import { NO_EXECUTOR_MEMORY } from '../../compaction/worker-memory.js';

const ikey = (k: string, seq: number): Uint8Array => makeInternalKey(Buffer.from(k), seq, ValueKind.Put);

function fakeHost(fatal: string[]): CompactionHost {
  const file = makeFileMetadata({
    fileNumber: 7, fileSize: 100, crc32c: 0, smallest: ikey('a', 7), largest: ikey('z', 7),
    smallestSeq: 7, largestSeq: 7, numEntries: 2, numDeletions: 0,
  });
  const version = new Version([[file], [], []]);
  let next = 100;
  return {
    dir: '/db',
    currentVersion: () => version,
    compactPointers: () => [],
    liveSnapshots: () => [],
    allocateOutput: () => next++,
    unregisterOutput: () => undefined,
    logAndApply: async () => { throw new Error('no edit expected: every run fails'); },
    deleteObsoleteFiles: async () => undefined,
    pickerOptions: () => ({
      numLevels: 3, level0CompactionTrigger: 1, maxBytesForLevelBase: 1000, levelMultiplier: 10,
      targetFileSize: 100, levelCompactionDynamicLevelBytes: false,
    }),
    outputOptions: () => ({}) as CompactionOutputOptions,
    log: () => undefined,
    onCompaction: () => undefined,
    onCompactionFailure: () => undefined,
    onFatalError: (_e, what) => { fatal.push(what); },
    isStopped: () => fatal.length > 0,
  };
}

/** An executor whose every run fails; `nextRun()` resolves at the next call. */
function failingExecutor(): CompactionExecutor & { runs: number; nextRun(): Promise<void> } {
  let wake: (() => void) | undefined;
  return {
    kind: 'inline',
    runs: 0,
    memory: () => NO_EXECUTOR_MEMORY,
    stopCompactions: () => undefined,
    nextRun() { return new Promise<void>((r) => { wake = r; }); },
    async run() {
      this.runs++;
      const w = wake;
      wake = undefined;
      w?.();
      throw new IOError('injected EIO');
    },
    async flush() { throw new IOError('injected EIO'); },
    close: async () => undefined,
  };
}

afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

describe('compaction scheduler back-off', () => {
  it('retries when the back-off timer fires though Date.now() stands still, and stops writes on the sixth failure', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const fatal: string[] = [];
    const executor = failingExecutor();
    const jobs = new BackgroundJobQueue(2);
    const scheduler = new CompactionScheduler(fakeHost(fatal), executor, jobs);
    try {
      const first = executor.nextRun();
      scheduler.maybeSchedule();
      await first;
      // Waits: 100, 200, 400, 800, 1600 ms; a scheduler comparing Date.now() never starts the next job.
      for (const [i, ms] of [100, 200, 400, 800, 1600].entries()) {
        await vi.advanceTimersByTimeAsync(ms - 1);
        expect(executor.runs, `no retry ${i + 1} before ${ms} ms`).toBe(i + 1);
        await vi.advanceTimersByTimeAsync(1);
        expect(executor.runs, `retry ${i + 1} after ${ms} ms`).toBe(i + 2);
      }
      await scheduler.waitForIdle();
      expect(executor.runs).toBe(6);
      expect(fatal).toEqual(['compaction failed 6 times in a row']);
    } finally {
      await scheduler.stop();
      await jobs.stop();
    }
  });
});
