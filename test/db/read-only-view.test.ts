/**
 * A read-only DB beside a writer, made deterministic in one process: the writer (a normal open of the
 * same directory) compacts at exactly the moment that used to break the reader.
 * - an open that lists the directory right after the writer replaced the tables its MANIFEST named:
 *   no false ERR_CORRUPTION (it takes the view again);
 * - a held view whose tables the writer deletes (more tables than maxOpenFiles): every get and a full
 *   scan still answer from the view;
 * - tryCatchUpWithPrimary(): new reads see the writer's new state, an iterator opened before keeps its own;
 * - a table missing under an unchanged CURRENT/MANIFEST is still damage (ERR_CORRUPTION).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB, NodeFileSystem, isStrataError, type Options } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';

/** The writer keeps every flush in L0 until told to compact. */
const WRITER: Options = {
  writeBufferSize: 64 * 1024, level0CompactionTrigger: 1000, level0SlowdownTrigger: 1000, level0StopTrigger: 1000,
  compactionExecutor: 'inline', compression: 'none',
};

const key = (i: number): string => `key${String(i).padStart(5, '0')}`;
const value = (i: number, round: number): string => `value-${i}-round-${round}-${'x'.repeat(i % 50)}`;

/** `tables` L0 tables of 50 keys each, key(0) .. key(50 * tables - 1), all at round 0. */
async function writeTables(db: DB, tables: number, round = 0): Promise<void> {
  for (let t = 0; t < tables; t++) {
    for (let i = t * 50; i < (t + 1) * 50; i++) await db.put(key(i), value(i, round));
    await db.flush();
  }
}

function tableNames(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.sst')).sort();
}

/** Tables of `dir` this process still holds open after they were deleted (Linux /proc). */
function deletedTablesHeld(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (target.startsWith(dir) && target.includes('.sst') && target.endsWith('(deleted)')) out.push(target);
  }
  return out;
}

/** A file system whose next list(), or next open of a table, first lets `before` run (the writer acting then). */
class HookedFs extends NodeFileSystem {
  before: (() => Promise<void>) | undefined;
  constructor(private readonly at: 'list' | 'table-open') { super(); }
  private async hook(): Promise<void> {
    const h = this.before;
    this.before = undefined;
    if (h) await h();
  }
  override async list(dir: string): Promise<string[]> {
    if (this.at === 'list') await this.hook();
    return super.list(dir);
  }
  override async openReadable(p: string): ReturnType<NodeFileSystem['openReadable']> {
    if (this.at === 'table-open' && p.endsWith('.sst')) await this.hook();
    return super.openReadable(p);
  }
}

describe('read-only DB beside a writer', () => {
  it.each(['list', 'table-open'] as const)('an open racing a compaction (at its %s) takes the new view instead of reporting a missing table', async (at) => {
    const dir = await tempDir('strata-ro-race-');
    const writer = await DB.open(dir, WRITER);
    try {
      await writeTables(writer, 4);
      const before = tableNames(dir);
      const fs = new HookedFs(at);
      // While the reader opens, the writer replaces every table.
      fs.before = () => writer.compactRange();
      const reader = await DB.open(dir, { readOnly: true, fs });
      try {
        expect(fs.before).toBeUndefined();
        expect(tableNames(dir).some((n) => before.includes(n))).toBe(false);
        for (const i of [0, 77, 199]) expect((await reader.get(key(i)))?.toString()).toBe(value(i, 0));
        let n = 0;
        for await (const [k, v] of reader.iterator()) {
          expect(v.toString()).toBe(value(Number(k.toString().slice(3)), 0));
          n++;
        }
        expect(n).toBe(200);
      } finally {
        await reader.close();
      }
    } finally {
      await writer.close();
    }
  });

  it('a held view keeps answering while the writer deletes its tables, beyond maxOpenFiles', async () => {
    const dir = await tempDir('strata-ro-held-');
    const writer = await DB.open(dir, WRITER);
    try {
      await writeTables(writer, 20);
      // maxOpenFiles 16 < 20 tables: the view must not depend on the table cache keeping them open.
      const reader = await DB.open(dir, { readOnly: true, maxOpenFiles: 16, cacheSize: 0 });
      try {
        const held = tableNames(dir);
        await writeTables(writer, 2, 1);
        await writer.compactRange();
        expect(tableNames(dir).filter((n) => held.includes(n))).toEqual([]);
        for (let i = 0; i < 1000; i += 37) expect((await reader.get(key(i)))?.toString()).toBe(value(i, 0));
        let n = 0;
        for await (const [k, v] of reader.iterator({ reverse: true })) {
          expect(v.toString()).toBe(value(Number(k.toString().slice(3)), 0));
          n++;
        }
        expect(n).toBe(1000);
        await reader.verifyChecksums();
      } finally {
        await reader.close();
      }
    } finally {
      await writer.close();
    }
  });

  it('tryCatchUpWithPrimary moves reads forward; an older iterator keeps its view', async () => {
    const dir = await tempDir('strata-ro-catchup-');
    const writer = await DB.open(dir, WRITER);
    try {
      await writeTables(writer, 3);
      await writer.put('wal-only', 'in the WAL');
      const reader = await DB.open(dir, { readOnly: true });
      try {
        expect((await reader.get('wal-only'))?.toString()).toBe('in the WAL');
        const old = reader.iterator({ gte: key(0), lt: key(150) });
        // The writer overwrites everything, compacts it away, and leaves a new WAL record.
        await writeTables(writer, 3, 1);
        await writer.compactRange();
        await writer.put('later', 'after');
        expect(await reader.get('later')).toBeUndefined();
        const seq = reader.stats().sequence;
        await reader.tryCatchUpWithPrimary();
        expect(reader.stats().sequence).toBeGreaterThan(seq);
        expect((await reader.get('later'))?.toString()).toBe('after');
        for (const i of [0, 99, 149]) expect((await reader.get(key(i)))?.toString()).toBe(value(i, 1));
        let n = 0;
        for await (const [k, v] of old) {
          expect(v.toString()).toBe(value(Number(k.toString().slice(3)), 0));
          n++;
        }
        expect(n).toBe(150);
        await old.close();
        // The old iterator kept the deleted tables open until now; the next catch-up lets them go.
        expect(deletedTablesHeld(dir).length).toBeGreaterThan(0);
        // A second catch-up with nothing new changes nothing, and closes what no view holds.
        await reader.tryCatchUpWithPrimary();
        expect((await reader.get(key(5)))?.toString()).toBe(value(5, 1));
        expect(deletedTablesHeld(dir)).toEqual([]);
      } finally {
        await reader.close();
      }
      await expect(writer.tryCatchUpWithPrimary()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    } finally {
      await writer.close();
    }
  });

  it('a table missing under an unchanged CURRENT and MANIFEST is damage, not a race', async () => {
    const dir = await tempDir('strata-ro-lost-');
    const writer = await DB.open(dir, WRITER);
    await writeTables(writer, 2);
    await writer.close();
    const lost = tableNames(dir)[0]!;
    await rm(path.join(dir, lost));
    const e = await DB.open(dir, { readOnly: true }).then(() => undefined, (x: unknown) => x);
    expect(isStrataError(e, 'ERR_CORRUPTION')).toBe(true);
    expect((e as Error).message).toContain(lost);
  });
});
