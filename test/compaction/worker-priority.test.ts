/**
 * Worker threads give way to the event loop: on Linux each compaction/flush worker lowers its own
 * thread's nice value (compaction/worker.ts), and only its own: the thread that opened the database
 * keeps its priority.
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
  it('runs workers below the opening thread, which keeps its own priority', async () => {
    const before = getPriority(0);
    const db = await DB.open(await tempDir(), { compactionExecutor: 'worker', writeBufferSize: 16 * 1024 });
    try {
      for (let i = 0; i < 2000; i++) await db.put(`key${String(i).padStart(6, '0')}`, Buffer.alloc(64, i & 0xff));
      await db.compactRange(); // a compaction always runs in a worker: at least one has started
      const started = (db.engine as unknown as { executor: { started: number } }).executor.started;
      expect(started).toBeGreaterThan(0);
      expect(getPriority(0)).toBe(before);
      if (process.platform === 'linux') {
        const lowered = [...threadNices().values()].filter((n) => n === Math.min(before + 5, 19));
        expect(lowered.length).toBe(started);
      }
    } finally {
      await db.close();
    }
  });
});
