/**
 * The worker pool's memory (compaction/worker-memory.ts, executor.ts), with a stand-in worker the
 * test controls: it replies to a flush with the heap figures it is told to and the resourceLimits it
 * was started with. So:
 * - workers start with the heap limits the executor was given;
 * - memory() sums what each live worker last reported (a flush worker's heap only), and the pool;
 * - an idle worker exits after idleMs and the flush pool's shared memory goes with the last flush worker;
 * - close() ends every worker and drops the pool.
 * Plus workerHeapLimits' arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValueKind } from '../../src/base/internal-key.js';
import { MemTable } from '../../src/memtable/memtable.js';
import type { TableOptions } from '../../src/table/table-options.js';
import { WorkerExecutor } from '../../compaction/executor.js';
import { BLOCK_BYTES } from '../../compaction/shared-buffer-pool.js';
import { workerHeapLimits } from '../../compaction/worker-memory.js';
import { tempDir } from '../support/tmpdir.js';

const REPORTING_WORKER = `
import { parentPort, resourceLimits } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m.type !== 'flush') return;
  parentPort.postMessage({ type: 'flushed', meta: { limits: resourceLimits },
    heap: { heapTotal: 3_000_000, heapUsed: 1_000_000, external: 5_000_000 } });
});
parentPort.postMessage({ type: 'ready' });
`;

async function script(): Promise<string> {
  const p = join(await tempDir(), 'reporting-worker.mjs');
  writeFileSync(p, REPORTING_WORKER);
  return p;
}

function memtable(): MemTable {
  const m = new MemTable();
  for (let seq = 1; seq <= 100; seq++) m.add(seq, ValueKind.Put, new TextEncoder().encode(`key${seq}`), new Uint8Array(100));
  return m;
}

function job(fileNumber: number) {
  return { dir: '/nonexistent', fileNumber, table: {} as TableOptions, creationTimeMs: 0, snapshots: [], mem: memtable() };
}

describe('worker pool memory', () => {
  it('starts workers with the given heap limits and reports what they last said they hold', async () => {
    const limits = { maxOldGenerationSizeMb: 70, maxYoungGenerationSizeMb: 8 };
    const exec = new WorkerExecutor(2, await script(), 8 * BLOCK_BYTES, { flush: limits, idleMs: Infinity });
    try {
      expect(exec.memory()).toEqual({ compactionWorkers: 0, compactionWorkerBytes: 0, flushWorkers: 0, flushWorkerBytes: 0, flushPoolBytes: 0 });
      const r = await exec.flush(job(1));
      const got = (r.meta as unknown as { limits: Record<string, number> }).limits;
      expect(got['maxOldGenerationSizeMb']).toBe(70);
      expect(got['maxYoungGenerationSizeMb']).toBe(8);
      const m = exec.memory();
      expect(m.flushWorkers).toBe(1);
      // A flush worker's external memory is the pooled memtable copy, counted once as flushPoolBytes.
      expect(m.flushWorkerBytes).toBe(3_000_000);
      expect(m.flushPoolBytes).toBe(exec.flushPool.heldBytes);
      expect(m.flushPoolBytes).toBeGreaterThan(0);
    } finally {
      await exec.close();
    }
    expect(exec.memory().flushWorkers).toBe(0);
    expect(exec.flushPool.heldBytes).toBe(0);
  });

  it('an idle worker exits after idleMs, and the flush pool is drained with the last flush worker', async () => {
    let exited!: (role: string) => void;
    const idle = new Promise<string>((resolve) => { exited = resolve; });
    const exec = new WorkerExecutor(2, await script(), 8 * BLOCK_BYTES, { idleMs: 0, onIdleExit: (role) => exited(role) });
    try {
      await exec.flush(job(1));
      expect(await idle).toBe('flush');
      expect(exec.memory().flushWorkers).toBe(0);
      expect(exec.flushPool.heldBytes).toBe(0);
      // The next job starts a worker again.
      await exec.flush(job(2));
      expect(exec.startedFlush).toBe(1);
    } finally {
      await exec.close();
    }
  });

  it('workerHeapLimits: an eighth of the table size in MiB, between 128 MiB and 1 GiB, young generation 8 MiB', () => {
    expect(workerHeapLimits(64 << 20)).toEqual({ maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 8 });
    expect(workerHeapLimits(2048 * 2 ** 20)).toEqual({ maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 8 });
    expect(workerHeapLimits(2 ** 40).maxOldGenerationSizeMb).toBe(1024);
  });
});
