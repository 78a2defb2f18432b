/**
 * Model-based test of the engine (LevelDB's ModelDB/Randomized): fast-check command sequences of
 * put, delete, deleteRange (alone, and inside batches among puts and deletes), get, getMany,
 * forward/reverse bounded scans, seeks inside a scan, iterators left open across later writes,
 * flushes and compactions (read a few rows at a time), snapshots (read and released), flush,
 * compactRange and reopen, against a sorted in-memory model with snapshot copies. Tiny write buffers,
 * blocks and level targets so flushes, multi-block tables and automatic compactions (which carry
 * range tombstones down, cut files inside them and drop them at the bottom) happen constantly. The
 * seed is printed on failure (fast-check reports it with the shrunk counterexample).
 */
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, WriteBatch, staticKeyProvider, type Snapshot } from '../../src/index.js';
import { randomBytes } from 'node:crypto';
import { Model, type ScanOptions } from '../support/model.js';

/** An iterator left open across later commands: it must keep reading the state of its creation. */
interface OpenIter { it: ReturnType<DB['iterator']> }
interface Real { db: DB; fs: MemFileSystem; snaps: Snapshot[]; iters: OpenIter[]; options: Record<string, unknown> }
/** For each open iterator: the rows it must still yield, in order. */
interface ModelState { m: Model; snaps: Model[]; iters: string[][] }

const DIR = '/db';
const keyArb = fc.oneof(
  fc.constantFrom(...Array.from({ length: 24 }, (_, i) => Buffer.from(`k${String(i).padStart(2, '0')}`))),
  fc.uint8Array({ minLength: 0, maxLength: 5 }).map((a) => Buffer.from(a)),
);
const fixedKey = (i: number): Buffer => Buffer.from(`k${String(i).padStart(2, '0')}`);
/**
 * Range ends: mostly a few neighbouring fixed keys (a delete of everything leaves the levels
 * empty), sometimes any two keys (the empty key, prefixes, most of the key space).
 */
const rangeArb: fc.Arbitrary<[Buffer, Buffer]> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.nat({ max: 23 }), fc.integer({ min: 1, max: 6 })).map(([i, n]): [Buffer, Buffer] => [fixedKey(i), fixedKey(i + n)]) },
  { weight: 1, arbitrary: fc.tuple(keyArb, keyArb) },
);
const valueArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 40 }),
  fc.uint8Array({ minLength: 200, maxLength: 700 }),
).map((a) => Buffer.from(a));

const show = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function scanDb(db: DB, o: ScanOptions & { snapshot?: Snapshot }): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.iterator(o)) out.push(`${show(k)}=${show(v)}`);
  return out;
}
const scanModel = (m: Model, o: ScanOptions): string[] => m.scan(o).map(([k, v]) => `${show(k)}=${show(v)}`);

const showScan = (o: ScanOptions): string =>
  JSON.stringify(o, (_k, v) => (v instanceof Uint8Array || (v && v.type === 'Buffer') ? show(Buffer.from(v.data ?? v)) : v));

type Cmd = fc.AsyncCommand<ModelState, Real>;

const put = (k: Buffer, v: Buffer): Cmd => ({
  check: () => true,
  async run(s, r) { await r.db.put(k, v); s.m.put(k, v); },
  toString: () => `put(${show(k)}, ${v.length}B)`,
});
const del = (k: Buffer): Cmd => ({
  check: () => true,
  async run(s, r) { await r.db.delete(k); s.m.delete(k); },
  toString: () => `delete(${show(k)})`,
});
/** [lo, hi) with lo < hi; an empty or inverted pair must be refused and change nothing. */
const deleteRange = (a: Buffer, b: Buffer): Cmd => ({
  check: () => true,
  async run(s, r) {
    if (Buffer.compare(a, b) >= 0) {
      await expect(r.db.deleteRange(a, b)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      return;
    }
    await r.db.deleteRange(a, b);
    s.m.deleteRange(a, b);
  },
  toString: () => `deleteRange(${show(a)}, ${show(b)})`,
});
/** One batch operation: a put (v), a delete (neither), or a range delete [k, end). */
interface BatchOp { k: Buffer; v?: Buffer | undefined; end?: Buffer | undefined }
const batch = (ops: BatchOp[]): Cmd => ({
  check: () => true,
  async run(s, r) {
    const b = new WriteBatch();
    for (const { k, v, end } of ops) end ? b.deleteRange(k, end) : v ? b.put(k, v) : b.delete(k);
    await r.db.write(b);
    for (const { k, v, end } of ops) end ? s.m.deleteRange(k, end) : v ? s.m.put(k, v) : s.m.delete(k);
  },
  toString: () => `batch(${ops.map(({ k, v, end }) => (end ? `delRange ${show(k)}..${show(end)}` : v ? `put ${show(k)}` : `del ${show(k)}`)).join(', ')})`,
});
const get = (k: Buffer): Cmd => ({
  check: () => true,
  async run(s, r) {
    const got = await r.db.get(k);
    const want = s.m.get(k);
    expect(got === undefined ? undefined : show(got)).toEqual(want === undefined ? undefined : show(want));
  },
  toString: () => `get(${show(k)})`,
});
const getMany = (ks: Buffer[]): Cmd => ({
  check: () => true,
  async run(s, r) {
    const got = await r.db.getMany(ks);
    expect(got.map((g) => (g === undefined ? null : show(g)))).toEqual(ks.map((k) => {
      const w = s.m.get(k);
      return w === undefined ? null : show(w);
    }));
  },
  toString: () => `getMany(${ks.length})`,
});
const scan = (o: ScanOptions): Cmd => ({
  check: () => true,
  async run(s, r) { expect(await scanDb(r.db, o)).toEqual(scanModel(s.m, o)); },
  toString: () => `scan(${showScan(o)})`,
});
/**
 * A bounded scan that reads `before` entries, seeks to `target`, then reads the rest: after the
 * seek it yields the in-bounds keys at or after the target (at or before it in reverse).
 */
const seekScan = (o: ScanOptions, before: number, target: Buffer, snapIndex: number | undefined): Cmd => ({
  check: () => true,
  async run(s, r) {
    const j = snapIndex === undefined || s.snaps.length === 0 ? undefined : snapIndex % s.snaps.length;
    const m = j === undefined ? s.m : s.snaps[j]!;
    const it = r.db.iterator({ ...o, ...(j === undefined ? {} : { snapshot: r.snaps[j]! }) });
    try {
      const all = scanModel(m, o);
      const head: string[] = [];
      for (let i = 0; i < before; i++) {
        const n = await it.next();
        if (n.done) break;
        head.push(`${show(n.value[0])}=${show(n.value[1])}`);
      }
      expect(head).toEqual(all.slice(0, before));
      if (head.length < before) return; // ended: the iterator let go, seek() is ERR_CLOSED by contract
      it.seek(target);
      const tail: string[] = [];
      for await (const [k, v] of it) tail.push(`${show(k)}=${show(v)}`);
      const t = show(target);
      expect(tail).toEqual(all.filter((e) => {
        const k = e.slice(0, e.indexOf('='));
        const c = Buffer.compare(Buffer.from(k, 'hex'), Buffer.from(t, 'hex'));
        return o.reverse ? c <= 0 : c >= 0;
      }));
    } finally {
      await it.close();
    }
  },
  toString: () => `seekScan(${showScan(o)}, ${before}, ${show(target)}, snap ${snapIndex ?? '-'})`,
});
/** Opens an iterator and leaves it open: later writes, flushes and compactions must not change it. */
const openIter = (o: ScanOptions): Cmd => ({
  check: (s) => s.iters.length < 3,
  async run(s, r) { r.iters.push({ it: r.db.iterator(o) }); s.iters.push(scanModel(s.m, o)); },
  toString: () => `openIter(${showScan(o)})`,
});
/** Reads up to n rows from an open iterator (closing it once exhausted). */
const stepIter = (i: number, n: number): Cmd => ({
  check: (s) => s.iters.length > 0,
  async run(s, r) {
    const j = i % s.iters.length;
    const { it } = r.iters[j]!;
    const want = s.iters[j]!;
    const got: string[] = [];
    let done = false;
    while (got.length < n) {
      const x = await it.next();
      if (x.done) { done = true; break; }
      got.push(`${show(x.value[0])}=${show(x.value[1])}`);
    }
    expect(got).toEqual(want.slice(0, n));
    want.splice(0, got.length);
    if (done) {
      expect(want).toEqual([]);
      r.iters.splice(j, 1);
      s.iters.splice(j, 1);
    }
  },
  toString: () => `stepIter(${i}, ${n})`,
});
const takeSnapshot = (): Cmd => ({
  check: (s) => s.snaps.length < 6,
  async run(s, r) { r.snaps.push(r.db.snapshot()); s.snaps.push(s.m.clone()); },
  toString: () => 'snapshot()',
});
const readSnapshot = (i: number, k: Buffer, o: ScanOptions): Cmd => ({
  check: (s) => s.snaps.length > 0,
  async run(s, r) {
    const j = i % s.snaps.length;
    const snap = r.snaps[j]!;
    const m = s.snaps[j]!;
    const got = await r.db.get(k, { snapshot: snap });
    const want = m.get(k);
    expect(got === undefined ? undefined : show(got)).toEqual(want === undefined ? undefined : show(want));
    expect(await scanDb(r.db, { ...o, snapshot: snap })).toEqual(scanModel(m, o));
  },
  toString: () => `readSnapshot(${i}, ${show(k)})`,
});
const releaseSnapshot = (i: number): Cmd => ({
  check: (s) => s.snaps.length > 0,
  async run(s, r) {
    const j = i % s.snaps.length;
    r.snaps.splice(j, 1)[0]!.release();
    s.snaps.splice(j, 1);
  },
  toString: () => `release(${i})`,
});
/** Depth is sampled before flushes and compactions too: a wide range delete can empty the deep levels. */
const noteDepth = (db: DB): void => {
  db.stats().levels.forEach((l) => { if (l.files > 0) deepestLevel = Math.max(deepestLevel, l.level); });
};
const flush = (): Cmd => ({
  check: () => true,
  async run(_s, r) { noteDepth(r.db); await r.db.flush(); },
  toString: () => 'flush()',
});
const compact = (lo: Buffer | undefined, hi: Buffer | undefined): Cmd => ({
  check: () => true,
  async run(_s, r) { noteDepth(r.db); await r.db.compactRange(lo, hi); },
  toString: () => `compactRange(${lo ? show(lo) : '-'}, ${hi ? show(hi) : '-'})`,
});
/** Encrypted configurations only: the provider names a fresh key and the database rotates to it. */
const rotate = (rewrite: boolean): Cmd => ({
  check: () => true,
  async run(_s, r) {
    const p = (r.options['encryption'] as { keyProvider?: ReturnType<typeof staticKeyProvider> } | undefined)?.keyProvider;
    if (!p) return;
    const id = `k${++keyCounter}`;
    p.add(id, randomBytes(32));
    p.setCurrent(id);
    const res = await r.db.rotateKey({ rewrite });
    expect(res.keyId).toBe(id);
    if (rewrite) expect(Object.keys(r.db.stats().encryption.keyIdsInUse).filter((k) => k !== id)).toEqual([]);
  },
  toString: () => `rotateKey(${rewrite ? 'rewrite' : ''})`,
});
let keyCounter = 0;

const reopen = (): Cmd => ({
  check: () => true,
  async run(s, r) {
    for (const snap of r.snaps) snap.release();
    r.snaps = [];
    s.snaps = [];
    for (const { it } of r.iters) await it.close();
    r.iters = [];
    s.iters = [];
    compactions += r.db.stats().compactions.count;
    noteDepth(r.db);
    await r.db.close();
    r.db = await DB.open(DIR, { ...r.options, fs: r.fs });
  },
  toString: () => 'reopen()',
});

const boundsArb: fc.Arbitrary<ScanOptions> = fc.record({
  gt: fc.option(keyArb, { nil: undefined }),
  gte: fc.option(keyArb, { nil: undefined }),
  lt: fc.option(keyArb, { nil: undefined }),
  lte: fc.option(keyArb, { nil: undefined }),
  reverse: fc.boolean(),
  limit: fc.option(fc.oneof(fc.integer({ min: -1, max: 30 }), fc.constant(Infinity)), { nil: undefined }),
}, { requiredKeys: ['reverse'] }).map((o) => {
  const out: ScanOptions = { reverse: o.reverse };
  // keep scans meaningful: use at most one bound per side
  if (o.gte) out.gte = o.gte; else if (o.gt) out.gt = o.gt;
  if (o.lt) out.lt = o.lt; else if (o.lte) out.lte = o.lte;
  if (o.limit !== undefined) out.limit = o.limit;
  return out;
});

const commands = fc.commands([
  fc.tuple(keyArb, valueArb).map(([k, v]) => put(k, v)),
  fc.tuple(keyArb, valueArb).map(([k, v]) => put(k, v)),
  keyArb.map(del),
  fc.array(fc.record({ k: keyArb, v: fc.option(valueArb, { nil: undefined }) }), { minLength: 1, maxLength: 12 }).map(batch),
  rangeArb.map(([a, b]) => deleteRange(a, b)),
  fc.array(fc.oneof(
    fc.record({ k: keyArb, v: fc.option(valueArb, { nil: undefined }) }),
    rangeArb.filter(([a, b]) => Buffer.compare(a, b) !== 0)
      .map(([a, b]) => (Buffer.compare(a, b) < 0 ? { k: a, end: b } : { k: b, end: a })),
  ), { minLength: 1, maxLength: 12 }).map(batch),
  keyArb.map(get),
  fc.array(keyArb, { maxLength: 6 }).map(getMany),
  boundsArb.map(scan),
  fc.tuple(boundsArb, fc.nat({ max: 4 }), keyArb, fc.option(fc.nat(), { nil: undefined }))
    .map(([{ limit: _limit, ...o }, n, t, j]) => seekScan(o, n, t, j)),
  boundsArb.map(({ limit: _limit, ...o }) => openIter(o)),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 })).map(([i, n]) => stepIter(i, n)),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 })).map(([i, n]) => stepIter(i, n)),
  fc.constant(null).map(takeSnapshot),
  fc.tuple(fc.nat(), keyArb, boundsArb).map(([i, k, o]) => readSnapshot(i, k, o)),
  fc.nat().map(releaseSnapshot),
  fc.constant(null).map(flush),
  fc.tuple(fc.option(keyArb, { nil: undefined }), fc.option(keyArb, { nil: undefined })).map(([a, b]) => compact(a, b)),
  fc.constant(null).map(reopen),
  fc.boolean().map(rotate),
], { maxCommands: 400, size: 'max' });

/** MODEL_SCALE=n multiplies every configuration's run count (a longer hunt than the default suite's). */
const SCALE = Math.max(1, Number(process.env['MODEL_SCALE'] ?? 1));

let executed = 0;
let compactions = 0;
let deepestLevel = 0;

async function runModel(options: Record<string, unknown>, numRuns: number): Promise<{ compactions: number; deepestLevel: number }> {
  executed = 0;
  compactions = 0;
  deepestLevel = 0;
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const fs = new MemFileSystem();
      const real: Real = { db: await DB.open(DIR, { ...options, fs }), fs, snaps: [], iters: [], options };
      try {
        await fc.asyncModelRun(() => ({ model: { m: new Model(), snaps: [], iters: [] }, real }), cmds);
        executed += [...cmds].length;
        // Finally: everything survives a clean reopen.
      } finally {
        for (const { it } of real.iters) await it.close();
        compactions += real.db.stats().compactions.count;
        noteDepth(real.db);
        await real.db.close();
      }
    }),
    { numRuns: numRuns * SCALE, ...(process.env['SEED'] ? { seed: Number(process.env['SEED']) } : {}) },
  );
  // The property must have exercised the engine for real, not a handful of commands.
  expect(executed).toBeGreaterThan(numRuns * SCALE * 50);
  return { compactions, deepestLevel };
}

// Longer hunts (MODEL_SCALE) get a timeout to match.
vi.setConfig({ testTimeout: 60_000 * SCALE });

describe('DB against a sorted model', () => {
  it('tiny buffers: constant flushes, multi-block tables (lz4)', async () => {
    await runModel({ writeBufferSize: 16 * 1024, blockSize: 256, blockRestartInterval: 2 }, 25);
  });
  it('no compression, no bloom filter, restart interval 1', async () => {
    await runModel({ writeBufferSize: 12 * 1024, blockSize: 64, blockRestartInterval: 1, bloomBitsPerKey: 0, compression: 'none' }, 15);
  });
  it('zstd tables (async codec path)', async () => {
    await runModel({ writeBufferSize: 16 * 1024, blockSize: 512, compression: 'zstd' }, 10);
  });
  it('compaction through every level (tiny targets), snapshots held across compactions', async () => {
    const r = await runModel({
      writeBufferSize: 8 * 1024, targetFileSize: 4 * 1024, maxBytesForLevelBase: 8 * 1024, levelMultiplier: 2,
      level0CompactionTrigger: 2, level0SlowdownTrigger: 4, level0StopTrigger: 8, blockSize: 256, numLevels: 5,
    }, 20);
    expect(r.compactions).toBeGreaterThan(40);
    expect(r.deepestLevel).toBeGreaterThanOrEqual(2);
  });
  it('dynamic level sizing, zstd in the last levels', async () => {
    const r = await runModel({
      writeBufferSize: 8 * 1024, targetFileSize: 4 * 1024, maxBytesForLevelBase: 8 * 1024, levelMultiplier: 3,
      level0CompactionTrigger: 2, levelCompactionDynamicLevelBytes: true, numLevels: 4,
      compressionPerLevel: ['none', 'lz4', 'zstd', 'zstd'],
    }, 10);
    expect(r.compactions).toBeGreaterThan(10);
  });
  it('encryption at rest (AES-256-GCM), compaction through the levels, key rotations mixed in', async () => {
    const r = await runModel({
      writeBufferSize: 8 * 1024, targetFileSize: 4 * 1024, maxBytesForLevelBase: 8 * 1024, levelMultiplier: 2,
      level0CompactionTrigger: 2, blockSize: 256, numLevels: 4,
      encryption: { keyProvider: staticKeyProvider({ k0: randomBytes(32) }, 'k0') },
    }, 12);
    expect(r.compactions).toBeGreaterThan(10);
  });
  it('L0 piles up: many small L0 files whose range tombstones overlap, compacted in wide merges', async () => {
    const r = await runModel({
      writeBufferSize: 4 * 1024, targetFileSize: 4 * 1024, maxBytesForLevelBase: 16 * 1024, levelMultiplier: 2,
      level0CompactionTrigger: 6, level0SlowdownTrigger: 10, level0StopTrigger: 16, blockSize: 128, numLevels: 4,
    }, 10);
    expect(r.compactions).toBeGreaterThan(5);
  });
  it('large buffers: everything in memtables', async () => {
    await runModel({}, 10);
  });
  // Compaction styles (README "Compaction styles"): the same properties with the tiered and FIFO pickers.
  it('tiered style: sorted runs merged by size ratio and amplification, across levels, snapshots held', async () => {
    const r = await runModel({
      compactionStyle: 'tiered', writeBufferSize: 8 * 1024, targetFileSize: 4 * 1024, blockSize: 256, numLevels: 5,
      level0CompactionTrigger: 2, level0SlowdownTrigger: 6, level0StopTrigger: 12, tieredMaxSizeAmplificationPercent: 50,
    }, 20);
    expect(r.compactions).toBeGreaterThan(40);
    expect(r.deepestLevel).toBe(4);
  });
  it('tiered style: wide merges (ratio 20, at most 3 runs), L0 outputs between L0 tables', async () => {
    const r = await runModel({
      compactionStyle: 'tiered', writeBufferSize: 4 * 1024, blockSize: 128, numLevels: 3, level0CompactionTrigger: 3,
      level0SlowdownTrigger: 10, level0StopTrigger: 20, tieredSizeRatio: 20, tieredMaxMergeWidth: 3,
    }, 15);
    expect(r.compactions).toBeGreaterThan(20);
  });
  it('FIFO style under its size cap (nothing dropped), intra-L0 merges on', async () => {
    const r = await runModel({
      compactionStyle: 'fifo', writeBufferSize: 8 * 1024, blockSize: 256, level0CompactionTrigger: 3,
      targetFileSize: 16 * 1024, fifoAllowCompaction: true,
    }, 15);
    expect(r.compactions).toBeGreaterThan(10);
  });
  it('tiered style, encrypted: key rotations rewrite stale tables in place, each keeping its run', async () => {
    const r = await runModel({
      compactionStyle: 'tiered', writeBufferSize: 8 * 1024, targetFileSize: 4 * 1024, blockSize: 256, numLevels: 4,
      level0CompactionTrigger: 2, encryption: { keyProvider: staticKeyProvider({ k0: randomBytes(32) }, 'k0') },
    }, 8);
    expect(r.compactions).toBeGreaterThan(10);
  });
  it('FIFO style under its size cap, no merges: L0 only grows', async () => {
    await runModel({ compactionStyle: 'fifo', writeBufferSize: 8 * 1024, blockSize: 256 }, 10);
  });
});
