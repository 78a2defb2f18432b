/**
 * A checkpoint that fails at any step (an injected ENOSPC on each of its file operations in turn,
 * FaultFileSystem) leaves a target that DB.open refuses (CHECKPOINT-IN-PROGRESS), or no target at all,
 * never one that opens as an empty or partial database; and the same holds for what a power cut at
 * that moment would leave (crashClone of the synced state), where an empty directory may also remain. The first run without a failure is
 * complete and opens with every key.
 */
import { describe, expect, it } from 'vitest';
import { DB, FaultFileSystem, MemFileSystem } from '../../src/index.js';
import { failNth, isInjected } from '../../src/fs/fault-fs.js';
import type { FileSystem } from '../../src/fs/file-system.js';
import { readAll } from '../support/db-check.js';
import { withSeed } from '../support/rng.js';

/** What a target left by a checkpoint may be: missing, refused, or complete (`want`). */
async function judge(fs: FileSystem, target: string, want: Map<string, string>, what: string, allowEmpty = false): Promise<'missing' | 'refused' | 'complete'> {
  if (!(await fs.exists(target))) return 'missing';
  if (allowEmpty && (await fs.list(target)).length === 0) return 'missing';
  try {
    // Default options: an unmarked empty or partial target would open (created) and fail the comparison.
    const db = await DB.open(target, { fs });
    const got = await readAll(db);
    await db.close();
    expect(got, `${what}: the target opened, so it must be complete`).toEqual(want);
    return 'complete';
  } catch (e) {
    const code = (e as { code?: string }).code;
    expect(code === 'ERR_INVALID_ARGUMENT' || code === 'ERR_CORRUPTION', `${what}: ${String(e)}`).toBe(true);
    if (code === 'ERR_INVALID_ARGUMENT') expect(String((e as Error).message), what).toMatch(/CHECKPOINT-IN-PROGRESS/);
    return 'refused';
  }
}

describe('checkpoint faults', () => {
  it('a failure at every step leaves a target that is refused or missing, never silently empty', async () => {
    await withSeed('checkpoint-faults', async (rng) => {
      const mem = new MemFileSystem();
      const fs = new FaultFileSystem(mem);
      const db = await DB.open('/db', { fs, writeBufferSize: 8 * 1024, level0CompactionTrigger: 100, level0SlowdownTrigger: 200, level0StopTrigger: 300 });
      for (let i = 0; i < 300; i++) await db.put(`k${String(rng.int(500)).padStart(4, '0')}`, rng.bytes(10 + rng.int(100)));
      await db.flush();
      for (let i = 0; i < 20; i++) await db.put(`m${i}`, `memtable ${i}`);
      const want = await readAll(db);
      const counts = { missing: 0, refused: 0, complete: 0 };
      let succeededAt = -1;
      for (let i = 0; succeededAt < 0; i++) {
        expect(i, 'the checkpoint never succeeded').toBeLessThan(500);
        const target = `/cp${i}`;
        const inTarget = (p: string | undefined): boolean => p !== undefined && (p === target || p.startsWith(`${target}/`));
        fs.setInjector(failNth(i, { code: 'ENOSPC', where: (op) => inTarget(op.path) || inTarget(op.target) }));
        try {
          await db.checkpoint(target);
          succeededAt = i;
        } catch (e) {
          expect(isInjected(e), `step ${i}: ${String(e)}`).toBe(true);
        }
        fs.setInjector(() => undefined);
        const crashed = mem.crashClone();
        if (succeededAt < 0) {
          // Complete is allowed only when the failure came after the last write (the marker's removal synced).
          counts[await judge(mem, target, want, `step ${i}`)]++;
          // A power cut may keep the new directory but not its marker's entry (not yet synced): an empty
          // directory is then all that is left, which holds nothing to mistake for a checkpoint.
          const after = await judge(crashed, target, want, `step ${i}, after a power cut`, true);
          expect(after, `step ${i}, after a power cut`).not.toBe('complete');
        } else {
          expect(await judge(mem, target, want, 'no failure')).toBe('complete');
          expect(await judge(crashed, target, want, 'no failure, after a power cut')).toBe('complete');
        }
      }
      console.log(`checkpoint faults: ${succeededAt} failing steps (${counts.refused} refused, ${counts.missing} missing, ${counts.complete} complete), then success`);
      expect(counts.refused).toBeGreaterThan(5);
      await db.close();
    });
  });
});
