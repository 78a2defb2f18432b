/**
 * Which compaction executor a database gets (it runs flushes too), decided once at open before
 * anything is created, and the executor itself. The worker pool needs the real disk and its script on disk: a bundled app may
 * ship neither the script nor its imports beside the bundle. Open checks only that the script file is
 * there (a stat: workers still start lazily, never on the open path); a worker that cannot start later
 * anyway is caught by FallbackExecutor, which runs the job inline instead of failing compactions.
 * Rules (README "Bundling"):
 * - 'inline': inline.  'auto' with an injected fs: inline (a worker would bypass it).
 * - 'worker' with an injected fs: ERR_INVALID_ARGUMENT, for the same reason.
 * - compactionWorkerPath naming no file: ERR_INVALID_ARGUMENT (whenever a worker would be used).
 * - the default script missing: 'worker' is ERR_NOT_SUPPORTED; 'auto' runs inline and says so in LOG.
 */
import { statSync } from 'node:fs';
import type { FileSystem } from '../fs/file-system.js';
import { NodeFileSystem } from '../fs/node-fs.js';
import { InvalidArgumentError, NotSupportedError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { InlineExecutor, WorkerExecutor, defaultWorkerScript, type CompactionExecutor } from '../../compaction/executor.js';
import { FallbackExecutor } from '../../compaction/fallback-executor.js';
import { workerHeapLimits } from '../../compaction/worker-memory.js';

export type ExecutorChoice =
  | { kind: 'worker'; script: string }
  | { kind: 'inline'; note?: string };

function isFile(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Decides the executor from the options alone; throws (changing nothing) on a combination that cannot work. */
export function chooseCompactionExecutor(o: ResolvedOptions): ExecutorChoice {
  const mode = o.compactionExecutor;
  if (mode === 'inline') return { kind: 'inline' };
  const realFs = o.fs === undefined || o.fs.constructor === NodeFileSystem; // a subclass overrides what a worker would bypass
  if (!realFs) {
    if (mode === 'worker') {
      throw new InvalidArgumentError("option compactionExecutor 'worker' cannot be used with an injected fs: " +
        "a worker thread writes to the real disk (use 'inline' or 'auto')");
    }
    return { kind: 'inline' };
  }
  if (o.compactionWorkerPath !== undefined) {
    if (!isFile(o.compactionWorkerPath)) {
      throw new InvalidArgumentError(`option compactionWorkerPath: no file at ${o.compactionWorkerPath}`);
    }
    return { kind: 'worker', script: o.compactionWorkerPath };
  }
  const script = defaultWorkerScript();
  if (isFile(script)) return { kind: 'worker', script };
  if (mode === 'worker') {
    throw new NotSupportedError(`option compactionExecutor 'worker': the compaction worker script ${script} is missing ` +
      '(a bundled app? ship the worker and set compactionWorkerPath: README "Bundling")');
  }
  return { kind: 'inline', note: `compaction worker script ${script} not found: compactions run inline on the main thread ` +
    '(set compactionWorkerPath to use workers: README "Bundling")' };
}

/**
 * The shared memory a worker executor may hold for handing memtables to flush workers: flushes run one
 * at a time, so one memtable's worth is in use at most, and the second write buffer leaves room for
 * one that grew past writeBufferSize (its last batch) and for packing slack. A memtable bigger still
 * flushes inline (fallback-executor.ts). At least FLUSH_POOL_MIN_BYTES: the pool's blocks are 1 MiB.
 */
export function flushPoolBytes(o: { readonly writeBufferSize: number }): number {
  return Math.max(FLUSH_POOL_MIN_BYTES, FLUSH_POOL_WRITE_BUFFERS * o.writeBufferSize);
}
const FLUSH_POOL_WRITE_BUFFERS = 2;
const FLUSH_POOL_MIN_BYTES = 4 << 20;

/**
 * The executor for a choice; `log` gets one line if a worker later fails to start and jobs move inline.
 * Workers get heap limits from the size of the tables they write (compaction/worker-memory.ts).
 */
export function makeCompactionExecutor(choice: ExecutorChoice, fs: FileSystem, size: number, o: ResolvedOptions,
  log: (line: string) => void): CompactionExecutor {
  if (choice.kind === 'inline') return new InlineExecutor(fs);
  const limits = { compaction: workerHeapLimits(o.targetFileSize), flush: workerHeapLimits(o.writeBufferSize) };
  return new FallbackExecutor(new WorkerExecutor(size, choice.script, o.flushInWorker ? flushPoolBytes(o) : 0, limits), new InlineExecutor(fs), (e) =>
    log(`${e.message}: compactions and flushes run inline on the main thread from now on (README "Bundling")`), !o.flushInWorker);
}
