/**
 * db.ingest() is atomic across crashes and failures:
 * - crash clones of the MemFileSystem taken just before every file-system operation of an ingest
 *   (power cuts keeping none or a random share of unsynced bytes, and process crashes keeping
 *   everything) reopen to exactly the state before the ingest or exactly the state after it, and
 *   the reopened database holds no table file its MANIFEST does not name (file GC at open);
 * - a failure injected at operation i, for i = 0, 1, 2, ... until an ingest succeeds: the ingest
 *   rejects with an injected IOError (or ERR_READ_ONLY after a failed MANIFEST write), and a reopen
 *   without faults shows the state before or after, never a mix, and no stray table.
 * Everything before the ingest is flushed or synced, so "before" is a state a crash must keep.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, type Options } from '../../src/index.js';
import { FaultFileSystem, isInjected, type FaultOp } from '../../src/fs/fault-fs.js';
import { writeExternalTable } from '../../sstable/index.js';
import { withSeed } from '../support/rng.js';
import { readAll } from '../support/db-check.js';

const DIR = '/db';
const OPTS: Options = { compactionExecutor: 'inline', writeBufferSize: 8 << 10, targetFileSize: 4 << 10, blockSize: 256 };
const key = (i: number): string => `k${String(i).padStart(4, '0')}`;

interface Prepared { mem: MemFileSystem; files: string[]; before: Map<string, string>; after: Map<string, string> }

/** A database with flushed and synced data, two external tables over part of it, and both expected states. */
async function prepare(): Promise<Prepared> {
  const mem = new MemFileSystem();
  await mem.mkdir('/ext');
  let db = await DB.open(DIR, { ...OPTS, fs: mem });
  for (let i = 0; i < 300; i++) await db.put(key(i), `old-${i}`);
  await db.flush();
  await db.put(key(500), 'in the memtable', { sync: true });
  await db.put(key(150), 'memtable value inside the ingested range', { sync: true });
  const before = await readAll(db);
  await db.close();
  const a = Array.from({ length: 120 }, (_, i) => [key(i * 2), `new-${i * 2}`] as const);
  const b = Array.from({ length: 50 }, (_, i) => [key(400 + i), `new-${400 + i}`] as const);
  await writeExternalTable('/ext/a.sst', a, { fs: mem });
  await writeExternalTable('/ext/b.sst', b, { fs: mem });
  // The state after, computed on a copy.
  const copy = mem.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true });
  db = await DB.open(DIR, { ...OPTS, fs: copy });
  await db.ingest(['/ext/a.sst', '/ext/b.sst']);
  const after = await readAll(db);
  await db.close();
  expect(after).not.toEqual(before);
  return { mem, files: ['/ext/a.sst', '/ext/b.sst'], before, after };
}

/** Opens `fs`, checks the state is `before` or `after` and that every table file is live; returns which. */
async function check(fs: MemFileSystem, p: Prepared, what: string): Promise<'before' | 'after'> {
  const db = await DB.open(DIR, { ...OPTS, fs });
  try {
    // Background work after the open (the recovered memtable's flush, compactions) installs what it writes.
    await db.flush();
    await db.engine.compactions.waitForIdle();
    const state = await readAll(db);
    const which = equal(state, p.after) ? 'after' : equal(state, p.before) ? 'before' : undefined;
    expect(which, `${what}: the state is neither the one before nor the one after the ingest`).toBeDefined();
    const live = new Set<number>();
    db.engine.versions.current().forEachFile((f) => live.add(f.fileNumber));
    const onDisk = (await fs.list(DIR)).filter((n) => n.endsWith('.sst')).map((n) => Number(n.slice(0, -4)));
    expect(onDisk.filter((n) => !live.has(n)), `${what}: table files no MANIFEST names`).toEqual([]);
    await db.put('alive', 'yes'); // it takes writes
    return which!;
  } finally {
    await db.close();
  }
}

function equal(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

describe('db.ingest crash safety', () => {
  it('a crash before any file-system operation of the ingest leaves the state before or after, no stray tables', async () => {
    await withSeed('ingest crash clones', async (rng) => {
      const p = await prepare();
      const clones: { fs: MemFileSystem; where: string }[] = [];
      let armed = false;
      const fs = new FaultFileSystem(p.mem, {
        injector: (op: FaultOp) => {
          if (!armed) return undefined;
          const mode = rng.int(3);
          clones.push({
            where: `before ${op.kind} ${op.path} (${['power cut, 0% unsynced', 'power cut, random unsynced', 'process crash'][mode]})`,
            fs: p.mem.crashClone(mode === 0 ? { keepUnsyncedPercent: 0 } : mode === 1 ? { keepUnsyncedPercent: 100, rng: () => rng.next() }
              : { keepUnsyncedPercent: 100, keepUnsyncedEntries: true }),
          });
          return undefined;
        },
      });
      const db = await DB.open(DIR, { ...OPTS, fs });
      armed = true;
      await db.ingest(p.files);
      armed = false;
      clones.push({ where: 'after the ingest resolved (power cut)', fs: p.mem.crashClone({ keepUnsyncedPercent: 0 }) });
      await db.close();
      expect(clones.length).toBeGreaterThan(20);
      const seen: string[] = [];
      for (const c of clones) seen.push(await check(c.fs, p, c.where));
      // The last clone is taken after the ingest resolved: it must be whole.
      expect(seen[seen.length - 1]).toBe('after');
      expect(new Set(seen)).toEqual(new Set(['before', 'after']));
    });
  });

  it('a failure at operation i: an injected error, then a reopen shows before or after, no stray tables', async () => {
    const p = await prepare();
    let rejected = 0;
    // Until the injection no longer fires: the ingest ran out of operations before op i.
    for (let i = 0, fired = true; fired; i++) {
      expect(i, 'the sweep ends').toBeLessThan(1000);
      const mem = p.mem.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true });
      let n = -1;
      let armed = false;
      const fs = new FaultFileSystem(mem, { injector: () => (armed && ++n === i ? 'EIO' : undefined) });
      const db = await DB.open(DIR, { ...OPTS, fs });
      armed = true;
      let ok = false;
      try {
        await db.ingest(p.files);
        ok = true;
      } catch (e) {
        const code = (e as { code?: string }).code;
        expect(isInjected(e) || code === 'ERR_READ_ONLY', `op ${i}: ${String(e)}`).toBe(true);
        rejected++;
      }
      armed = false;
      fired = n >= i;
      await db.close().catch(() => undefined);
      const which = await check(mem, p, `failure at op ${i}`);
      if (ok && !fired) expect(which).toBe('after');
    }
    expect(rejected).toBeGreaterThan(5);
  });
});

