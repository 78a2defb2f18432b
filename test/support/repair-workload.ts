/**
 * The seeded workload DB.repair's tests damage: puts, deletes and range deletes over a small key space
 * with tiny memtables, flushes and partial compactRange calls, so that tables sit in several levels
 * with overlapping keys and sequence ranges, and the last writes stay in the WAL (flushOnClose off).
 * The model is the answer every repaired database is checked against.
 */
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { DB, type Options } from '../../src/index.js';
import type { Rng } from './rng.js';

// NB: a memtable counts its 1 MiB arena slab, so a writeBufferSize under that flushes every write.
export const WORKLOAD_OPTIONS: Options = {
  writeBufferSize: 1200 * 1024, targetFileSize: 4096, maxBytesForLevelBase: 4096, levelMultiplier: 2,
  level0CompactionTrigger: 3, flushOnClose: false, compression: 'none',
};

export interface Workload {
  /** key -> value as the database should read now. */
  model: Map<string, string>;
  /** Every key ever written (a repaired database must not resurrect a deleted one). */
  everKeys: Set<string>;
  /** Levels holding tables when the workload closed. */
  levelsUsed: number;
}

const keyOf = (i: number): string => `k${String(i).padStart(4, '0')}`;

export async function runWorkload(dir: string, rng: Rng, o: { ops: number; options?: Options }): Promise<Workload> {
  const db = await DB.open(dir, { ...WORKLOAD_OPTIONS, ...o.options });
  const model = new Map<string, string>();
  const everKeys = new Set<string>();
  const KEYS = 300;
  try {
    for (let i = 0; i < o.ops; i++) {
      const r = rng.int(100);
      const k = keyOf(rng.int(KEYS));
      if (r < 62) {
        const v = `v${i}-${'x'.repeat(rng.int(60))}`;
        await db.put(k, v);
        model.set(k, v);
        everKeys.add(k);
      } else if (r < 80) {
        await db.delete(k);
        model.delete(k);
      } else if (r < 84) {
        const a = rng.int(KEYS);
        const start = keyOf(a), end = keyOf(Math.min(KEYS, a + 1 + rng.int(15)));
        await db.deleteRange(start, end);
        for (const key of [...model.keys()]) if (key >= start && key < end) model.delete(key);
      } else if (r < 90) {
        await db.flush();
      } else if (r < 92) {
        const a = rng.int(KEYS);
        await db.compactRange(keyOf(a), keyOf(Math.min(KEYS - 1, a + rng.int(100))));
      }
    }
    // Let background compactions settle, then leave a tail in the WAL.
    await db.flush();
    for (let i = 0; i < 20; i++) {
      const k = keyOf(rng.int(KEYS));
      const v = `tail${i}`;
      await db.put(k, v);
      model.set(k, v);
      everKeys.add(k);
    }
    const levelsUsed = db.stats().levels.filter((l) => l.files > 0).length;
    return { model, everKeys, levelsUsed };
  } finally {
    await db.close();
  }
}

/** Deletes every MANIFEST (CURRENT stays, naming one that is gone). */
export function removeManifests(dir: string): void {
  for (const n of readdirSync(dir)) if (n.startsWith('MANIFEST-')) rmSync(path.join(dir, n));
}

/**
 * Opens the repaired database and checks it: every key in `everKeys` reads as the model says (absent
 * when the model lacks it), a full scan equals the model, and verifyChecksums passes. `skip` leaves
 * out keys whose answer the damage may change (those a dropped table covered).
 */
export async function checkAgainst(dir: string, model: ReadonlyMap<string, string>, everKeys: ReadonlySet<string>,
  skip: (key: string) => boolean = () => false, options?: Options): Promise<void> {
  const db = await DB.open(dir, options);
  try {
    await db.verifyChecksums();
    for (const k of everKeys) {
      if (skip(k)) continue;
      expect((await db.get(k))?.toString(), `key ${k}`).toBe(model.get(k));
    }
    const scanned = new Map<string, string>();
    for await (const [k, v] of db.iterator()) if (!skip(k.toString())) scanned.set(k.toString(), v.toString());
    const want = new Map([...model].filter(([k]) => !skip(k)));
    expect(scanned).toEqual(want);
  } finally {
    await db.close();
  }
}
