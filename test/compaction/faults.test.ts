/**
 * Fault injection in the middle of compaction (issue #4 "Errors"): a FaultFileSystem over a
 * MemFileSystem, the inline executor. The database is first filled with several L0 tables under
 * options that never compact, then reopened with level0CompactionTrigger 2 and an injector that fails
 * table-file operations (EIO/ENOSPC on output appends and syncs, EIO on input reads, or the nth table
 * operation of any kind). Each failure only touches *.sst files, so only compaction sees it (nothing
 * is flushed while faults are armed). Then:
 * - while compaction fails and backs off, reads equal the model and writes are accepted;
 * - compaction resumes by itself once the fault is spent: stats().compactions.count grows, L0 drains;
 * - no partial output of a failed attempt is left (every table on disk is live, or was an input);
 * - afterwards, and after a reopen, the data equals the model.
 * A corrupt input table instead stops writes (ERR_READ_ONLY, readOnlyReason names the corruption),
 * and nothing is merged around it: the version keeps the corrupt table, no output is installed.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, inspect, isStrataError, MemFileSystem, type Options } from '../../src/index.js';
import { FaultFileSystem, failNth, type FaultCode, type FaultKind, type Injector } from '../../src/fs/fault-fs.js';
import { makeRng, withSeed, type Rng } from '../support/rng.js';
import { overwrite, rejectsWith } from '../support/db-check.js';

const DIR = '/db';

/** Filling: nothing compacts, every flush adds an L0 table. */
const QUIET: Options = {
  writeBufferSize: 1024 * 1024, level0CompactionTrigger: 100, level0SlowdownTrigger: 100, level0StopTrigger: 100,
  blockSize: 256, targetFileSize: 4096,
};
/** Under test: L0 compacts at two files, outputs cut at 4 KiB (several per compaction). */
const COMPACTING: Options = { ...QUIET, level0CompactionTrigger: 2, level0SlowdownTrigger: 20, level0StopTrigger: 36 };

interface Filled { mem: MemFileSystem; ffs: FaultFileSystem; model: Map<string, string>; initialTables: Set<string> }

async function fill(rng: Rng, tables = 4): Promise<Filled> {
  const mem = new MemFileSystem();
  const ffs = new FaultFileSystem(mem);
  const model = new Map<string, string>();
  const db = await DB.open(DIR, { ...QUIET, fs: ffs });
  for (let t = 0; t < tables; t++) {
    for (let i = 0; i < 100; i++) {
      const k = `key${String(rng.int(300)).padStart(4, '0')}`;
      if (rng.int(6) === 0) {
        await db.delete(k);
        model.delete(k);
      } else {
        const v = Buffer.from(rng.bytes(60 + rng.int(80))).toString('hex');
        await db.put(k, v);
        model.set(k, v);
      }
    }
    await db.flush();
  }
  await db.close();
  return { mem, ffs, model, initialTables: new Set(await tablesOnDisk(mem)) };
}

async function tablesOnDisk(mem: MemFileSystem): Promise<string[]> {
  return (await mem.list(DIR)).filter((n) => n.endsWith('.sst'));
}

async function liveTables(mem: MemFileSystem): Promise<Set<string>> {
  const m = await inspect.manifest(DIR, { fs: mem });
  return new Set(m.levels.flatMap((l) => l.files.map((f) => `${String(f.fileNumber).padStart(6, '0')}.sst`)));
}

/** Polls `cond` (a condition, not a delay) until it holds; fails after `ms`. */
async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function checkModel(db: DB, model: Map<string, string>): Promise<void> {
  const rows: string[] = [];
  for await (const [k, v] of db.iterator()) rows.push(`${k.toString()}=${v.toString()}`);
  const want = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  expect(rows).toEqual(want);
  for (const [k, v] of [...model].slice(0, 50)) expect((await db.get(k))?.toString()).toBe(v);
}

/**
 * Lets the first `skip` operations of `kind` on table files pass, then fails the next `n` with `code`
 * (logging them). Skipping lets an attempt finish some outputs before it fails: those must go too.
 */
function failAfter(skip: number, n: number, kind: FaultKind, code: FaultCode, log: string[]): Injector {
  let seen = 0;
  return (op) => {
    if (op.kind !== kind || !op.path.endsWith('.sst')) return undefined;
    if (seen++ < skip || log.length >= n) return undefined;
    log.push(`${op.kind} ${op.path}`);
    return code;
  };
}

/**
 * Reopens with COMPACTING options and `injector` armed; waits until compaction has drained L0; checks
 * the model during and after (reads mid-fault only when reads are not what fails), the partial
 * outputs, and a clean reopen.
 */
async function runWithFault(f: Filled, injector: Injector, failed: () => number, readsDuringFault: boolean): Promise<void> {
  f.ffs.setInjector(injector);
  const db = await DB.open(DIR, { ...COMPACTING, fs: f.ffs });
  try {
    await waitUntil(() => failed() > 0, 'the first injected failure');
    // Mid-fault: the database answers from its unchanged version and takes writes (WAL only).
    if (readsDuringFault) await checkModel(db, f.model);
    for (let i = 0; i < 20; i++) {
      const k = `late${i}`;
      await db.put(k, `v${i}`);
      f.model.set(k, `v${i}`);
    }
    expect(db.stats().readOnlyReason).toBeUndefined();
    await waitUntil(() => db.stats().compactions.count > 0 && db.stats().levels[0]!.files < 2, 'compaction to resume and drain L0');
    expect(db.stats().readOnlyReason).toBeUndefined();
    await checkModel(db, f.model);
    // No partial output survives: every table on disk is live, or an input still being deleted.
    const live = await liveTables(f.mem);
    const stray = (await tablesOnDisk(f.mem)).filter((n) => !live.has(n) && !f.initialTables.has(n));
    expect(stray, 'outputs of failed attempts left on disk').toEqual([]);
  } finally {
    await db.close();
  }
  // Reopen (quietly: no compaction may race the listing): open deletes what the version does not
  // hold; the only new table allowed is the flush of the recovered WAL, live once flushed.
  f.ffs.setInjector(() => undefined);
  const again = await DB.open(DIR, { ...QUIET, fs: f.ffs });
  try {
    const afterOpen = await tablesOnDisk(f.mem);
    await again.flush();
    const live = await liveTables(f.mem);
    expect(afterOpen.filter((n) => !live.has(n)), 'tables left after open').toEqual([]);
    await checkModel(again, f.model);
  } finally {
    await again.close();
  }
}

describe('compaction under injected faults', () => {
  // [name, kind, code, operations let through first, reads while failing]
  const cases: [string, FaultKind, FaultCode, number, boolean][] = [
    ['EIO on the first output append', 'append', 'EIO', 0, true],
    ['ENOSPC on the append of the third output (two finished)', 'append', 'ENOSPC', 2, true],
    ['ENOSPC on the sync of the third output', 'sync', 'ENOSPC', 2, true],
    ['EIO on input reads', 'read', 'EIO', 3, false],
  ];
  it.each(cases)('%s: stays correct, leaves no partial output, resumes', async (_name, kind, code, skip, reads) => {
    await withSeed(`faults ${kind}`, async (rng) => {
      const f = await fill(rng, 3);
      const log: string[] = [];
      await runWithFault(f, failAfter(skip, 2, kind, code, log), () => log.length, reads);
      expect(log.length).toBe(2);
    });
  });

  it('survives one failure at the nth table operation of each kind (a sweep)', async () => {
    // Input opens and reads, output opens, appends, syncs and closes, and the removal of obsolete
    // inputs after the edit (which only delays their deletion to a later pass).
    const sweep: [FaultKind | undefined, number][] = [
      [undefined, 0], ['open', 5], ['read', 60], ['append', 1], ['sync', 2], ['close', 0], ['close', 6], ['remove', 0],
    ];
    await withSeed('faults sweep', async (rng) => {
      for (const [kind, n] of sweep) {
        const f = await fill(makeRng(rng.int(2 ** 31)), 3);
        let hit = 0;
        const nth = failNth(n, { path: '*.sst', code: rng.pick(['EIO', 'ENOSPC'] as const), ...(kind ? { kinds: [kind] } : {}) });
        const injector: Injector = (op) => {
          const c = nth(op);
          if (c) hit++;
          return c;
        };
        try {
          await runWithFault(f, injector, () => hit, false);
        } catch (e) {
          (e as Error).message = `failing table operation #${n} of kind ${kind ?? 'any'}: ${(e as Error).message}`;
          throw e;
        }
      }
    });
  });

  it('counts a failed compaction attempt in stats().backgroundErrors (as failed flushes are)', async () => {
    await withSeed('faults counted', async (rng) => {
      const f = await fill(rng, 3);
      const log: string[] = [];
      f.ffs.setInjector(failAfter(0, 1, 'append', 'EIO', log));
      const db = await DB.open(DIR, { ...COMPACTING, fs: f.ffs });
      try {
        await waitUntil(() => db.stats().compactions.count > 0, 'compaction to succeed after one failed attempt');
        expect(log.length).toBe(1);
        expect(db.stats().backgroundErrors).toBeGreaterThanOrEqual(1);
      } finally {
        await db.close();
      }
    });
  });

  it('a failed MANIFEST write while installing a compaction turns the database read-only at once, losing nothing', async () => {
    await withSeed('faults manifest', async (rng) => {
      const f = await fill(rng, 3);
      const log: string[] = [];
      // Quiet options: nothing compacts until compactRange, so the failure hits its install (the
      // open's own MANIFEST roll happens before the injector is armed).
      const db = await DB.open(DIR, { ...QUIET, fs: f.ffs });
      try {
        f.ffs.setInjector((op) => {
          if (op.kind !== 'sync' || !/MANIFEST-\d+$/.test(op.path) || log.length > 0) return undefined;
          log.push(op.path);
          return 'EIO';
        });
        const err = await db.compactRange().then(() => undefined, (e: unknown) => e);
        expect(isStrataError(err, 'ERR_IO') || isStrataError(err, 'ERR_READ_ONLY'), String(err)).toBe(true);
        expect(log.length).toBe(1);
        expect(db.stats().readOnlyReason).toMatch(/EIO/);
        await rejectsWith(() => db.put('x', 'y'), 'ERR_READ_ONLY', 'put after a failed MANIFEST write');
        await checkModel(db, f.model); // reads go on from the version before the edit
      } finally {
        await db.close();
      }
      // The edit may or may not have reached the MANIFEST; either way open finds all data and
      // deletes whatever the version does not hold.
      f.ffs.setInjector(() => undefined);
      const again = await DB.open(DIR, { ...QUIET, fs: f.ffs });
      try {
        const live = await liveTables(f.mem);
        expect((await tablesOnDisk(f.mem)).sort()).toEqual([...live].sort());
        await checkModel(again, f.model);
      } finally {
        await again.close();
      }
    });
  });

  it('turns read-only after repeated failures (with back-off), keeps every write, and recovers on reopen', async () => {
    await withSeed('faults repeated', async (rng) => {
      const f = await fill(rng, 3);
      const log: string[] = [];
      f.ffs.setInjector(failAfter(0, Infinity, 'append', 'ENOSPC', log));
      const t0 = Date.now();
      const db = await DB.open(DIR, { ...COMPACTING, fs: f.ffs });
      try {
        await waitUntil(() => db.stats().readOnlyReason !== undefined, 'repeated failures to stop writes');
        // Six attempts, 100 + 200 + 400 + 800 + 1600 ms apart: retried with back-off, not hammered.
        expect(log.length).toBe(6);
        expect(Date.now() - t0).toBeGreaterThan(3000);
        expect(db.stats().readOnlyReason).toMatch(/ENOSPC/);
        await checkModel(db, f.model);
        expect((await tablesOnDisk(f.mem)).sort()).toEqual([...f.initialTables].sort());
      } finally {
        await db.close();
      }
      f.ffs.setInjector(() => undefined);
      const again = await DB.open(DIR, { ...COMPACTING, fs: f.ffs });
      try {
        await waitUntil(() => again.stats().compactions.count > 0 && again.stats().levels[0]!.files < 2, 'compaction after reopen');
        await checkModel(again, f.model);
      } finally {
        await again.close();
      }
    });
  });

  it('reports a corrupt input table (ERR_CORRUPTION, read-only) and never merges around it', async () => {
    await withSeed('faults corruption', async (rng) => {
      const f = await fill(rng, 3);
      const before = await inspect.manifest(DIR, { fs: f.mem });
      const victim = `${DIR}/${String(before.levels[0]!.files[1]!.fileNumber).padStart(6, '0')}.sst`;
      const layout = await inspect.table(victim, { fs: f.mem });
      const block = layout.blocks.find((b) => b.kind === 'data')!;
      const bytes = (await f.mem.readFile(victim)).slice();
      bytes[block.offset + 3] = bytes[block.offset + 3]! ^ 0x40;
      await overwrite(f.mem, victim, bytes);

      const db = await DB.open(DIR, { ...COMPACTING, fs: f.ffs });
      try {
        await waitUntil(() => db.stats().readOnlyReason !== undefined, 'the compaction to report the corruption');
        const st = db.stats();
        expect(st.readOnlyReason).toMatch(/corrupt/i);
        expect(st.readOnlyReason).toContain(victim.slice(DIR.length + 1));
        expect(st.compactions.count).toBe(0);
        const err = await rejectsWith(() => db.put('x', 'y'), 'ERR_READ_ONLY', 'put after a corrupt compaction input');
        expect(isStrataError(err.cause, 'ERR_CORRUPTION')).toBe(true);
        // Nothing installed, nothing left: the version still holds the corrupt table.
        const after = await inspect.manifest(DIR, { fs: f.mem });
        expect(after.levels.map((l) => l.files.map((x) => x.fileNumber))).toEqual(before.levels.map((l) => l.files.map((x) => x.fileNumber)));
        expect((await tablesOnDisk(f.mem)).sort()).toEqual([...f.initialTables].sort());
      } finally {
        await db.close();
      }
    });
  });
});
