/**
 * The compactionStyle option end to end (README "Compaction styles"): validation and the OPTIONS file,
 * FIFO drops by size cap and by age (exactly the oldest tables' keys vanish), tiered compactRange and
 * stats, and switching the style of an existing database at reopen (leveled -> tiered -> leveled,
 * FIFO -> tiered -> leveled, leveled -> FIFO). Each test has its own MemFileSystem; time is an injected clock.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, type Options } from '../../src/index.js';
import { makeRng, withSeed } from '../support/rng.js';

const DIR = '/db';
const key = (batch: number, i: number): string => `b${String(batch).padStart(2, '0')}-${String(i).padStart(4, '0')}`;
const value = (batch: number, i: number): string => `v${batch}-${i}-${'x'.repeat(40)}`;

/** Writes batch `b` (keys b<b>-0000 .. b<b>-<n-1>) and flushes it into one L0 table. */
async function writeTable(db: DB, b: number, n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await db.put(key(b, i), value(b, i));
  await db.flush();
}

/** Which batches are present whole, absent whole (a partly present batch fails the test). */
async function presentBatches(db: DB, batches: number, n = 50): Promise<number[]> {
  const present: number[] = [];
  for (let b = 0; b < batches; b++) {
    let found = 0;
    for (let i = 0; i < n; i++) {
      const v = await db.get(key(b, i));
      if (v !== undefined) { expect(v.toString()).toBe(value(b, i)); found++; }
    }
    expect([0, n], `batch ${b}: ${found} of ${n} keys`).toContain(found);
    if (found === n) present.push(b);
  }
  return present;
}

async function logText(fs: MemFileSystem): Promise<string> {
  return Buffer.from(await fs.readFile(`${DIR}/LOG`)).toString();
}

describe('compactionStyle options', () => {
  it('refuses a bad style, and options of another style, creating nothing', async () => {
    const fs = new MemFileSystem();
    const cases: [Options, RegExp][] = [
      [{ compactionStyle: 'universal' as never }, /compactionStyle must be 'leveled', 'tiered' or 'fifo'/],
      [{ fifoTtlMs: 1000 }, /fifoTtlMs must be given only with compactionStyle 'fifo'/],
      [{ compactionStyle: 'fifo', tieredSizeRatio: 5 }, /tieredSizeRatio must be given only with compactionStyle 'tiered'/],
      [{ compactionStyle: 'tiered', fifoAllowCompaction: true }, /fifoAllowCompaction must be given only with compactionStyle 'fifo'/],
      [{ compactionStyle: 'tiered', tieredMinMergeWidth: 4, tieredMaxMergeWidth: 3 }, /tieredMaxMergeWidth must be 0 \(no limit\) or >= tieredMinMergeWidth/],
      [{ compactionStyle: 'tiered', tieredMinMergeWidth: 1 }, /tieredMinMergeWidth must be between 2 and/],
      [{ compactionStyle: 'fifo', fifoMaxTableFilesSize: -1 }, /fifoMaxTableFilesSize must be between 0 and/],
      [{ compactionStyle: 'tiered', tieredMaxSizeAmplificationPercent: 0 }, /tieredMaxSizeAmplificationPercent must be between 1 and/],
    ];
    for (const [o, message] of cases) {
      const e = await DB.open(DIR, { ...o, fs }).then(() => undefined, (x: unknown) => x);
      expect(e).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      // NB: a RegExp inside toMatchObject() matches any string; check the message on its own.
      expect((e as Error).message).toMatch(message);
    }
    expect(await fs.exists(DIR)).toBe(false);
  });

  it('records the style and its options in the OPTIONS file and the LOG, and stats() names it', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { fs, compactionStyle: 'tiered', tieredSizeRatio: 7, tieredMaxMergeWidth: 5 });
    const stats = db.stats();
    expect(stats.compactionStyle).toBe('tiered');
    expect(stats.sortedRuns).toBe(0);
    expect(stats.fifoDrops).toEqual({ count: 0, files: 0, bytes: 0 });
    await db.close();
    const name = (await fs.list(DIR)).find((n) => n.startsWith('OPTIONS-'))!;
    const text = Buffer.from(await fs.readFile(`${DIR}/${name}`)).toString();
    for (const line of ['compactionStyle=tiered', 'tieredSizeRatio=7', 'tieredMinMergeWidth=2', 'tieredMaxMergeWidth=5',
      'tieredMaxSizeAmplificationPercent=200', `fifoMaxTableFilesSize=${1024 ** 3}`, 'fifoTtlMs=0', 'fifoAllowCompaction=false']) {
      expect(text.split('\n')).toContain(line);
    }
    expect(await logText(fs)).toContain('compactionStyle=tiered');
  });
});

describe('FIFO style', () => {
  it('drops exactly the oldest tables once the total passes fifoMaxTableFilesSize', async () => {
    // Table sizes first, from a run that drops nothing (tables are deterministic for a fixed clock).
    const base: Options = { compactionStyle: 'fifo', compression: 'none', clock: () => 1_000_000 };
    const sizes: number[] = [];
    {
      const fs = new MemFileSystem();
      const db = await DB.open(DIR, { ...base, fs });
      let before = 0;
      for (let b = 0; b < 6; b++) {
        await writeTable(db, b);
        const now = db.stats().levels[0]!.bytes;
        sizes.push(now - before);
        before = now;
      }
      await db.close();
    }
    const cap = sizes[3]! + sizes[4]! + sizes[5]!;
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { ...base, fs, fifoMaxTableFilesSize: cap });
    try {
      for (let b = 0; b < 6; b++) await writeTable(db, b);
      await db.compactRange(); // waits for the drops the picker finds
      expect(await presentBatches(db, 6)).toEqual([3, 4, 5]);
      const stats = db.stats();
      expect(stats.fifoDrops.files).toBe(3);
      expect(stats.fifoDrops.bytes).toBe(sizes[0]! + sizes[1]! + sizes[2]!);
      expect(stats.levels[0]!.bytes).toBeLessThanOrEqual(cap);
      expect(stats.compactions.count).toBe(0); // a drop is no compaction: nothing read or written
      const log = await logText(fs);
      expect(log).toMatch(/compaction done: fifo-drop \(size\) of 1 tables/);
    } finally {
      await db.close();
    }
  });

  it('drops tables whose newest write is older than fifoTtlMs, oldest first, also after a reopen', async () => {
    let now = 1_000;
    const fs = new MemFileSystem();
    const o: Options = { fs, compactionStyle: 'fifo', fifoTtlMs: 1_500, clock: () => now };
    let db = await DB.open(DIR, o);
    try {
      for (let b = 0; b < 4; b++) { now = 100 * (b + 1); await writeTable(db, b); } // flushed at 100 .. 400
      await db.close();
      db = await DB.open(DIR, o); // the write times come back from the MANIFEST
      now = 1_750; // cutoff 250: the tables flushed at 100 and 200 have expired
      await db.compactRange();
      expect(await presentBatches(db, 4)).toEqual([2, 3]);
      expect(db.stats().fifoDrops).toMatchObject({ count: 1, files: 2 });
      expect(await logText(fs)).toMatch(/fifo-drop \(ttl\) of 2 tables/);
      now = 10_000;
      await db.compactRange();
      expect(await presentBatches(db, 4)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('an expiry needs no write to trigger it: a timer wakes the picker when the next table expires', { timeout: 10_000 }, async () => {
    let now = 100;
    const fs = new MemFileSystem();
    // No idle compaction: its request would also wake the picker.
    const db = await DB.open(DIR, { fs, compactionStyle: 'fifo', fifoTtlMs: 50, idleCompactionDelayMs: 0, clock: () => now });
    try {
      const dropped = new Promise<{ reason: string; inputs: { level: number; files: number[] }[] }>((resolve) => {
        db.on('compaction', (e) => { if (e.phase === 'end' && e.reason === 'fifo-drop') resolve(e); });
      });
      await writeTable(db, 0); // flushed at 100: expires after 150
      await db.compactRange(); // every pick the flush asked for has run (nothing had expired); the timer is armed
      now = 1_000; // from here only the timer can ask the picker again
      const e = await dropped;
      expect(e.inputs).toEqual([{ level: 0, files: [expect.any(Number)] }]);
      expect(await presentBatches(db, 1)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('with fifoAllowCompaction, merges L0 into one table at the trigger and on compactRange', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { fs, compactionStyle: 'fifo', fifoAllowCompaction: true, level0CompactionTrigger: 3 });
    try {
      for (let b = 0; b < 2; b++) await writeTable(db, b);
      expect(db.stats().levels[0]!.files).toBe(2);
      await db.compactRange();
      expect(db.stats().levels[0]!.files).toBe(1);
      expect(db.stats().levels.slice(1).every((l) => l.files === 0)).toBe(true);
      expect(await presentBatches(db, 2)).toEqual([0, 1]);
    } finally {
      await db.close();
    }
  });

  it('never stalls writes on L0 files', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, {
      fs, compactionStyle: 'fifo', level0CompactionTrigger: 1, level0SlowdownTrigger: 1, level0StopTrigger: 2,
    });
    try {
      for (let b = 0; b < 6; b++) await writeTable(db, b, 5); // six L0 tables, far past the stop trigger
      expect(db.stats().levels[0]!.files).toBe(6);
      expect(db.stats().stalls).toEqual({ slowdownMs: 0, stopMs: 0 });
    } finally {
      await db.close();
    }
  });
});

describe('tiered style', () => {
  it('compactRange merges every sorted run into one at the last level; stats count the runs', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open(DIR, { fs, compactionStyle: 'tiered', level0CompactionTrigger: 100, level0SlowdownTrigger: 100, level0StopTrigger: 100 });
    try {
      for (let b = 0; b < 5; b++) await writeTable(db, b);
      expect(db.stats().sortedRuns).toBe(5);
      await db.compactRange();
      const stats = db.stats();
      expect(stats.sortedRuns).toBe(1);
      expect(stats.levels[6]!.files).toBeGreaterThan(0);
      expect(await presentBatches(db, 5)).toEqual([0, 1, 2, 3, 4]);
      expect(await logText(fs)).toMatch(/compaction done: L0 -> L6 .*reason=manual.*; 1 sorted runs/);
    } finally {
      await db.close();
    }
  });
});

/** The data both before and after a style switch: a Map of the last value per key. */
async function checkModel(db: DB, model: Map<string, string>): Promise<void> {
  const got = new Map<string, string>();
  for await (const [k, v] of db.iterator()) got.set(k.toString(), v.toString());
  expect(got.size).toBe(model.size);
  for (const [k, v] of model) expect(got.get(k), k).toBe(v);
}

/** Random puts and deletes over 400 keys with tiny levels, so data spreads over several levels. */
async function churn(db: DB, model: Map<string, string>, seed: number, ops: number): Promise<void> {
  const rng = makeRng(seed);
  for (let i = 0; i < ops; i++) {
    const k = `k${String(rng.int(400)).padStart(4, '0')}`;
    if (rng.int(5) === 0) { await db.delete(k); model.delete(k); } else {
      const v = `${seed}-${i}-${'y'.repeat(rng.int(60))}`;
      await db.put(k, v);
      model.set(k, v);
    }
  }
}

const SMALL: Options = {
  writeBufferSize: 8 * 1024, targetFileSize: 4 * 1024, maxBytesForLevelBase: 8 * 1024, levelMultiplier: 2,
  level0CompactionTrigger: 2, numLevels: 5, blockSize: 256,
};

describe('switching the style at reopen', () => {
  it('leveled -> tiered: the levels become sorted runs; tiered -> leveled: the leveled picker takes over', async () => {
    await withSeed('leveled -> tiered -> leveled', async (rng) => {
      const fs = new MemFileSystem();
      const model = new Map<string, string>();
      let db = await DB.open(DIR, { ...SMALL, fs });
      await churn(db, model, rng.int(1e9), 1500);
      await db.flush();
      const deep = db.stats().levels.filter((l) => l.level > 0 && l.files > 0).length;
      expect(deep).toBeGreaterThanOrEqual(2);
      await db.close();

      db = await DB.open(DIR, { ...SMALL, fs, compactionStyle: 'tiered' });
      // Before anything awaits: the tiered picker may merge these runs as soon as it gets a turn
      // (with as many runs as the trigger), and on a slow machine it finishes during checkModel.
      expect(db.stats().sortedRuns).toBeGreaterThanOrEqual(deep);
      await checkModel(db, model);
      await churn(db, model, rng.int(1e9), 1500);
      await checkModel(db, model);
      await db.compactRange();
      expect(db.stats().sortedRuns).toBe(1);
      await checkModel(db, model);
      await churn(db, model, rng.int(1e9), 1000);
      await db.close();

      db = await DB.open(DIR, { ...SMALL, fs });
      await checkModel(db, model);
      await churn(db, model, rng.int(1e9), 1000);
      await db.compactRange();
      expect(db.stats().levels[0]!.files).toBe(0);
      await checkModel(db, model);
      await db.close();
    });
  });

  it('FIFO -> tiered -> leveled: a pile of L0 tables becomes sorted runs, then the leveled picker drains L0', async () => {
    const fs = new MemFileSystem();
    const o: Options = { ...SMALL, writeBufferSize: 64 * 1024 }; // one table per writeTable()
    let db = await DB.open(DIR, { ...o, fs, compactionStyle: 'fifo' });
    for (let b = 0; b < 8; b++) await writeTable(db, b, 30);
    expect(db.stats().levels[0]!.files).toBe(8);
    await db.close();
    db = await DB.open(DIR, { ...o, fs, compactionStyle: 'tiered' });
    await db.compactRange();
    expect(db.stats().sortedRuns).toBe(1);
    expect(await presentBatches(db, 8, 30)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (let b = 8; b < 12; b++) await writeTable(db, b, 30);
    await db.close();
    db = await DB.open(DIR, { ...o, fs });
    try {
      await db.compactRange();
      expect(db.stats().levels[0]!.files).toBe(0);
      expect(await presentBatches(db, 12, 30)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    } finally {
      await db.close();
    }
  });

  it('leveled -> FIFO: the deepest level is dropped first, so no overwritten or deleted value comes back', async () => {
    const fs = new MemFileSystem();
    let db = await DB.open(DIR, { ...SMALL, fs });
    // Old values of every key, compacted to the bottom; then new values for half the keys and
    // deletions of a quarter, which stay above them.
    for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(4, '0')}`, `old-${i}`);
    await db.compactRange();
    const bottom = db.stats().levels.filter((l) => l.files > 0).map((l) => l.level);
    expect(bottom).toEqual([Math.max(...bottom)]);
    await db.close();
    // No compaction now: the new values and the deletions stay in L0, above the old values.
    db = await DB.open(DIR, { ...SMALL, fs, level0CompactionTrigger: 100, level0SlowdownTrigger: 100, level0StopTrigger: 100 });
    for (let i = 0; i < 200; i += 2) await db.put(`k${String(i).padStart(4, '0')}`, `new-${i}`);
    for (let i = 1; i < 200; i += 4) await db.delete(`k${String(i).padStart(4, '0')}`);
    await db.flush();
    expect(db.stats().levels.filter((l) => l.files > 0).map((l) => l.level)).toEqual([0, ...bottom]);
    const bottomLevel = bottom[0]!;
    const bottomBytes = db.stats().levels[bottomLevel]!.bytes;
    const total = db.stats().levels.reduce((a, l) => a + l.bytes, 0);
    await db.close();

    db = await DB.open(DIR, { ...SMALL, fs, compactionStyle: 'fifo', fifoMaxTableFilesSize: total - bottomBytes });
    try {
      await db.compactRange();
      expect(db.stats().levels[bottomLevel]!.files).toBe(0);
      for (let i = 0; i < 200; i++) {
        const v = (await db.get(`k${String(i).padStart(4, '0')}`))?.toString();
        // New values stay; nothing shows an old value, and deleted keys stay deleted.
        if (i % 2 === 0) expect(v).toBe(`new-${i}`);
        else expect(v).toBeUndefined();
      }
    } finally {
      await db.close();
    }
  });
});
