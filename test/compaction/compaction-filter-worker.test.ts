/**
 * Compaction filters and subcompactions in the worker pool (real file system, compiled worker from
 * dist/): the worker imports the filter module itself and applies it; a split compaction runs its
 * pieces on several workers and installs one edit; a filter that cannot load fails the compaction in
 * the worker with the same error as inline, and the data stays as it was.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DB, type Options } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { makeRng, testSeed, withSeed } from '../support/rng.js';

const FILTERS = fileURLToPath(new URL('../support/compaction-filters.mjs', import.meta.url));
const OPTIONS: Options = {
  compactionExecutor: 'worker', writeBufferSize: 256 * 1024, targetFileSize: 16 * 1024, blockSize: 1024,
  level0CompactionTrigger: 100, level0SlowdownTrigger: 100, level0StopTrigger: 100,
};

async function rows(db: DB): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterator()) out.set(k.toString(), v.toString());
  return out;
}

describe('compaction filter and subcompactions in workers', () => {
  it('the worker runs the module filter; pieces run on the pool and install as one compaction', async () => {
    await withSeed('filter-worker', async (rng) => {
      const dir = await tempDir();
      let db = await DB.open(dir, { ...OPTIONS });
      const want = new Map<string, string>();
      for (let i = 0; i < 4000; i++) {
        const k = `key${String(i).padStart(5, '0')}`;
        const v = `${rng.int(4) === 0 ? 'x' : 'v'}${Buffer.from(rng.bytes(30)).toString('hex')}`;
        await db.put(k, v);
        if (!v.startsWith('x')) want.set(k, v);
      }
      await db.close();
      db = await DB.open(dir, { ...OPTIONS, compactionFilter: { module: FILTERS, export: 'dropX' }, maxSubcompactions: 2 });
      await db.flush();
      await db.compactRange();
      expect(await rows(db)).toEqual(want);
      expect(db.stats().compactionFilter.removed).toBe(4000 - want.size);
      expect(db.stats().subcompactions).toBe(2);
      await db.close();
      const log = await readFile(`${dir}/LOG`, 'utf8');
      expect(log).toMatch(/compaction done: L0 -> L1 .*filter removed \d+, changed 0\) in [\d.]+ ms \(worker, 2 subcompactions\)/);
    }, testSeed());
  });

  it('a filter module that cannot load fails the compaction in the worker; the data stays', async () => {
    const dir = await tempDir();
    let db = await DB.open(dir, { ...OPTIONS });
    for (let i = 0; i < 100; i++) await db.put(`k${i}`, `v${i}`);
    await db.close();
    db = await DB.open(dir, { ...OPTIONS, compactionFilter: { module: `${dir}/missing-filter.mjs`, export: 'f' } });
    await db.flush();
    const before = await rows(db);
    await expect(db.compactRange()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/the module could not be loaded/) });
    expect(await rows(db)).toEqual(before);
    expect(db.stats().readOnlyReason).toBeUndefined();
    await db.close();
  });
});
