/**
 * db.getProperty(name) (src/engine/properties.ts): each `stratadb.*` property against what it
 * reports on (files on disk, snapshots taken, stats()), unknown names answering undefined, and the
 * argument and lifecycle errors.
 */
import { describe, expect, it } from 'vitest';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { DB } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { throwsWith } from '../support/db-check.js';

async function sstBytes(dir: string): Promise<number> {
  let total = 0;
  for (const n of await fsp.readdir(dir)) if (n.endsWith('.sst')) total += (await fsp.stat(path.join(dir, n))).size;
  return total;
}

/** The sizes of the .sst files, newest (highest number) first: the L0 tables of threeTables(). */
async function l0SizesNewestFirst(dir: string): Promise<number[]> {
  const names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.sst')).sort().reverse();
  return Promise.all(names.map(async (n) => (await fsp.stat(path.join(dir, n))).size));
}

/** Three L0 tables (no compaction: the trigger is out of reach), with deletions in the last. */
async function threeTables(dir: string): Promise<void> {
  const db = await DB.open(dir, { level0CompactionTrigger: 100, level0SlowdownTrigger: 200, level0StopTrigger: 300, idleCompactionDelayMs: 0 });
  for (let i = 0; i < 100; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
  await db.flush();
  for (let i = 100; i < 150; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
  await db.flush();
  for (let i = 0; i < 10; i++) await db.delete(`k${String(i).padStart(3, '0')}`);
  await db.flush();
  await db.close();
}

describe('db.getProperty', () => {
  it('answers each property from the state it names', async () => {
    const dir = await tempDir();
    await threeTables(dir);
    const db = await DB.open(dir, { level0CompactionTrigger: 100, level0SlowdownTrigger: 200, level0StopTrigger: 300, idleCompactionDelayMs: 0 });
    expect(db.getProperty('stratadb.num-files-at-level0')).toBe('3');
    expect(db.getProperty('stratadb.num-files-at-level1')).toBe('0');
    expect(db.getProperty('stratadb.total-sst-files-size')).toBe(String(await sstBytes(dir)));
    // 100 + 50 + 10 entries, 10 of them deletions: 160 - 2 * 10.
    expect(db.getProperty('stratadb.estimate-num-keys')).toBe('140');
    await db.put('new1', 'x');
    await db.put('new2', 'y');
    expect(db.getProperty('stratadb.estimate-num-keys')).toBe('142');
    expect(db.getProperty('stratadb.cur-size-all-mem-tables')).toBe(String(db.stats().memory.memtables));
    expect(Number(db.getProperty('stratadb.cur-size-all-mem-tables'))).toBeGreaterThan(0);
    expect(db.getProperty('stratadb.num-snapshots')).toBe('0');
    const s1 = db.snapshot();
    const s2 = db.snapshot();
    expect(db.getProperty('stratadb.num-snapshots')).toBe('2');
    s1.release();
    expect(db.getProperty('stratadb.num-snapshots')).toBe('1');
    s2.release();
    expect(db.getProperty('stratadb.background-errors')).toBe('0');
    expect(db.getProperty('stratadb.estimate-pending-compaction-bytes')).toBe('0'); // L0 under its trigger
    const text = db.getProperty('stratadb.stats')!;
    expect(text).toMatch(/^\*\* Level stats \*\*\n/);
    expect(text).toMatch(/\nL0\s+3\s+/);
    expect(text).toMatch(/\nSum\s+3\s+/);
    expect(text).toContain('estimated keys: 142');
    expect(text).toContain('Background errors: 0');
    await db.close();
  });

  it('estimate-pending-compaction-bytes: all of L0 once it reaches the trigger', async () => {
    const dir = await tempDir();
    await threeTables(dir);
    // Read-only: no compaction runs, so the L0 pile stays as the estimate sees it.
    const db = await DB.open(dir, { readOnly: true, level0CompactionTrigger: 2 });
    expect(db.getProperty('stratadb.estimate-pending-compaction-bytes')).toBe(String(await sstBytes(dir)));
    expect(db.stats().pendingCompactionBytes).toBe(await sstBytes(dir));
    await db.close();
  });

  it('in the tiered style: sorted runs, L0\'s score as runs / trigger, pending as the merge the picker would start', async () => {
    const dir = await tempDir();
    await threeTables(dir);
    // Read-only: nothing merges the three L0 runs while they are looked at.
    const db = await DB.open(dir, { readOnly: true, compactionStyle: 'tiered', level0CompactionTrigger: 2 });
    expect(db.getProperty('stratadb.num-sorted-runs')).toBe('3');
    expect(db.stats().levels[0]!.score).toBe(1.5);
    // Runs newest first: 10 deletions, 50 puts, 100 puts, each more than 1% bigger than the one before,
    // and together (newer two) far under 200% of the oldest: no space-amplification or size-ratio
    // merge; 3 runs > trigger 2, so the run-count pick merges the 3 - 2 + 1 = 2 newest.
    const [s0, s1, s2] = await l0SizesNewestFirst(dir);
    expect(s1!).toBeGreaterThan(s0! * 1.01);
    expect(s2!).toBeGreaterThan(s1! * 1.01);
    expect(db.stats().pendingCompactionBytes).toBe(s0! + s1!);
    expect(db.getProperty('stratadb.stats')).toContain('Compaction style: tiered; sorted runs: 3');
    await db.close();
  });

  it('unknown names answer undefined; a name that is not a string is ERR_INVALID_ARGUMENT; closed is ERR_CLOSED', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir);
    for (const name of ['', 'stats', 'rocksdb.stats', 'leveldb.stats', 'stratadb.', 'stratadb.nope', 'stratadb.num-files-at-level',
      'stratadb.num-files-at-level01', 'stratadb.num-files-at-level-1', 'stratadb.num-files-at-level7', 'stratadb.num-files-at-level1x']) {
      expect(db.getProperty(name), name).toBeUndefined();
    }
    expect(db.getProperty('stratadb.num-files-at-level6')).toBe('0'); // numLevels 7: L0..L6
    for (const bad of [undefined, null, 1, {}, Symbol('p')]) {
      throwsWith(() => db.getProperty(bad as unknown as string), 'ERR_INVALID_ARGUMENT', `getProperty(${String(bad)})`);
    }
    await db.close();
    throwsWith(() => db.getProperty('stratadb.stats'), 'ERR_CLOSED', 'after close');
  });
});
