/**
 * The lmdb bench adapter against a model (a sorted Map): seeded puts with several in flight, one
 * batch, deletes, then every get, full scans both ways and bounded seeks must agree with the model,
 * also after prepareWrites() switches the environment to durable commits and after a reopen.
 * Then the workloads themselves on lmdb at a small num: the counts each one reports (fillsync's
 * --syncs whatever its :C, fillbatch's batches, seekrandom's entries).
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { createLmdbEngine } from '../../bench/engine-lmdb.js';
import type { BenchEngine } from '../../bench/engine.js';
import { KeyFormat, ValuePool } from '../../bench/workload-data.js';
import { parseWorkload, type WorkloadContext } from '../../bench/workloads.js';
import { withSeed } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';

type Model = Map<string, Buffer>;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function drain(engine: BenchEngine, opts: Parameters<BenchEngine['iterator']>[0]): Promise<string[]> {
  const it = engine.iterator(opts);
  const out: string[] = [];
  try {
    for (let e = await it.next(); e; e = await it.next()) out.push(`${hex(e[0])}=${hex(e[1])}`);
  } finally {
    await it.close();
  }
  return out;
}

async function expectModel(engine: BenchEngine, model: Model, keys: KeyFormat, num: number): Promise<void> {
  for (let i = 0; i < num; i++) {
    const k = keys.keyOf(i);
    expect(await engine.get(k), `key ${i}`).toBe(model.has(hex(k)));
  }
  const sorted = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${hex(v)}`);
  expect(await drain(engine, {})).toEqual(sorted);
  expect(await drain(engine, { reverse: true })).toEqual([...sorted].reverse());
  for (const from of [0, 17, num - 3]) {
    const start = hex(keys.keyOf(from));
    expect(await drain(engine, { gte: keys.keyOf(from), limit: 10 })).toEqual(sorted.filter((e) => e >= start).slice(0, 10));
  }
}

describe('lmdb bench adapter', () => {
  it('puts in flight, a batch and deletes read back like a model, before and after durable mode and a reopen', () =>
    withSeed('lmdb adapter model', async (rng) => {
      const dir = await tempDir('strata-bench-lmdb-');
      const engine = await createLmdbEngine({ cacheSize: 1 << 20, writeBufferSize: 1 << 16 });
      expect(engine.name).toBe('lmdb');
      expect(engine.version).toMatch(/^3\.5\./);
      expect(engine.appliedOptions).toEqual({}); // lmdb has no equivalent of the LSM options
      const num = 300;
      const keys = new KeyFormat(16);
      const values = new ValuePool(100, 7);
      const model: Model = new Map();
      await engine.open(dir);
      await engine.prepareWrites!(false);

      const inFlight: Promise<void>[] = [];
      for (let n = 0; n < 400; n++) {
        const k = keys.keyOf(rng.int(num));
        const v = values.next();
        model.set(hex(k), Buffer.from(v));
        inFlight.push(engine.put(k, v, false));
        if (inFlight.length === 16) await Promise.all(inFlight.splice(0));
      }
      await Promise.all(inFlight);
      const bk: Uint8Array[] = [];
      const bv: Uint8Array[] = [];
      for (let i = 0; i < 50; i++) {
        bk.push(keys.keyOf(i * 3));
        bv.push(values.next());
        model.set(hex(bk[i]!), Buffer.from(bv[i]!));
      }
      await engine.batchPut(bk, bv, false);
      for (let n = 0; n < 40; n++) {
        const k = keys.keyOf(rng.int(num));
        model.delete(hex(k));
        await engine.del(k);
      }
      await expectModel(engine, model, keys, num);

      // Synced workloads: the environment is reopened with durable commits, the data stays.
      await engine.prepareWrites!(true);
      const k = keys.keyOf(num - 1);
      const v = values.next();
      model.set(hex(k), Buffer.from(v));
      await engine.put(k, v, true);
      await expectModel(engine, model, keys, num);

      // An iterator closed before its end, then close and reopen.
      const it = engine.iterator({});
      expect(await it.next()).toBeDefined();
      await it.close();
      await it.close();
      await engine.close();
      await engine.close();
      await engine.open(dir);
      await expectModel(engine, model, keys, num);
      await engine.close();
    }));

  it('runs the workloads with their counts: fillsync takes --syncs whatever its :C', async () => {
    const dir = await tempDir('strata-bench-lmdb-');
    const engine = await createLmdbEngine({});
    await engine.open(dir);
    const num = 2500;
    const ctx = (syncs?: number): WorkloadContext => ({
      engine, keys: new KeyFormat(16), values: new ValuePool(100, 1), num, reads: num, seed: 1,
      ...(syncs !== undefined ? { syncs } : {}),
    });
    const run = async (w: string, syncs?: number) => {
      const spec = parseWorkload(w, 1);
      await engine.prepareWrites!(spec.def.syncWrites === true);
      return spec.def.run!(ctx(syncs), spec.concurrency);
    };
    expect((await run('fillsync:8')).measured.ops).toBe(25); // num / 100
    expect((await run('fillsync:8', 40)).measured.ops).toBe(40);
    expect((await run('fillsync', 3)).measured.ops).toBe(3);
    const batch = await run('fillbatch');
    expect([batch.measured.ops, batch.entries]).toEqual([3, num]);
    const read = await run('readrandom:4');
    expect([read.measured.ops, read.found]).toEqual([num, num]);
    const seek = await run('seekrandom');
    expect(seek.measured.ops).toBe(num / 10);
    // Seeks near the last key find fewer than 10 entries; all others find 10.
    expect(seek.entries).toBeGreaterThan(num / 10 * 9);
    expect(seek.entries).toBeLessThanOrEqual(num);
    await engine.close();
  });
});
