/**
 * Subcompactions (compaction/subcompactions.ts): where a plan is split (pure), and through the
 * database (inline executor on a MemFileSystem): a split compaction gives the same data as an unsplit
 * one, installs one edit whose outputs never share a user key within a level (range tombstones cut at
 * the piece boundaries included), and a piece that fails installs nothing and leaves no table behind.
 * The worker pool running pieces in parallel: compaction-filter-worker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, inspect, MemFileSystem, type Options, type Snapshot } from '../../src/index.js';
import { FaultFileSystem, type Injector } from '../../src/fs/fault-fs.js';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { makeFileMetadata, type FileMetadata } from '../../src/manifest/file-metadata.js';
import type { CompactionPlan } from '../../compaction/plan.js';
import { splitPlan, splitPoints } from '../../compaction/subcompactions.js';
import { makeRng, testSeed, withSeed } from '../support/rng.js';

const enc = new TextEncoder();
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1').replace(/\0/g, '\\0');

let nextNumber = 1;
function file(lo: string, hi: string, size: number, seq = 1): FileMetadata {
  return makeFileMetadata({
    fileNumber: nextNumber++, fileSize: size, crc32c: 0,
    smallest: makeInternalKey(enc.encode(lo), seq, ValueKind.Put), largest: makeInternalKey(enc.encode(hi), seq, ValueKind.Put),
    smallestSeq: seq, largestSeq: seq, numEntries: 1, numDeletions: 0,
  });
}

function plan(l0: FileMetadata[], l1: FileMetadata[]): CompactionPlan {
  return {
    level: 0, outputLevel: 1, inputs: [l0, l1], grandparents: [], deeperRanges: [], isTrivialMove: false,
    reason: 'level0', score: 1, compactPointer: undefined,
  };
}

const MiB = 1 << 20;

describe('splitPoints / splitPlan', () => {
  const wide = [file('a', 'c', MiB), file('d', 'f', MiB), file('g', 'i', MiB), file('j', 'l', MiB)];

  it('cuts at successors of input files\' largest keys, balancing bytes', () => {
    const p = plan([file('a', 'l', MiB, 9)], wide);
    expect(splitPoints(p, 4, MiB).map(text)).toEqual(['c\\0', 'f\\0', 'i\\0']);
    expect(splitPoints(p, 2, MiB).map(text)).toEqual(['f\\0']);
  });

  it('does not split one output file\'s worth, a single piece, or a trivial move', () => {
    const p = plan([file('a', 'l', MiB, 9)], wide);
    expect(splitPoints(p, 4, 8 * MiB)).toEqual([]);
    expect(splitPoints(p, 1, MiB)).toEqual([]);
    expect(splitPoints({ ...p, isTrivialMove: true }, 4, MiB)).toEqual([]);
    expect(splitPoints(plan([file('a', 'z', 4 * MiB)], []), 4, MiB)).toEqual([]); // one file: no boundary
  });

  it('gives each piece its bounds and the inputs overlapping them', () => {
    const l0 = file('b', 'f', MiB, 9);
    const pieces = splitPlan(plan([l0], wide), 4, MiB);
    expect(pieces.map((p) => [p.piece?.lo && text(p.piece.lo), p.piece?.hi && text(p.piece.hi)])).toEqual([
      [undefined, 'c\\0'], ['c\\0', 'f\\0'], ['f\\0', 'i\\0'], ['i\\0', undefined],
    ]);
    expect(pieces.map((p) => [p.inputs[0].length, p.inputs[1].map((f) => f.fileNumber)])).toEqual([
      [1, [wide[0]!.fileNumber]], [1, [wide[1]!.fileNumber]], [0, [wide[2]!.fileNumber]], [0, [wide[3]!.fileNumber]],
    ]);
    const unsplit = plan([l0], wide);
    expect(splitPlan(unsplit, 1, MiB)).toEqual([unsplit]);
  });
});

const BASE: Options = {
  writeBufferSize: 64 * 1024, targetFileSize: 8 * 1024, blockSize: 512, compactionExecutor: 'inline',
  level0CompactionTrigger: 100, level0SlowdownTrigger: 100, level0StopTrigger: 100,
};

/** A seeded history: a wide L1, then L0 tables of puts, deletes and range deletes over all of it. */
async function build(fs: FaultFileSystem | MemFileSystem, seed: number, options: Options): Promise<{ db: DB; snap: Snapshot }> {
  const rng = makeRng(seed);
  const db = await DB.open('/db', { ...BASE, ...options, fs });
  const key = (i: number): string => `key${String(i).padStart(5, '0')}`;
  for (let i = 0; i < 3000; i++) await db.put(key(i), Buffer.from(rng.bytes(40 + rng.int(60))));
  await db.flush();
  await db.compactRange(); // L1: many 8 KiB tables
  // Older than every later write: the range tombstones stay in the outputs, cut at piece boundaries.
  const snap = db.snapshot();
  for (let t = 0; t < 3; t++) {
    for (let i = 0; i < 600; i++) {
      const r = rng.int(20);
      const k = key(rng.int(3000));
      if (r === 0) { const a = rng.int(3000); await db.deleteRange(key(a), key(a + 1 + rng.int(200))); }
      else if (r < 4) await db.delete(k);
      else await db.put(k, Buffer.from(rng.bytes(40 + rng.int(60))));
    }
    await db.flush();
  }
  return { db, snap };
}

async function rows(db: DB): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.iterator()) out.push(`${k.toString()}=${v.toString('hex')}`);
  return out;
}

/** No two files of a level (L1+) share a user key in their recorded bounds. */
async function checkLevels(fs: MemFileSystem | FaultFileSystem): Promise<void> {
  const m = await inspect.manifest('/db', { fs });
  for (const level of m.levels.slice(1)) {
    for (let i = 1; i < level.files.length; i++) {
      const a = Buffer.from(level.files[i - 1]!.largestHex, 'hex'), b = Buffer.from(level.files[i]!.smallestHex, 'hex');
      const ua = a.subarray(0, a.length - 8), ub = b.subarray(0, b.length - 8);
      expect(Buffer.compare(ua, ub), `L${level.level}: ${text(ua)} vs ${text(ub)}`).toBeLessThan(0);
    }
  }
}

describe('subcompactions through the database', () => {
  it('give the same data as one compaction, installed as one edit, files never sharing a user key', async () => {
    await withSeed('subcompactions', async (rng) => {
      const seed = rng.int(2 ** 31);
      const results: string[][] = [];
      for (const maxSubcompactions of [1, 4]) {
        const fs = new MemFileSystem();
        const { db, snap } = await build(fs, seed, { maxSubcompactions });
        const logBefore = Buffer.from(await fs.readFile('/db/LOG')).length;
        await db.compactRange();
        const tombstones = (await inspect.manifest('/db', { fs })).levels.flatMap((l) => l.files).reduce((n, f) => n + (f.numRangeDeletions ?? 0), 0);
        expect(tombstones).toBeGreaterThan(0);
        if (maxSubcompactions > 1) {
          expect(db.stats().subcompactions).toBeGreaterThanOrEqual(2);
          // L0 -> L1 is one job (one edit) whose pieces ran inline one after another.
          const log = Buffer.from(await fs.readFile('/db/LOG')).subarray(logBefore).toString();
          expect(log.split('\n').filter((l) => l.includes('compaction done: L0 -> L1'))).toEqual([
            expect.stringMatching(/\(inline, [234] subcompactions\)$/),
          ]);
        } else {
          expect(db.stats().subcompactions).toBe(0);
        }
        await checkLevels(fs);
        results.push(await rows(db));
        snap.release();
        await db.close();
      }
      expect(results[1]).toEqual(results[0]);
    }, testSeed());
  });

  it('a piece that fails installs nothing and leaves no table; the retry then succeeds', async () => {
    await withSeed('subcompactions-fault', async (rng) => {
      const mem = new MemFileSystem();
      const ffs = new FaultFileSystem(mem);
      const { db, snap } = await build(ffs, rng.int(2 ** 31), { maxSubcompactions: 4 });
      const before = await rows(db);
      const manifestBefore = (await inspect.manifest('/db', { fs: mem })).levels.map((l) => l.files.map((f) => f.fileNumber));
      const tablesBefore = (await mem.list('/db')).filter((n) => n.endsWith('.sst')).sort();
      // Pieces run one after another inline: let two outputs finish (their syncs), fail the third.
      let syncs = 0;
      const injector: Injector = (op) => (op.kind === 'sync' && op.path.endsWith('.sst') && ++syncs === 3 ? 'EIO' : undefined);
      ffs.setInjector(injector);
      await expect(db.compactRange()).rejects.toMatchObject({ code: 'ERR_IO' });
      ffs.setInjector(() => undefined);
      expect(syncs).toBeGreaterThanOrEqual(3);
      expect((await inspect.manifest('/db', { fs: mem })).levels.map((l) => l.files.map((f) => f.fileNumber))).toEqual(manifestBefore);
      expect((await mem.list('/db')).filter((n) => n.endsWith('.sst')).sort()).toEqual(tablesBefore);
      expect(await rows(db)).toEqual(before);
      await db.compactRange();
      expect(db.stats().subcompactions).toBeGreaterThanOrEqual(2);
      expect(await rows(db)).toEqual(before);
      await checkLevels(mem);
      snap.release();
      await db.close();
    }, testSeed());
  });
});
