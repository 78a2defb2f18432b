/**
 * Compaction workers give way to the event loop: on Linux each lowers its own thread's nice value
 * (compaction/worker.ts), and only its own: the thread that opened the database keeps its priority,
 * and so does the flush worker (writers wait on it when memtables are full).
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { DB } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';

/** Nice value of every thread of this process (Linux: field 19 of /proc/self/task/TID/stat). */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try { stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'); } catch { continue; } // thread ended
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

describe('worker thread priority', () => {
  it('runs compaction workers below the opening thread and the flush worker, which keep their priority', async () => {
    const before = getPriority(0);
    const db = await DB.open(await tempDir(), { compactionExecutor: 'worker', writeBufferSize: 16 * 1024 });
    try {
      for (let i = 0; i < 2000; i++) await db.put(`key${String(i).padStart(6, '0')}`, Buffer.alloc(64, i & 0xff));
      await db.compactRange(); // a compaction always runs in a worker: at least one has started
      for (let i = 0; i < 200; i++) await db.put(`more${String(i).padStart(6, '0')}`, Buffer.alloc(64, i & 0xff));
      await db.flush(); // with a worker started, a flush runs in the flush worker
      const executor = (db.engine as unknown as { executor: { started: number; startedFlush: number } }).executor;
      expect(executor.startedFlush).toBe(1);
      const compactionWorkers = executor.started - executor.startedFlush;
      expect(compactionWorkers).toBeGreaterThan(0);
      expect(getPriority(0)).toBe(before);
      if (process.platform === 'linux') {
        const lowered = [...threadNices().values()].filter((n) => n === Math.min(before + 5, 19));
        expect(lowered.length).toBe(compactionWorkers);
      }
    } finally {
      await db.close();
    }
  });
});
