/**
 * close() stops a running compaction instead of waiting for the rest of it (compaction/runner.ts
 * isStopRequested, executor.stopCompactions, scheduler.stop): the job ends with ERR_CLOSED, its
 * outputs are removed, nothing is installed, the data is all there after a reopen, and the LOG says
 * so. Inline (on a MemFileSystem) and in a worker (on disk), each stopped once its first output exists.
 */
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { DB, MemFileSystem, WriteBatch, type CompactionEvent, type Options } from '../../src/index.js';
import type { FileSystem } from '../../src/fs/file-system.js';
import { NodeFileSystem } from '../../src/fs/node-fs.js';
import { tempDir } from '../support/tmpdir.js';

const KEYS = 120_000;
const key = (i: number): string => `key${String(i).padStart(8, '0')}`;
const value = (i: number): string => `value-${i}-`.padEnd(100, String.fromCharCode(97 + (i % 26)));

async function load(dir: string, options: Partial<Options>): Promise<DB> {
  // No automatic compactions: the tables wait in L0 for the one compactRange() the test stops.
  const db = await DB.open(dir, { ...options, level0CompactionTrigger: 1000, level0SlowdownTrigger: 1000, level0StopTrigger: 1000 });
  for (let t = 0; t < 4; t++) {
    const b = new WriteBatch();
    for (let i = t; i < KEYS; i += 4) b.put(key(i), value(i));
    await db.write(b);
    await db.flush();
  }
  return db;
}

async function tableFiles(fs: FileSystem, dir: string): Promise<string[]> {
  return (await fs.list(dir)).filter((n) => n.endsWith('.sst')).sort();
}

async function liveTables(db: DB): Promise<number> {
  let n = 0;
  for (let level = 0; level < 7; level++) n += Number(db.getProperty(`stratadb.num-files-at-level${level}`) ?? 0);
  return n;
}

/** Runs compactRange(), closes the database at `when`, and checks everything a stopped compaction promises. */
async function stopAndCheck(fs: FileSystem, dir: string, options: Partial<Options>, when: (db: DB, before: string[]) => Promise<void>): Promise<void> {
  const db = await load(dir, options);
  const before = await tableFiles(fs, dir);
  expect(before.length).toBe(4);
  const ends: Extract<CompactionEvent, { phase: 'end' }>[] = [];
  db.on('compaction', (e) => { if (e.phase === 'end') ends.push(e); });
  const compacting = db.compactRange().then(() => undefined, (e: unknown) => e);
  await when(db, before);
  await db.close();
  const err = await compacting;
  expect((err as { code?: string } | undefined)?.code).toBe('ERR_CLOSED');
  expect(ends.length).toBeGreaterThan(0);
  expect(ends.every((e) => (e.error as { code?: string } | undefined)?.code === 'ERR_CLOSED')).toBe(true);
  // Nothing was installed and the outputs are gone: the same four tables, all live.
  expect(await tableFiles(fs, dir)).toEqual(before);
  const log = new TextDecoder().decode(await fs.readFile(path.join(dir, 'LOG')));
  expect(log).toMatch(/compaction stopped at close/);
  const again = await DB.open(dir, options);
  expect(await liveTables(again)).toBe(4);
  for (let i = 0; i < KEYS; i += 997) expect((await again.get(key(i)))?.toString()).toBe(value(i));
  await again.compactRange(); // and the compaction itself still works
  expect((await again.get(key(KEYS - 1)))?.toString()).toBe(value(KEYS - 1));
  await again.close();
}

/** Resolves once the compaction's first output file exists: a stop then lands in the middle of the run. */
async function firstOutput(fs: FileSystem, dir: string, before: string[]): Promise<void> {
  for (let turns = 0; ; turns++) {
    if ((await tableFiles(fs, dir)).length > before.length) return;
    if (turns > 200_000) throw new Error('the compaction wrote no output');
    await new Promise((r) => setImmediate(r));
  }
}

describe('close() during a compaction', () => {
  it('stops an inline compaction at its next check', async () => {
    const fs = new MemFileSystem();
    await stopAndCheck(fs, '/db', { fs, compactionExecutor: 'inline' }, (_db, before) => firstOutput(fs, '/db', before));
  });

  it('stops a compaction in a worker once it has written output', async () => {
    const dir = path.join(await tempDir(), 'db');
    const fs = new NodeFileSystem();
    await stopAndCheck(fs, dir, { compactionExecutor: 'worker' }, (_db, before) => firstOutput(fs, dir, before));
  });
});
