/**
 * The worker-thread executor on the real file system: the same operations with compactions in
 * workers and inline must give identical results; workers start lazily (none at open).
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { makeRng, testSeed } from '../support/rng.js';

async function workload(dir: string, executor: 'worker' | 'inline', seed: number): Promise<{ rows: string[]; compactions: number; workersAtOpen: number }> {
  const db = await DB.open(dir, {
    compactionExecutor: executor, writeBufferSize: 32 * 1024, targetFileSize: 16 * 1024,
    maxBytesForLevelBase: 64 * 1024, levelMultiplier: 4, level0CompactionTrigger: 2, blockSize: 512,
  });
  const workersAtOpen = (db.engine as unknown as { executor: { started?: number } }).executor.started ?? 0;
  const rng = makeRng(seed);
  const snap = db.snapshot();
  for (let i = 0; i < 3000; i++) {
    const k = `key${String(rng.int(800)).padStart(5, '0')}`;
    if (rng.int(5) === 0) await db.delete(k);
    else await db.put(k, Buffer.from(rng.bytes(20 + rng.int(200))));
  }
  await db.compactRange();
  const rows: string[] = [];
  for await (const [k, v] of db.iterator()) rows.push(`${k.toString()}=${v.toString('hex')}`);
  let atSnap = 0;
  for await (const _ of db.iterator({ snapshot: snap })) atSnap++;
  expect(atSnap).toBe(0);
  snap.release();
  const compactions = db.stats().compactions.count;
  await db.close();
  return { rows, compactions, workersAtOpen };
}

describe('WorkerExecutor', () => {
  it('gives the same results as the inline executor, and starts no worker at open', async () => {
    const seed = testSeed();
    try {
      const a = await workload(await tempDir(), 'worker', seed);
      const b = await workload(await tempDir(), 'inline', seed);
      expect(a.workersAtOpen).toBe(0);
      // How many compactions run depends on timing (background jobs overlap the writes; a loaded
      // machine leaves more for compactRange to merge at once): that some ran is what matters here.
      expect(a.compactions).toBeGreaterThan(0);
      expect(b.compactions).toBeGreaterThan(0);
      expect(a.rows).toEqual(b.rows);
      expect(a.rows.length).toBeGreaterThan(100);
    } catch (e) {
      (e as Error).message = `SEED=${seed}: ${(e as Error).message}`;
      throw e;
    }
  });
});
