/**
 * Write stalls never deadlock (issue #4 "Write stalls"): many concurrent writers filling far faster
 * than compaction keeps up (level0SlowdownTrigger/StopTrigger 3/5, maxWriteBufferNumber 2, tiny
 * buffers) all finish with correct data and the time they waited in stats().stalls; a low
 * compactionRateLimit still finishes. Then, with compaction parked at a gate (GateFileSystem holds
 * the first output's open, so L0 cannot drain until the test says so, no sleeps):
 * - at the stop trigger a write waits, and completes once compaction can proceed;
 * - at the slowdown trigger (below stop) a write is delayed by its debt, not held until compaction
 *   catches up, whatever its size;
 * - the rate limiter caps a compaction of large values too.
 * MemFileSystem and the inline executor throughout; seeds printed on failure.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, WriteBatch, type Options } from '../../src/index.js';
import { GateFileSystem } from '../support/gate-fs.js';
import { withSeed, type Rng } from '../support/rng.js';

const DIR = '/db';
const STALLY: Options = {
  writeBufferSize: 4096, maxWriteBufferNumber: 2, level0CompactionTrigger: 2, level0SlowdownTrigger: 3,
  level0StopTrigger: 5, targetFileSize: 4096, maxBytesForLevelBase: 16 * 1024, levelMultiplier: 4, numLevels: 4,
  delayedWriteRate: 1024 * 1024, blockSize: 512,
  // No codec: lz4/zstd run on the libuv pool, which on a loaded machine only adds waiting.
  compression: 'none',
};

/** `writers` concurrent loops of puts and small batches over their own keys; returns the final model. */
async function hammer(db: DB, rng: Rng, writers: number, opsPerWriter: number): Promise<Map<string, string>> {
  const model = new Map<string, string>();
  const plans = Array.from({ length: writers }, (_, w) => Array.from({ length: opsPerWriter }, (_, i) => ({
    key: `w${String(w).padStart(2, '0')}-${String(rng.int(60)).padStart(3, '0')}`,
    value: `${w}.${i}.` + 'x'.repeat(100 + rng.int(200)),
    batch: rng.int(4) === 0,
  })));
  await Promise.all(plans.map(async (plan) => {
    for (const op of plan) {
      if (op.batch) await db.write(new WriteBatch().put(op.key, op.value).put(`${op.key}-b`, op.value));
      else await db.put(op.key, op.value);
    }
  }));
  // Each writer's keys are its own and its writes are sequential: the last write of a key wins.
  for (const plan of plans) {
    for (const op of plan) {
      model.set(op.key, op.value);
      if (op.batch) model.set(`${op.key}-b`, op.value);
    }
  }
  return model;
}

async function expectModel(db: DB, model: Map<string, string>): Promise<void> {
  const got = new Map<string, string>();
  for await (const [k, v] of db.iterator()) got.set(k.toString(), v.toString());
  expect(got.size).toBe(model.size);
  for (const [k, v] of model) expect(got.get(k), k).toBe(v);
}

/** Resolves to 'done' or 'pending' after `ms`: for "this write must (not) finish while ..." checks. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<'done' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => 'done' as const),
    new Promise<'pending'>((resolve) => { timer = setTimeout(() => resolve('pending'), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Compaction outputs are opened exclusively (runner.ts); flush outputs and WALs are not parked. */
const gateCompactionOutputs = (mem: MemFileSystem): GateFileSystem =>
  new GateFileSystem(mem, (p, o) => p.endsWith('.sst') && o?.exclusive === true);

/** Puts one key and flushes, `n` times: n new L0 tables (flush() bypasses the write stalls). */
async function addL0Tables(db: DB, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await db.put(`t${i}`, `v${i}`);
    await db.flush();
  }
}

describe('write stalls', () => {
  it('many writers filling faster than compaction all finish, stalled and correct', async () => {
    await withSeed('stalls hammer', async (rng) => {
      // Whether ten writers outpace compaction depends on the machine; what must hold either way is
      // that every writer finishes, L0 stays bounded by the stop trigger, and the data is right.
      // (The slowdown and the stop are each forced deterministically by the gated tests below.)
      const db = await DB.open(DIR, { ...STALLY, fs: new MemFileSystem() });
      try {
        const model = await hammer(db, rng, 10, 50);
        const st = db.stats();
        expect(st.compactions.count).toBeGreaterThan(10);
        expect(st.levels[0]!.files).toBeLessThanOrEqual(STALLY.level0StopTrigger!);
        expect(st.compactions.count).toBeGreaterThan(3);
        expect(st.readOnlyReason).toBeUndefined();
        await expectModel(db, model);
      } finally {
        await db.close();
      }
    });
  });

  it('a low compactionRateLimit slows compaction but writers still finish', async () => {
    await withSeed('stalls rate limit', async (rng) => {
      const db = await DB.open(DIR, { ...STALLY, compactionRateLimit: 512 * 1024, fs: new MemFileSystem() });
      try {
        const model = await hammer(db, rng, 6, 60);
        expect(db.stats().compactions.count).toBeGreaterThan(0);
        await expectModel(db, model);
      } finally {
        await db.close();
      }
    });
  });

  it('at the stop trigger a write waits for compaction, and completes once it proceeds', async () => {
    const mem = new MemFileSystem();
    const gate = gateCompactionOutputs(mem);
    const db = await DB.open(DIR, { ...STALLY, writeBufferSize: 1024 * 1024, fs: gate });
    try {
      await addL0Tables(db, 5);
      await gate.whenWaiting(); // the L0 compaction is parked before its first output
      expect(db.stats().levels[0]!.files).toBe(5);
      const write = db.put('late', 'value');
      expect(await settledWithin(write, 50)).toBe('pending');
      gate.letThrough();
      await write;
      expect(db.stats().stalls.stopMs).toBeGreaterThan(0);
      expect((await db.get('late'))?.toString()).toBe('value');
    } finally {
      gate.letThrough();
      await db.close();
    }
  });

  it.each([100, 64 * 1024])('at the slowdown trigger a %i-byte write is delayed, not held until compaction catches up', async (size) => {
    const mem = new MemFileSystem();
    const gate = gateCompactionOutputs(mem);
    // 1 MiB/s: a 64 KiB write owes ~62 ms.
    const db = await DB.open(DIR, { ...STALLY, writeBufferSize: 1024 * 1024, delayedWriteRate: 1024 * 1024, fs: gate });
    try {
      await addL0Tables(db, 3);
      await gate.whenWaiting();
      expect(db.stats().levels[0]!.files).toBe(3); // >= slowdown (3), < stop (5)
      const write = db.put('big', Buffer.alloc(size, 1));
      expect(await settledWithin(write, 1500), 'the write is still waiting while compaction is parked').toBe('done');
      expect(gate.waiting).toBe(1); // compaction really was still parked
      if (size > 1024) expect(db.stats().stalls.slowdownMs).toBeGreaterThan(30);
    } finally {
      gate.letThrough();
      await db.close();
    }
  });

  it('compactionRateLimit caps a compaction of large values', async () => {
    await withSeed('stalls rate limit large', async (rng) => {
      const limit = 2 * 1024 * 1024;
      const db = await DB.open(DIR, {
        writeBufferSize: 4 * 1024 * 1024, level0CompactionTrigger: 2, compression: 'none', compactionRateLimit: limit,
        fs: new MemFileSystem(),
      });
      try {
        // Two L0 tables of 100 random 8 KiB values: a ~1.6 MiB compaction of only 200 entries.
        for (let t = 0; t < 2; t++) {
          for (let i = 0; i < 100; i++) await db.put(`k${String(i).padStart(3, '0')}-${t}`, Buffer.from(rng.bytes(8192)));
          await db.flush();
        }
        const t0 = Date.now();
        while (db.stats().compactions.count === 0) {
          if (Date.now() - t0 > 20_000) throw new Error('compaction did not run');
          await new Promise((r) => setTimeout(r, 5));
        }
        const c = db.stats().compactions;
        expect(c.bytesWritten).toBeGreaterThan(1.5 * 1024 * 1024);
        // At 2 MiB/s, 1.6 MiB takes at least ~0.8 s (allowing the limiter a small burst).
        const minMs = (c.bytesWritten / limit) * 1000 * 0.75;
        expect(c.ms, `${c.bytesWritten} B written in ${c.ms.toFixed(0)} ms, limit ${limit} B/s`).toBeGreaterThan(minMs);
      } finally {
        await db.close();
      }
    });
  });
});
