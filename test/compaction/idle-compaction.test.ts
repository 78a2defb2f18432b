/**
 * Idle compaction through the engine (compaction/idle-trigger.ts -> scheduler -> picker pickIdle):
 * a database left with L0 below level0CompactionTrigger (3 overlapping tables of 4) compacts them
 * into L1 once writes go quiet, keeps every key, and does it once: a further request with L0 empty
 * runs nothing (no loop). The L0 shape is built with the trigger off, then the database reopens
 * with it on, so no timer can fire between the flushes; the test waits on the trigger's request and
 * on the scheduler going idle, never on time. Options are validated like every option.
 * MemFileSystem and the inline executor; the seed is printed on failure.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, type Options } from '../../src/index.js';
import { withSeed } from '../support/rng.js';

const DIR = '/db';
const BASE: Options = { writeBufferSize: 1024 * 1024, level0CompactionTrigger: 4, compression: 'none', blockSize: 512 };

function l0(db: DB): number { return db.engine.versions.current().levels[0]!.length; }
function l1(db: DB): number { return db.engine.versions.current().levels[1]!.length; }

describe('idle compaction', () => {
  it('compacts a short L0 into L1 once writes go quiet, once', () => withSeed('idle compaction', async (rng) => {
    const fs = new MemFileSystem();
    const model = new Map<string, string>();
    let db = await DB.open(DIR, { ...BASE, fs, idleCompactionDelayMs: 0 });
    for (let table = 0; table < 3; table++) {
      for (let i = 0; i < 200; i++) {
        const k = `k${String(rng.int(1000)).padStart(4, '0')}`;
        const v = `${table}.${i}`;
        model.set(k, v);
        await db.put(k, v);
      }
      await db.flush();
    }
    expect(l0(db)).toBe(3);
    expect(db.engine.idleTrigger.armed).toBe(false);
    await db.close();

    db = await DB.open(DIR, { ...BASE, fs, idleCompactionDelayMs: 1 });
    try {
      const scheduler = db.engine.compactions;
      const requested = new Promise<void>((resolve) => {
        const original = scheduler.requestIdleCompaction.bind(scheduler);
        scheduler.requestIdleCompaction = (n: number) => { original(n); resolve(); };
      });
      expect(db.engine.idleTrigger.armed).toBe(true); // armed at open: L0 left by the last session
      await requested;
      await scheduler.waitForIdle();
      expect(l0(db)).toBe(0);
      expect(l1(db)).toBeGreaterThan(0);
      for (const [k, v] of model) expect((await db.get(k))?.toString()).toBe(v);

      // Nothing left to do: a second request picks nothing and installs nothing.
      const before = db.engine.versions.current();
      scheduler.requestIdleCompaction(1);
      await scheduler.waitForIdle();
      expect(db.engine.versions.current()).toBe(before);
      expect(db.engine.idleTrigger.armed).toBe(false);
    } finally {
      await db.close();
    }
  }));

  it('validates its options', async () => {
    for (const bad of [{ idleCompactionDelayMs: -1 }, { idleCompactionDelayMs: 1.5 }, { idleCompactionDelayMs: 2 ** 31 },
      { idleCompactionL0Files: 0 }, { idleCompactionL0Files: 'x' as unknown as number }]) {
      await expect(DB.open(DIR, { fs: new MemFileSystem(), ...bad })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });
});
