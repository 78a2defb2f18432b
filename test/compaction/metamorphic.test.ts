/**
 * Metamorphic runs (Pebble's metamorphic/): ONE seeded operation log (puts, deletes, range deletes of
 * one key, tens of keys or most of the key space, batches mixing all three, gets, bounded scans,
 * snapshots read long after they were taken, flushes, compactRange calls, reopens) is
 * run under configurations that must not change what a user observes: inline vs worker executor
 * (the worker needs the real file system), codecs none/lz4/zstd, bloom filters on/off, 64 B vs 4 KiB
 * blocks, tiny vs larger vs huge write buffers, static vs dynamic level sizing, compactions split
 * into subcompactions or not (inline and in workers). Each run records the
 * result of every read; all histories must equal the history of the sorted in-memory model
 * (test/support/model.ts), hence each other. On a mismatch the message names the configuration, the
 * first differing read, the operation that produced it, and the seed (SEED= replays it).
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, WriteBatch, type Options, type Snapshot } from '../../src/index.js';
import { Model, type ScanOptions } from '../support/model.js';
import { makeRng, testSeed, withSeed, type Rng } from '../support/rng.js';
import { shmTempDir } from '../support/shm-tmpdir.js';

/** A batch operation: put (v), delete (neither), or range delete [k, end). */
interface BatchOp { k: Buffer; v?: Buffer | undefined; end?: Buffer | undefined }

type Op =
  | { t: 'put'; k: Buffer; v: Buffer }
  | { t: 'delete'; k: Buffer }
  | { t: 'deleteRange'; k: Buffer; end: Buffer }
  | { t: 'batch'; ops: BatchOp[] }
  | { t: 'get'; k: Buffer; snap?: number }
  | { t: 'scan'; o: ScanOptions; snap?: number }
  | { t: 'snapshot' }
  | { t: 'release'; snap: number }
  | { t: 'flush' }
  | { t: 'compact'; lo: Buffer | undefined; hi: Buffer | undefined }
  | { t: 'reopen' };

const KEY_SPACE = 600;

const keyAt = (i: number): Buffer => Buffer.from(`key${String(i).padStart(5, '0')}`);

function key(rng: Rng): Buffer {
  return keyAt(rng.int(KEY_SPACE));
}

/**
 * A range of one key, tens of keys, or most of the key space (whole tables, whole levels), sometimes
 * starting before the first key or ending after the last one.
 */
function range(rng: Rng): { k: Buffer; end: Buffer } {
  // Wide ranges are rare (each empties most of the database) and the others short, so that the
  // levels still fill: a log that deletes as fast as it writes never reaches the deep levels.
  const r = rng.int(20);
  const span = r < 8 ? 1 : r < 19 ? 5 + rng.int(20) : KEY_SPACE / 2 + rng.int(KEY_SPACE / 2);
  const start = rng.int(KEY_SPACE);
  const k = rng.int(8) === 0 ? Buffer.from('key') : keyAt(start);
  const end = start + span >= KEY_SPACE || rng.int(8) === 0 ? Buffer.from('kez') : keyAt(start + span);
  return Buffer.compare(k, end) < 0 ? { k, end } : { k: Buffer.from('key'), end };
}

function value(rng: Rng): Buffer {
  const len = rng.pick([0, 8, 40, 120, 300]) + rng.int(8);
  // Half compressible (a repeated byte), half random: codecs see both.
  return rng.int(2) === 0 ? Buffer.alloc(len, 97 + rng.int(26)) : Buffer.from(rng.bytes(len));
}

/** The operation log. Snapshot ops refer to snapshots by their index in creation order since the last reopen. */
function generate(rng: Rng, n: number): Op[] {
  const ops: Op[] = [];
  let snaps = 0;
  let live: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.int(1000);
    const snap = live.length > 0 && rng.int(3) === 0 ? rng.pick(live) : undefined;
    if (r < 440) ops.push({ t: 'put', k: key(rng), v: value(rng) });
    else if (r < 510) ops.push({ t: 'delete', k: key(rng) });
    else if (r < 530) ops.push({ t: 'deleteRange', ...range(rng) });
    else if (r < 620) {
      const b = Array.from({ length: 1 + rng.int(12) }, (): BatchOp => {
        const c = rng.int(20);
        return c === 0 ? range(rng) : { k: key(rng), v: c < 5 ? undefined : value(rng) };
      });
      ops.push({ t: 'batch', ops: b });
    } else if (r < 820) ops.push({ t: 'get', k: key(rng), ...(snap === undefined ? {} : { snap }) });
    else if (r < 910) {
      const o: ScanOptions = { reverse: rng.int(2) === 0 };
      if (rng.int(2) === 0) o.gte = key(rng);
      if (rng.int(2) === 0) o.lt = key(rng);
      if (rng.int(4) > 0) o.limit = rng.int(40);
      ops.push({ t: 'scan', o, ...(snap === undefined ? {} : { snap }) });
    } else if (r < 950) {
      if (live.length < 5) { ops.push({ t: 'snapshot' }); live.push(snaps++); }
    } else if (r < 980) {
      if (live.length > 0) {
        const s = rng.pick(live);
        ops.push({ t: 'release', snap: s });
        live = live.filter((x) => x !== s);
      }
    } else if (r < 991) ops.push({ t: 'flush' });
    else if (r < 998) {
      const a = rng.int(3) === 0 ? undefined : key(rng);
      const b = rng.int(3) === 0 ? undefined : key(rng);
      ops.push({ t: 'compact', lo: a && b && Buffer.compare(a, b) > 0 ? b : a, hi: a && b && Buffer.compare(a, b) > 0 ? a : b });
    } else {
      ops.push({ t: 'reopen' });
      snaps = 0;
      live = [];
    }
  }
  return ops;
}

const hex = (b: Uint8Array | undefined): string => (b === undefined ? '-' : Buffer.from(b).toString('hex'));

/** The engine interface a run needs; implemented by the model and by the database. */
interface Subject {
  put(k: Buffer, v: Buffer): Promise<void>;
  del(k: Buffer): Promise<void>;
  deleteRange(k: Buffer, end: Buffer): Promise<void>;
  batch(ops: BatchOp[]): Promise<void>;
  get(k: Buffer, snap: number | undefined): Promise<string>;
  scan(o: ScanOptions, snap: number | undefined): Promise<string>;
  snapshot(): void;
  release(snap: number): void;
  flush(): Promise<void>;
  compact(lo: Buffer | undefined, hi: Buffer | undefined): Promise<void>;
  reopen(): Promise<void>;
}

async function replay(ops: readonly Op[], s: Subject): Promise<{ history: string[]; opOf: number[] }> {
  const history: string[] = [];
  const opOf: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    switch (op.t) {
      case 'put': await s.put(op.k, op.v); break;
      case 'delete': await s.del(op.k); break;
      case 'deleteRange': await s.deleteRange(op.k, op.end); break;
      case 'batch': await s.batch(op.ops); break;
      case 'get': history.push(await s.get(op.k, op.snap)); opOf.push(i); break;
      case 'scan': history.push(await s.scan(op.o, op.snap)); opOf.push(i); break;
      case 'snapshot': s.snapshot(); break;
      case 'release': s.release(op.snap); break;
      case 'flush': await s.flush(); break;
      case 'compact': await s.compact(op.lo, op.hi); break;
      case 'reopen': await s.reopen(); break;
    }
  }
  return { history, opOf };
}

function modelSubject(): Subject {
  const m = new Model();
  let snaps = new Map<number, Model>();
  let next = 0;
  return {
    put: async (k, v) => m.put(k, v),
    del: async (k) => m.delete(k),
    deleteRange: async (k, end) => m.deleteRange(k, end),
    batch: async (ops) => { for (const { k, v, end } of ops) (end ? m.deleteRange(k, end) : v ? m.put(k, v) : m.delete(k)); },
    get: async (k, snap) => hex((snap === undefined ? m : snaps.get(snap)!).get(k)),
    scan: async (o, snap) => (snap === undefined ? m : snaps.get(snap)!).scan(o).map(([k, v]) => `${hex(k)}=${hex(v)}`).join(','),
    snapshot: () => { snaps.set(next++, m.clone()); },
    release: (snap) => { snaps.delete(snap); },
    flush: async () => undefined,
    compact: async () => undefined,
    reopen: async () => { snaps = new Map(); next = 0; },
  };
}

async function dbSubject(dir: string, options: Options): Promise<{ subject: Subject; finish(): Promise<{ compactions: number; deepest: number }> }> {
  let db = await DB.open(dir, options);
  let snaps = new Map<number, Snapshot>();
  let next = 0;
  let compactions = 0;
  let deepest = 0;
  const deepen = (): void => {
    for (const l of db.stats().levels) if (l.files > 0) deepest = Math.max(deepest, l.level);
  };
  const tally = (): void => {
    compactions += db.stats().compactions.count;
    deepen();
  };
  const subject: Subject = {
    put: (k, v) => db.put(k, v),
    del: (k) => db.delete(k),
    deleteRange: (k, end) => db.deleteRange(k, end),
    batch: (ops) => {
      const b = new WriteBatch();
      for (const { k, v, end } of ops) (end ? b.deleteRange(k, end) : v ? b.put(k, v) : b.delete(k));
      return db.write(b);
    },
    get: async (k, snap) => hex(await db.get(k, snap === undefined ? undefined : { snapshot: snaps.get(snap)! })),
    scan: async (o, snap) => {
      const rows: string[] = [];
      for await (const [k, v] of db.iterator({ ...o, ...(snap === undefined ? {} : { snapshot: snaps.get(snap)! }) })) {
        rows.push(`${hex(k)}=${hex(v)}`);
      }
      return rows.join(',');
    },
    snapshot: () => { snaps.set(next++, db.snapshot()); },
    release: (snap) => { snaps.get(snap)!.release(); snaps.delete(snap); },
    // Depth is sampled here too: a wide range delete can empty the deep levels before the log ends.
    flush: async () => { deepen(); await db.flush(); },
    compact: async (lo, hi) => { deepen(); await db.compactRange(lo, hi); },
    reopen: async () => {
      for (const s of snaps.values()) s.release();
      snaps = new Map();
      next = 0;
      tally();
      await db.close();
      db = await DB.open(dir, options);
    },
  };
  return {
    subject,
    finish: async () => {
      tally();
      await db.close();
      return { compactions, deepest };
    },
  };
}

const tiny = {
  writeBufferSize: 16 * 1024, targetFileSize: 8 * 1024, maxBytesForLevelBase: 24 * 1024, levelMultiplier: 3,
  level0CompactionTrigger: 2, level0SlowdownTrigger: 6, level0StopTrigger: 12, numLevels: 5,
} satisfies Options;

/** minDeepest: the deepest level that must have held data (the run must reach it). */
interface Config { name: string; real?: boolean; options: Options; minDeepest: number }

const CONFIGS: Config[] = [
  { name: 'inline none 64B-blocks bloom tiny static', minDeepest: 2,
    options: { ...tiny, compression: 'none', blockSize: 64, blockRestartInterval: 1, bloomBitsPerKey: 10 } },
  { name: 'inline lz4 4K-blocks no-bloom tiny dynamic', minDeepest: 3,
    options: { ...tiny, compression: 'lz4', blockSize: 4096, bloomBitsPerKey: 0, levelCompactionDynamicLevelBytes: true } },
  { name: 'inline zstd 1K-blocks larger static', minDeepest: 1,
    options: { ...tiny, writeBufferSize: 32 * 1024, targetFileSize: 16 * 1024, maxBytesForLevelBase: 32 * 1024, compression: 'zstd', blockSize: 1024 } },
  { name: 'worker per-level-codecs 256B-blocks tiny dynamic', real: true, minDeepest: 3,
    options: { ...tiny, compactionExecutor: 'worker', compressionPerLevel: ['none', 'lz4', 'lz4', 'zstd', 'zstd'], blockSize: 256, levelCompactionDynamicLevelBytes: true } },
  { name: 'inline none tiny static 4-subcompactions', minDeepest: 2,
    options: { ...tiny, compression: 'none', blockSize: 256, maxSubcompactions: 4 } },
  { name: 'worker lz4 tiny dynamic 4-subcompactions', real: true, minDeepest: 2,
    options: { ...tiny, compactionExecutor: 'worker', blockSize: 512, levelCompactionDynamicLevelBytes: true, maxSubcompactions: 4 } },
  { name: 'inline lz4 huge-buffer', minDeepest: 0,
    options: { writeBufferSize: 64 * 1024 * 1024, compression: 'lz4' } },
  // Compaction styles: the same history from the tiered and FIFO pickers (FIFO's cap drops nothing).
  { name: 'inline lz4 tiny tiered', minDeepest: 4,
    options: { ...tiny, compactionStyle: 'tiered', tieredMaxSizeAmplificationPercent: 50 } },
  { name: 'worker zstd tiny tiered ratio-20 width-3', real: true, minDeepest: 1,
    options: { ...tiny, compactionExecutor: 'worker', compression: 'zstd', compactionStyle: 'tiered', tieredSizeRatio: 20, tieredMaxMergeWidth: 3 } },
  { name: 'inline lz4 tiny tiered 4-subcompactions', minDeepest: 1,
    options: { ...tiny, compactionStyle: 'tiered', tieredMaxSizeAmplificationPercent: 50, maxSubcompactions: 4 } },
  { name: 'inline none tiny fifo intra-L0', minDeepest: 0,
    options: { ...tiny, compression: 'none', compactionStyle: 'fifo', fifoAllowCompaction: true } },
];

const SEED = testSeed();
let shared: Promise<{ ops: Op[]; want: { history: string[]; opOf: number[] } }> | undefined;

/** The log and the model's history, made once for every configuration. */
function sharedLog(): Promise<{ ops: Op[]; want: { history: string[]; opOf: number[] } }> {
  shared ??= (async () => {
    const ops = generate(makeRng(SEED), 1000);
    return { ops, want: await replay(ops, modelSubject()) };
  })();
  return shared;
}

describe('metamorphic: one operation log, many configurations', () => {
  it.each(CONFIGS)('$name: the same read history as the model', async (c) => {
    await withSeed('metamorphic', async () => {
      const { ops, want } = await sharedLog();
      expect(want.history.length).toBeGreaterThan(200);
      const dir = c.real ? await shmTempDir() : '/db';
      const options: Options = c.real ? c.options : { ...c.options, fs: new MemFileSystem() };
      const { subject, finish } = await dbSubject(dir, options);
      let got: { history: string[] };
      let stats: { compactions: number; deepest: number };
      try {
        got = await replay(ops, subject);
      } finally {
        stats = await finish();
      }
      const i = got.history.findIndex((h, j) => h !== want.history[j]);
      if (i >= 0) {
        const op = ops[want.opOf[i]!]!;
        throw new Error(`[${c.name}] read #${i} (op #${want.opOf[i]}: ${JSON.stringify(op, (_k, v) => (v?.type === 'Buffer' ? hex(Buffer.from(v.data)) : v))}) ` +
          `differs: got ${got.history[i]!.slice(0, 200)}, want ${want.history[i]!.slice(0, 200)}`);
      }
      expect(got.history.length).toBe(want.history.length);
      // How many background compactions finish before the log ends depends on the machine's load when
      // they run in workers on a real disk (seed 708369506 saw 4 on a busy machine): there, ask only
      // that compaction ran; the depth check below says it went through the levels.
      if (c.minDeepest > 0) expect(stats.compactions, 'compactions').toBeGreaterThan(c.real ? 0 : 5);
      expect(stats.deepest, 'deepest level reached').toBeGreaterThanOrEqual(c.minDeepest);
    }, SEED);
  });
});
