/**
 * Write amplification of the tiered style against the leveled one (README "Compaction styles"): the
 * same 200k-key random load (batches of 100 puts, 100-byte values, seeded) with the same small write
 * buffer, table sizes and stall triggers, each on its own MemFileSystem. The figure is compaction bytes written over
 * flushed bytes; tiered rewrites each byte fewer times, which is the reason to choose it, so the test
 * checks only tiered < leveled (no timing). The figures are printed for the tuning guide.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, WriteBatch, type Options } from '../../src/index.js';
import { makeRng, withSeed } from '../support/rng.js';

const KEYS = 200_000;

async function compactionWriteAmp(seed: number, o: Options): Promise<{ amp: number; runs: number }> {
  const rng = makeRng(seed);
  const db = await DB.open('/db', {
    fs: new MemFileSystem(), compression: 'none', writeBufferSize: 256 * 1024, targetFileSize: 256 * 1024,
    maxBytesForLevelBase: 1024 * 1024, compactionExecutor: 'inline',
    // Writes wait for compaction early (10 L0 tables or sorted runs), so neither style runs far behind
    // its picker and the figure is the style's, not a backlog's.
    level0SlowdownTrigger: 6, level0StopTrigger: 10, ...o,
  });
  try {
    const value = new Uint8Array(100);
    for (let i = 0; i < KEYS; i += 100) {
      const batch = new WriteBatch();
      for (let j = 0; j < 100; j++) {
        value.set(rng.bytes(8));
        batch.put(`key${String(rng.int(KEYS)).padStart(8, '0')}`, value);
      }
      await db.write(batch);
    }
    await db.flush();
    const s = db.stats();
    return { amp: s.compactions.bytesWritten / s.flushes.bytes, runs: s.sortedRuns };
  } finally {
    await db.close();
  }
}

describe('write amplification by style', () => {
  it('tiered writes fewer compaction bytes per flushed byte than leveled (200k random keys)', async () => {
    await withSeed('write amp by style', async (rng) => {
      const seed = rng.int(2 ** 31);
      const leveled = await compactionWriteAmp(seed, {});
      const tiered = await compactionWriteAmp(seed, { compactionStyle: 'tiered' });
      console.log(`compaction bytes written / flushed bytes: leveled ${leveled.amp.toFixed(2)} (${leveled.runs} runs), ` +
        `tiered ${tiered.amp.toFixed(2)} (${tiered.runs} runs)`);
      expect(leveled.amp).toBeGreaterThan(1); // the load really compacted
      expect(tiered.amp).toBeLessThan(leveled.amp);
    });
  }, 240_000);
});
