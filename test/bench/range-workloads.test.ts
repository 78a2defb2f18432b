/**
 * The deleterange and clear workloads (bench/range-workloads.ts) on each engine at a small num: the
 * keys each leaves behind (deleterange: every other stripe of 100 keys; clear: only the keys past the
 * numbered ones), the figures they report, and that their names parse (deleterange takes :C, clear
 * does not). Engines whose native package cannot load here are skipped with the reason printed.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { loadEngine, type BenchEngine, type EngineName } from '../../bench/engine.js';
import { KeyFormat, ValuePool } from '../../bench/workload-data.js';
import { PAST_KEYS, RANGE_KEYS, deleteRangeCount } from '../../bench/range-workloads.js';
import { BATCH_SIZE, DEFAULT_WORKLOADS, WORKLOAD_NAMES, parseWorkload, type WorkloadContext } from '../../bench/workloads.js';
import { resolveConfig } from '../../bench/driver.js';
import { tempDir } from '../support/tmpdir.js';

const NUM = 2000;

async function fill(engine: BenchEngine, keys: KeyFormat, values: ValuePool): Promise<void> {
  for (let from = 0; from < NUM; from += BATCH_SIZE) {
    const ks = Array.from({ length: BATCH_SIZE }, (_, j) => keys.keyOf(from + j));
    await engine.batchPut(ks, ks.map(() => values.next()), false);
  }
}

async function remaining(engine: BenchEngine): Promise<string[]> {
  const it = engine.iterator({});
  const out: string[] = [];
  try {
    for (let e = await it.next(); e; e = await it.next()) out.push(Buffer.from(e[0]).toString());
  } finally {
    await it.close();
  }
  return out;
}

describe('bench range workloads', () => {
  it('parse: deleterange takes :C, clear does not; neither is in the default set', () => {
    expect(WORKLOAD_NAMES).toEqual(expect.arrayContaining(['deleterange', 'clear']));
    expect(parseWorkload('deleterange', 1)).toMatchObject({ id: 'deleterange', concurrency: 1 });
    expect(parseWorkload('deleterange:8', 1)).toMatchObject({ id: 'deleterange:8', concurrency: 8 });
    expect(parseWorkload('clear', 4)).toMatchObject({ id: 'clear', concurrency: 1 });
    expect(() => parseWorkload('clear:2', 1)).toThrow(/takes no :C/);
    expect(() => parseWorkload('deleteranges', 1)).toThrow(/unknown workload/);
    expect(resolveConfig({ workloads: ['clear', 'deleterange:4'] }).workloads).toEqual(['clear', 'deleterange:4']);
    expect(DEFAULT_WORKLOADS).not.toContain('clear');
  });

  for (const name of ['stratadb', 'classic-level', 'lmdb'] as EngineName[]) {
    it(`${name}: deleterange deletes every other stripe, clear all numbered keys`, async () => {
      // The peers are devDependencies: npm ci installs them, so a failure to load is a failure here.
      const engine: BenchEngine = await loadEngine(name, {});
      const dir = await tempDir('strata-bench-range-');
      await engine.open(dir);
      const keys = new KeyFormat(16);
      const values = new ValuePool(100, 1);
      const ctx: WorkloadContext = { engine, keys, values, num: NUM, reads: 500, seed: 1, dir };
      await fill(engine, keys, values);
      const dr = await parseWorkload('deleterange:4', 1).def.run!(ctx, 4);
      expect(dr.measured.ops).toBe(deleteRangeCount(NUM));
      const left = await remaining(engine);
      const expected = Array.from({ length: NUM }, (_, i) => i)
        .filter((i) => Math.floor(i / RANGE_KEYS) % 2 === 1)
        .map((i) => keys.keyOf(i).toString());
      expect(left).toEqual(expected);
      const drFigures = await dr.followUp!();
      expect(drFigures.map((f) => f.label)).toEqual(['get in deleted ranges', 'get elsewhere', 'seek into deleted ranges', 'seek elsewhere']);
      for (const f of drFigures) expect(f.value).toBeGreaterThan(0);

      await fill(engine, keys, values);
      const cl = await parseWorkload('clear', 1).def.run!(ctx, 1);
      expect([cl.measured.ops, cl.entries]).toEqual([1, NUM]);
      const after = await remaining(engine);
      expect(after.length).toBe(PAST_KEYS);
      expect(after.every((k) => k.startsWith('z'))).toBe(true);
      const figures = Object.fromEntries((await cl.followUp!()).map((f) => [f.label, f.value]));
      expect(figures['clear']).toBeGreaterThan(0);
      expect(figures['seek into cleared range']).toBeGreaterThan(0);
      expect(figures['disk before clear']).toBeGreaterThan(0);
      if (engine.compactAll) expect(figures['disk after compaction']).toBeLessThan(figures['disk before clear']!);
      else expect(figures['disk after compaction']).toBeUndefined();
      await engine.close();
    }, 60_000);
  }
});
