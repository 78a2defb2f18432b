/**
 * DB.repair's placement of the surviving tables (src/engine/repair-merge.ts): with the MANIFEST gone,
 * tables from different old levels overlap in keys AND in sequence ranges, so no "newest file first"
 * order is right. The first test builds exactly that shape by hand (an old L2 table with seqs 1..100
 * holding k@30, an old L1 table with seqs 40..60 holding k@45, range deletions across both), checks
 * the original database reads it right, deletes the MANIFEST, repairs and checks every key. The second
 * builds many such shapes at random (seeded), checking point reads (which search tables in the
 * Version's order) and scans (which merge every table). The third runs a seeded multi-level workload
 * through the public API (its compactions rarely leave that shape: it checks the rest of the path).
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB, NodeFileSystem } from '../../src/index.js';
import { ValueKind } from '../../src/base/internal-key.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { writeTable } from '../../src/table/table-output.js';
import { tableOptionsFor } from '../../src/table/table-options.js';
import { validateOptions } from '../../src/options.js';
import { writeManifestSnapshot } from '../../src/manifest/manifest-snapshot.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import { tempDir } from '../support/tmpdir.js';
import { withSeed, type Rng } from '../support/rng.js';
import { checkAgainst, runWorkload, removeManifests } from '../support/repair-workload.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

type Op = [seq: number, kind: 'put' | 'del' | 'range', key: string, value: string];

async function table(dir: string, fileNumber: number, ops: Op[]): Promise<FileMetadata> {
  const mem = new MemTable();
  for (const [seq, kind, key, value] of ops) {
    const k = kind === 'put' ? ValueKind.Put : kind === 'del' ? ValueKind.Delete : ValueKind.RangeDelete;
    mem.add(seq, k, enc(key), enc(value));
  }
  const meta = await writeTable({
    fs: new NodeFileSystem(), dir, fileNumber, options: tableOptionsFor(validateOptions({}), 1), creationTimeMs: 0,
  }, mem.newIterator(), mem.rangeDelFragments());
  return meta!;
}

/**
 * Reads open with compaction off: a compaction of L0 would merge the tables in the right order and hide
 * a placement that reads them in the wrong one.
 */
const NO_COMPACTION = { level0CompactionTrigger: 1000, level0SlowdownTrigger: 1000, level0StopTrigger: 1000, idleCompactionDelayMs: 0 };

async function readAll(dir: string): Promise<Map<string, string>> {
  const db = await DB.open(dir, NO_COMPACTION);
  try {
    const out = new Map<string, string>();
    for await (const [k, v] of db.iterator()) out.set(k.toString(), v.toString());
    await db.verifyChecksums();
    return out;
  } finally {
    await db.close();
  }
}

/**
 * A database built table by table: the key space is cut into segments, each with its own era
 * [lo, hi): a write to a segment before its lo goes to the one wide L2 table, inside [lo, hi) to that
 * segment's L1 table, after it to the one wide L0 table. A segment is not written between the end of
 * its era and L0_FROM, so that its L1 table keeps the newest versions of many of its keys. Per key, L0 is newer than L1 and L1 than L2 (a valid LSM),
 * but the wide tables' sequence ranges reach past the L1 tables' (an L1 table whose era ended early
 * holds versions newer than the L2 table's for its keys, yet a smaller largest sequence).
 * Puts, deletes and range deletes (inside one segment) are mixed.
 */
async function randomShape(dir: string, rng: Rng): Promise<{ model: Map<string, string>; keys: string[] }> {
  const SEGMENTS = 4, PER = 12, N = 300, L0_FROM = 270;
  const key = (seg: number, i: number): string => `s${seg}k${String(i).padStart(2, '0')}`;
  const eras = Array.from({ length: SEGMENTS }, () => {
    const lo = 1 + rng.int(L0_FROM - 1);
    return { lo, hi: lo + rng.int(L0_FROM + 1 - lo) };
  });
  const l0: Op[] = [], l2: Op[] = [];
  const l1: Op[][] = Array.from({ length: SEGMENTS }, () => []);
  const model = new Map<string, string>();
  for (let seq = 1; seq <= N; seq++) {
    // A segment goes quiet after its era (until L0_FROM): its L1 table then keeps the newest versions.
    const active = eras.flatMap((e, n) => (seq < e.hi || seq >= L0_FROM ? [n] : []));
    const seg = active.length > 0 ? rng.pick(active) : rng.int(SEGMENTS);
    const i = rng.int(PER);
    const r = rng.int(100);
    let op: Op;
    if (r < 70) {
      op = [seq, 'put', key(seg, i), `${key(seg, i)}@${seq}`];
      model.set(op[2], op[3]);
    } else if (r < 90) {
      op = [seq, 'del', key(seg, i), ''];
      model.delete(op[2]);
    } else {
      const start = key(seg, i), end = key(seg, Math.min(PER, i + 1 + rng.int(5)));
      op = [seq, 'range', start, end];
      for (const k of [...model.keys()]) if (k >= start && k < end) model.delete(k);
    }
    const era = eras[seg]!;
    (seq < era.lo ? l2 : seq < era.hi ? l1[seg]! : l0).push(op);
  }
  let fileNumber = 5;
  const files: { level: number; file: FileMetadata }[] = [];
  if (l0.length > 0) files.push({ level: 0, file: await table(dir, fileNumber++, l0) });
  if (l2.length > 0) files.push({ level: 2, file: await table(dir, fileNumber++, l2) });
  for (const ops of l1) if (ops.length > 0) files.push({ level: 1, file: await table(dir, fileNumber++, ops) });
  await writeManifestSnapshot(new NodeFileSystem(), dir, {
    manifestNumber: fileNumber, files, nextFileNumber: fileNumber + 1, logNumber: fileNumber + 1, lastSequence: N,
  });
  const keys: string[] = [];
  for (let seg = 0; seg < SEGMENTS; seg++) for (let i = 0; i < PER; i++) keys.push(key(seg, i));
  return { model, keys };
}

/** db.get of every key (point reads search tables in the Version's order; iterators merge them all). */
async function getAll(dir: string, keys: readonly string[]): Promise<(string | undefined)[]> {
  const db = await DB.open(dir, NO_COMPACTION);
  try {
    return await Promise.all(keys.map(async (k) => (await db.get(k))?.toString()));
  } finally {
    await db.close();
  }
}

describe('DB.repair placement', () => {
  it('keeps the newest version of every key when old levels overlap in keys and sequence ranges', async () => {
    const dir = await tempDir();
    // Old L2: older data spread over seqs 1..100 (k@30 is older than L1's k@45).
    const l2 = await table(dir, 7, [
      [1, 'put', 'a', 'a@1'], [30, 'put', 'k', 'k@30 (stale)'], [20, 'put', 'n', 'n@20 (range-deleted)'],
      [25, 'put', 'o', 'o@25 (range-deleted)'], [90, 'put', 'q', 'q@90'], [100, 'put', 'z', 'z@100'],
      [35, 'put', 'd', 'd@35 (deleted)'],
    ]);
    // Old L1: newer data, seqs 40..60, a range deletion [m, p)@50 over L2's n and o, a point delete of d.
    const l1 = await table(dir, 9, [
      [40, 'put', 'b', 'b@40'], [45, 'put', 'k', 'k@45'], [50, 'range', 'm', 'p'],
      [55, 'put', 'o', 'o@55'], [41, 'put', 'q', 'q@41 (stale)'], [60, 'del', 'd', ''],
    ]);
    const want = new Map([['a', 'a@1'], ['b', 'b@40'], ['k', 'k@45'], ['o', 'o@55'], ['q', 'q@90'], ['z', 'z@100']]);
    await writeManifestSnapshot(new NodeFileSystem(), dir, {
      manifestNumber: 10, files: [{ level: 1, file: l1 }, { level: 2, file: l2 }],
      nextFileNumber: 11, logNumber: 11, lastSequence: 100,
    });
    expect(await readAll(dir)).toEqual(want); // the shape is right before the damage
    // Both tables in L0 would sort the old L2 table first (largest seq 100 > 60): k@30 would win.
    expect(l2.largestSeq).toBeGreaterThan(l1.largestSeq);

    removeManifests(dir);
    const report = await DB.repair(dir);
    expect(report.tablesKept).toBe(2);
    expect(report.tablesDropped).toEqual([]);
    expect(report.lastSequence).toBe(100);
    expect(await readAll(dir)).toEqual(want);
    const db = await DB.open(dir, NO_COMPACTION);
    try {
      for (const k of ['c', 'd', 'm', 'n', 'p']) expect(await db.get(k), k).toBeUndefined();
      for (const [k, v] of want) expect((await db.get(k))?.toString(), k).toBe(v);
      const seq = db.stats().sequence;
      expect(seq).toBe(100);
      // New writes get sequences above every recovered one, so they win.
      await db.put('k', 'after repair');
      expect((await db.get('k'))?.toString()).toBe('after repair');
    } finally {
      await db.close();
    }
  });

  it('seeded shapes: per key range, oldest versions in L2, newer in L1, newest in L0, sequence ranges interleaved', async () => {
    await withSeed('repair-placement-shapes', async (rng) => {
      for (let round = 0; round < 5; round++) {
        const dir = await tempDir();
        const { model, keys } = await randomShape(dir, rng);
        expect(await readAll(dir), `round ${round}, before the damage`).toEqual(model);
        const before = await getAll(dir, keys);
        expect(before, `round ${round}, before the damage`).toEqual(keys.map((k) => model.get(k)));
        removeManifests(dir);
        const report = await DB.repair(dir);
        expect(report.tablesDropped).toEqual([]);
        expect(await readAll(dir), `round ${round}, after repair`).toEqual(model);
        expect(await getAll(dir, keys), `round ${round}, after repair`).toEqual(before);
      }
    });
  });

  it('a seeded multi-level workload reads back exactly after its MANIFEST is deleted and the database repaired', async () => {
    await withSeed('repair-placement', async (rng) => {
      const dir = await tempDir();
      const w = await runWorkload(dir, rng, { ops: 1500 });
      expect(w.levelsUsed, 'the workload should leave data in several levels').toBeGreaterThanOrEqual(2);
      removeManifests(dir);
      const report = await DB.repair(dir);
      expect(report.tablesDropped).toEqual([]);
      expect(report.walsReplayed).toBeGreaterThan(0);
      expect(readdirSync(path.join(dir, 'lost')).some((n) => n.endsWith('.log'))).toBe(true);
      expect(report.tablesMerged).toBeGreaterThan(0);
      await checkAgainst(dir, w.model, w.everKeys);
    });
  });
});
