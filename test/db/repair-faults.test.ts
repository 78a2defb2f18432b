/**
 * DB.repair under failure: an I/O error at every mutating step of a repair (each run fails at the
 * nth create, append, sync, close, rename, remove, mkdir or directory sync), then a power cut of what
 * that failed run left. A failed repair rejects with the injected error; whatever it left, as it is
 * and after the power cut, repairs again to every key of the model: a repair never loses data, at
 * whatever step it stops.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, type Options } from '../../src/index.js';
import { FaultFileSystem, failNth, isInjected, type FaultKind, type FaultOp } from '../../src/fs/fault-fs.js';

const DIR = '/db';
// 'close' is left out: the fault fs cannot tell a table read's close (whose failure is ignored) from a write's.
const MUTATING = new Set<FaultKind>(['open', 'append', 'sync', 'rename', 'remove', 'mkdir', 'syncDir', 'truncate']);
const isMutating = (op: FaultOp): boolean => MUTATING.has(op.kind) && (op.kind !== 'open' || op.write === true);
const OPTIONS: Options = { flushOnClose: false, compression: 'none', compactionExecutor: 'inline' };

/** Old tables in two levels, range deletions, a WAL tail, and no CURRENT: the database to repair. */
async function damaged(): Promise<{ fs: MemFileSystem; model: Map<string, string> }> {
  const fs = new MemFileSystem();
  const model = new Map<string, string>();
  const db = await DB.open(DIR, { ...OPTIONS, fs });
  const put = async (k: string, v: string): Promise<void> => { await db.put(k, v); model.set(k, v); };
  for (let i = 0; i < 120; i++) await put(`k${String(i).padStart(3, '0')}`, `a${i}`);
  await db.flush();
  await db.compactRange();
  for (let i = 0; i < 120; i += 3) await put(`k${String(i).padStart(3, '0')}`, `b${i}`);
  await db.deleteRange('k040', 'k060');
  for (const k of [...model.keys()]) if (k >= 'k040' && k < 'k060') model.delete(k);
  await db.flush();
  for (let i = 0; i < 120; i += 7) await put(`k${String(i).padStart(3, '0')}`, `c${i}`);
  await db.delete('k001');
  model.delete('k001');
  await db.close();
  await fs.remove(`${DIR}/CURRENT`);
  return { fs: fs.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true }), model };
}

async function expectModel(fs: MemFileSystem, model: Map<string, string>, what: string): Promise<void> {
  await DB.repair(DIR, { ...OPTIONS, fs });
  const db = await DB.open(DIR, { ...OPTIONS, fs });
  try {
    await db.verifyChecksums();
    const got = new Map<string, string>();
    for await (const [k, v] of db.iterator()) got.set(k.toString(), v.toString());
    expect(got, what).toEqual(model);
  } finally {
    await db.close();
  }
}

describe('DB.repair under failure', () => {
  it('fails cleanly at every mutating step, and what it leaves repairs to the model (also after a power cut)', async () => {
    const { fs: base, model } = await damaged();
    let steps = 0;
    const counting = new FaultFileSystem(base.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true }), {
      injector: (op) => { if (isMutating(op)) steps++; return undefined; },
    });
    await DB.repair(DIR, { ...OPTIONS, fs: counting });
    expect(steps).toBeGreaterThan(10);
    let failed = 0;
    for (let n = 0; n < steps; n++) {
      const mem = base.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true });
      const ffs = new FaultFileSystem(mem, { injector: failNth(n, { where: isMutating }) });
      const failure = await DB.repair(DIR, { ...OPTIONS, fs: ffs }).then(() => undefined, (e: unknown) => e);
      if (failure !== undefined) {
        expect(isInjected(failure), `step ${n}: ${String(failure)}`).toBe(true);
        failed++;
      }
      await expectModel(mem.crashClone({ keepUnsyncedPercent: 100, keepUnsyncedEntries: true }), model, `step ${n}, as left`);
      await expectModel(mem.crashClone(), model, `step ${n}, after a power cut`);
    }
    expect(failed).toBeGreaterThan(steps / 2);
  });
});
