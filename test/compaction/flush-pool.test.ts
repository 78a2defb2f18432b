/**
 * Flushes handed to workers through the executor's pool (compaction/executor.ts, memtable-handoff.ts,
 * shared-buffer-pool.ts), with a stand-in worker the test controls: it keeps the memtable it was sent,
 * says so over a BroadcastChannel, and on the test's word checks that the bytes it holds are still the
 * bytes it received before it replies (or dies). So:
 * - while a job holds its buffers, a second flush gets other ones (the held bytes stay intact);
 * - after the reply, the next flush reuses them (the pool allocates nothing more);
 * - a worker that dies mid-flush fails the job, and its buffers are back in the pool when it settles.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BroadcastChannel } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValueKind } from '../../src/base/internal-key.js';
import { MemTable } from '../../src/memtable/memtable.js';
import type { TableOptions } from '../../src/table/table-options.js';
import { WorkerExecutor } from '../../compaction/executor.js';
import { BLOCK_BYTES } from '../../compaction/shared-buffer-pool.js';
import { tempDir } from '../support/tmpdir.js';
import { withSeed, type Rng } from '../support/rng.js';

/** The stand-in worker: holds each flush until told to reply (checking its bytes first) or to die. */
const HOLDING_WORKER = `
import { parentPort, BroadcastChannel } from 'node:worker_threads';
const ch = new BroadcastChannel(CHANNEL);
let held, fileNumber, digest;
const sum = (mem) => {
  let h = 0;
  for (const a of [...mem.arena.slabs, ...mem.arena.bigs, ...mem.table.pages]) {
    const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < b.length; i++) h = (Math.imul(h, 31) + b[i]) | 0;
  }
  return h;
};
parentPort.on('message', (m) => {
  if (m.type !== 'flush') return;
  held = m.mem; fileNumber = m.params.fileNumber; digest = sum(held);
  ch.postMessage({ holding: fileNumber });
});
ch.onmessage = ({ data }) => {
  if (data.to !== fileNumber) return;
  if (data.die) process.exit(7);
  const intact = sum(held) === digest;
  held = undefined;
  parentPort.postMessage({ type: 'flushed', meta: intact ? undefined : 'bytes changed under the worker' });
};
parentPort.postMessage({ type: 'ready' });
`;

const channels: BroadcastChannel[] = [];
afterEach(() => { while (channels.length) channels.pop()!.close(); });

async function setup(): Promise<{ exec: WorkerExecutor; holding: (n: number) => Promise<void>; tell: (n: number, die?: boolean) => void }> {
  const name = `flush-pool-${process.pid}-${Math.random()}`;
  const script = join(await tempDir(), 'holding-worker.mjs');
  writeFileSync(script, HOLDING_WORKER.replace('CHANNEL', JSON.stringify(name)));
  const ch = new BroadcastChannel(name);
  channels.push(ch);
  const seen = new Set<number>();
  const waiting = new Map<number, () => void>();
  ch.onmessage = (e: unknown) => {
    const n = (e as { data: { holding: number } }).data.holding;
    seen.add(n);
    waiting.get(n)?.();
  };
  return {
    exec: new WorkerExecutor(2, script, 32 * BLOCK_BYTES),
    holding: (n) => new Promise((resolve) => { if (seen.has(n)) resolve(); else waiting.set(n, resolve); }),
    tell: (n, die = false) => ch.postMessage({ to: n, die }),
  };
}

function filled(rng: Rng, bytes: number): MemTable {
  const m = new MemTable();
  for (let seq = 1; m.approximateMemoryUsage() < bytes; seq++) m.add(seq, ValueKind.Put, rng.bytes(16), rng.bytes(100));
  return m;
}

function job(fileNumber: number, mem: MemTable) {
  return { dir: '/nonexistent', fileNumber, table: {} as TableOptions, creationTimeMs: 0, snapshots: [], mem };
}

describe('flush pool with workers', () => {
  it('a held job keeps its buffers: a second flush gets others; after the reply the next one reuses them', async () => {
    await withSeed('flush pool reuse', async (rng) => {
      const { exec, holding, tell } = await setup();
      try {
        const pool = exec.flushPool;
        const a = exec.flush(job(1, filled(rng, 3 * BLOCK_BYTES)));
        await holding(1);
        const afterA = pool.heldBytes;
        expect(pool.lentBytes).toBe(afterA);
        expect(afterA).toBeGreaterThanOrEqual(3 * BLOCK_BYTES);

        const b = exec.flush(job(2, filled(rng, 3 * BLOCK_BYTES)));
        await holding(2);
        // Both held: nothing could be reused, every byte the pool has is lent.
        expect(pool.lentBytes).toBe(pool.heldBytes);
        expect(pool.heldBytes).toBeGreaterThan(afterA);
        tell(1);
        expect((await a).meta).toBeUndefined(); // a's bytes were intact while b was copied
        const afterB = pool.heldBytes;
        expect(pool.lentBytes).toBe(afterB - afterA);

        const c = exec.flush(job(3, filled(rng, 3 * BLOCK_BYTES)));
        await holding(3);
        expect(pool.heldBytes).toBe(afterB); // c took a's buffers back
        tell(2);
        tell(3);
        expect((await b).meta).toBeUndefined();
        expect((await c).meta).toBeUndefined();
        expect(pool.lentBytes).toBe(0);
      } finally {
        await exec.close();
      }
    });
  });

  it('a worker that dies mid-flush fails the job, and its buffers are back in the pool when it settles', async () => {
    await withSeed('flush pool worker death', async (rng) => {
      const { exec, holding, tell } = await setup();
      try {
        const a = exec.flush(job(1, filled(rng, 2 * BLOCK_BYTES)));
        await holding(1);
        expect(exec.flushPool.lentBytes).toBeGreaterThan(0);
        tell(1, true);
        await expect(a).rejects.toThrow(/exited with code 7/);
        expect(exec.flushPool.lentBytes).toBe(0);
        expect(exec.started).toBe(0);
      } finally {
        await exec.close();
      }
    });
  });
});
