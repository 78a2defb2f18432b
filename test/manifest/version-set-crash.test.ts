/**
 * Crash and failure behaviour of VersionSet: crash clones at every file-system operation, torn
 * final records, flipped bytes, and an injected failure at every operation in turn.
 */
import { describe, expect, it } from 'vitest';
import { CorruptionError, IOError } from '../../src/errors.js';
import { failNth, FaultFileSystem, isInjected } from '../../src/fs/fault-fs.js';
import { type FileSystem, isNotFound } from '../../src/fs/file-system.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { manifestFileName } from '../../src/manifest/file-names.js';
import { VersionSet } from '../../src/manifest/version-set.js';
import { makeRng, withSeed } from '../support/rng.js';
import { DIR, OPTIONS, randomEdit, type State, stateOf } from './driver.js';

const SMALL = { ...OPTIONS, maxManifestFileSize: 1500 };

async function freshFs(): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  await fs.mkdir(DIR);
  return fs;
}

/** create, `n` edits, reopen, `n` more edits; calls `ack(state)` after create and after each step that resolves. */
async function workload(fs: FileSystem, seed: number, n: number, ack: (s: State) => void): Promise<void> {
  const rng = makeRng(seed);
  let vs = await VersionSet.create(fs, DIR, SMALL);
  ack(stateOf(vs));
  for (let i = 0; i < 2 * n; i++) {
    if (i === n) {
      await vs.close();
      vs = await VersionSet.recover(fs, DIR, SMALL);
    }
    await vs.logAndApply(randomEdit(vs, rng));
    ack(stateOf(vs));
  }
  await vs.close();
}

/** The state recovery finds on fs, or 'none' when there is no database (no durable CURRENT). */
async function recoveredState(fs: MemFileSystem): Promise<State | 'none'> {
  let vs: VersionSet;
  try {
    vs = await VersionSet.recover(fs, DIR, SMALL);
  } catch (e) {
    if (isNotFound(e)) return 'none';
    throw e;
  }
  const s = stateOf(vs);
  await vs.close();
  // Recovering what recovery wrote (the fresh MANIFEST) gives the same state again.
  const again = await VersionSet.recover(fs, DIR, SMALL);
  expect(stateOf(again)).toEqual(s);
  return s;
}

describe('VersionSet under crashes', () => {
  it('a crash at any file-system operation recovers to the acknowledged state or the one in flight', async () => {
    await withSeed('crash at every op', async (rng) => {
      const mem = await freshFs();
      const states: State[] = [];
      const clones: { fs: MemFileSystem; acked: number }[] = [];
      const faulty = new FaultFileSystem(mem, {
        injector: () => {
          clones.push({ fs: mem.crashClone({ keepUnsyncedPercent: 100, rng: () => rng.next() }), acked: states.length - 1 });
          return undefined;
        },
      });
      await workload(faulty, rng.seed, 25, (s) => {
        states.push(s);
        // Right after an acknowledgement nothing is unsynced: a crash now keeps exactly this state.
        clones.push({ fs: mem.crashClone(), acked: states.length - 1 });
      });
      expect(clones.length).toBeGreaterThan(100);
      for (const { fs, acked } of clones) {
        const got = await recoveredState(fs);
        if (acked < 0) {
          expect(got === 'none' || got.levels === '(no files)').toBe(true);
          continue;
        }
        const ok = [states[acked], states[acked + 1]].some((s) => s !== undefined && JSON.stringify(s) === JSON.stringify(got));
        if (!ok) expect(got, `clone after ${acked} acknowledged steps`).toEqual(states[acked]);
      }
    });
  });

  it('ignores a torn final record, and only that', async () => {
    await withSeed('torn tail', async (rng) => {
      const fs = await freshFs();
      const vs = await VersionSet.create(fs, DIR, { ...OPTIONS, maxManifestFileSize: 1 << 20 });
      const states: State[] = [];
      const ends: number[] = [];
      for (let i = 0; i < 12; i++) {
        await vs.logAndApply(randomEdit(vs, rng));
        states.push(stateOf(vs));
        ends.push(vs.manifestFileSize);
      }
      await vs.close();
      const path = manifestFileName(DIR, vs.manifestFileNumber);
      const full = await fs.readFile(path);
      const lastStart = ends[ends.length - 2]!;
      for (let cut = lastStart; cut <= full.length; cut++) {
        const copy = fs.crashClone();
        (await copy.openWritable(path)).append(full.subarray(0, cut));
        const ro = await VersionSet.recover(copy, DIR, { ...OPTIONS, readOnly: true });
        expect(stateOf(ro)).toEqual(cut === full.length ? states[11] : states[10]);
        expect(ro.recovery?.tornTail !== undefined).toBe(cut !== lastStart && cut !== full.length);
      }
      // A zero-filled tail (size extended, pages never written) is a torn append too.
      const zeros = fs.crashClone();
      const zf = await zeros.openWritable(path);
      zf.append(full.subarray(0, lastStart));
      zf.append(new Uint8Array(full.length - lastStart));
      expect(stateOf(await VersionSet.recover(zeros, DIR, { ...OPTIONS, readOnly: true }))).toEqual(states[10]);
    });
  });

  it('refuses a flipped byte anywhere but in the final record\'s length, never failing otherwise', async () => {
    await withSeed('flip sweep', async (rng) => {
      const fs = await freshFs();
      const vs = await VersionSet.create(fs, DIR, { ...OPTIONS, maxManifestFileSize: 1 << 20 });
      let before: State | undefined;
      let lastStart = 0;
      for (let i = 0; i < 6; i++) {
        before = stateOf(vs);
        lastStart = vs.manifestFileSize;
        await vs.logAndApply(randomEdit(vs, rng));
      }
      await vs.close();
      const path = manifestFileName(DIR, vs.manifestFileNumber);
      const full = await fs.readFile(path);
      for (let i = 0; i < full.length; i++) {
        const copy = fs.crashClone();
        const bytes = full.slice();
        bytes[i]! ^= 1 << rng.int(8);
        (await copy.openWritable(path)).append(bytes);
        const result = await VersionSet.recover(copy, DIR, { ...OPTIONS, readOnly: true }).then(stateOf, (e: unknown) => e);
        if (result instanceof Error) {
          expect(result, `flip at ${i}`).toBeInstanceOf(CorruptionError);
        } else {
          // Only a longer length in the last record's header reads as a truncated (torn) record.
          expect(i === lastStart + 4 || i === lastStart + 5, `flip at ${i} accepted`).toBe(true);
          expect(result).toEqual(before);
        }
      }
    });
  });

  it('an injected failure at any operation is sticky, changes nothing, and recovery finds the acknowledged state', async () => {
    await withSeed('fault at every op', async (rng) => {
      const reference: State[] = [];
      await workload(await freshFs(), rng.seed, 8, (s) => reference.push(s));
      let completed = false;
      for (let i = 0; !completed; i++) {
        expect(i, 'the workload never completes').toBeLessThan(1000);
        const mem = await freshFs();
        const faulty = new FaultFileSystem(mem, { injector: failNth(i), partialAppend: i % 2 === 1 });
        let acked = -1;
        try {
          await workload(faulty, rng.seed, 8, (s) => {
            acked++;
            expect(s).toEqual(reference[acked]);
          });
          completed = true;
        } catch (e) {
          expect(isInjected(e), String(e)).toBe(true);
          expect(e).toBeInstanceOf(IOError);
        }
        for (const fs of [mem, mem.crashClone()]) {
          const got = await recoveredState(fs);
          if (acked < 0) {
            expect(got === 'none' || got.levels === '(no files)').toBe(true);
          } else if (JSON.stringify(got) !== JSON.stringify(reference[acked + 1])) {
            expect(got, `failure at op ${i} after ${acked} steps`).toEqual(reference[acked]);
          }
        }
      }
    });
  });

  it('after a failed MANIFEST sync, current() is unchanged and later edits reject with the first error', async () => {
    await withSeed('sticky sync failure', async (rng) => {
      const mem = await freshFs();
      const faulty = new FaultFileSystem(mem);
      const vs = await VersionSet.create(faulty, DIR, OPTIONS);
      await vs.logAndApply(randomEdit(vs, rng));
      const reached = vs.lastSequence;
      const edit = randomEdit(vs, rng); // may advance lastSequence, as the DB does before a flush
      const before = stateOf(vs);
      const current = vs.current();
      faulty.setInjector(failNth(0, { kinds: ['sync'], path: 'MANIFEST-*' }));
      const err = await vs.logAndApply(edit).catch((e: unknown) => e);
      expect(isInjected(err)).toBe(true);
      expect(vs.current()).toBe(current);
      expect(stateOf(vs)).toEqual(before);
      expect(vs.error).toBe(err);
      await expect(vs.logAndApply({})).rejects.toBe(err);
      // The unsynced record is lost in a crash; without one it may be found (the DB keeps both files sets).
      expect(await recoveredState(mem.crashClone())).toEqual({ ...before, lastSequence: reached });
    });
  });
});
