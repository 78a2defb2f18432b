/**
 * Range tombstones through a compaction (compaction/runner.ts, range-dels.ts), checked against a
 * naive applier: for every live snapshot and the current sequence, every key reads the same from
 * (inputs + a deeper level) as from (outputs + the same deeper level). Also: the outputs' bounds
 * hold their entries and tombstones and share no user key, a tombstone crossing the cut points is
 * split so the gaps between outputs stay covered, and at the bottom with no snapshot the tombstones
 * and everything they cover are gone.
 */
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { compareInternalKeys, kindOf, seqOf, userKeyOf, ValueKind } from '../../src/base/internal-key.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { immediateSuccessor } from '../../src/rangedel/range-tombstone.js';
import { openTable } from '../../src/table/table-open.js';
import { writeTable } from '../../src/table/table-output.js';
import { tableRangeDels } from '../../src/table/table-range-dels.js';
import type { TableOptions } from '../../src/table/table-options.js';
import { runCompaction, type CompactionResult } from '../../compaction/runner.js';
import { carriedFragments, clipFragments, CoverageCursor } from '../../compaction/range-dels.js';
import { FragmentSet } from '../../src/rangedel/fragment-set.js';
import type { CompactionPlan } from '../../compaction/plan.js';
import { withSeed, type Rng } from '../support/rng.js';

const DIR = '/db';
const OPTIONS: TableOptions = { blockSize: 256, blockRestartInterval: 4, indexBlockRestartInterval: 1, bloomBitsPerKey: 10, compression: 'none', zstdLevel: 3 };
const te = new TextEncoder();
const td = new TextDecoder();

type Op =
  | { kind: 'put'; key: string; seq: number; value: string }
  | { kind: 'del'; key: string; seq: number }
  | { kind: 'range'; start: string; end: string; seq: number };

/** What a read at readSeq sees for key over these ops (undefined: absent). */
function read(ops: readonly Op[], key: string, readSeq: number): string | undefined {
  let rangeSeq = 0;
  for (const o of ops) {
    if (o.kind === 'range' && o.seq <= readSeq && o.start <= key && key < o.end && o.seq > rangeSeq) rangeSeq = o.seq;
  }
  let best: Op | undefined;
  for (const o of ops) {
    if (o.kind !== 'range' && o.key === key && o.seq <= readSeq && (!best || o.seq > best.seq)) best = o;
  }
  if (!best || best.seq < rangeSeq || best.kind === 'del') return undefined;
  return (best as { value: string }).value;
}

/** The ops a set of tables holds (entries and range tombstones). */
async function tableOps(fs: MemFileSystem, files: readonly FileMetadata[]): Promise<Op[]> {
  const ops: Op[] = [];
  for (const f of files) {
    const reader = await openTable(fs, DIR, f, { syncReads: true });
    const it = reader.newIterator();
    for (await it.seekToFirst(); it.valid(); await it.next()) {
      const k = it.key();
      const key = td.decode(userKeyOf(k));
      if (kindOf(k) === ValueKind.Delete) ops.push({ kind: 'del', key, seq: seqOf(k) });
      else ops.push({ kind: 'put', key, seq: seqOf(k), value: td.decode(it.value()) });
    }
    await it.close();
    for (const t of tableRangeDels(reader).tombstones()) {
      ops.push({ kind: 'range', start: td.decode(t.start), end: td.decode(t.end), seq: t.seq });
    }
    await reader.close();
  }
  return ops;
}

async function writeOps(fs: MemFileSystem, fileNumber: number, ops: readonly Op[]): Promise<FileMetadata | undefined> {
  const mem = new MemTable();
  for (const o of ops) {
    if (o.kind === 'put') mem.add(o.seq, ValueKind.Put, te.encode(o.key), te.encode(o.value));
    else if (o.kind === 'del') mem.add(o.seq, ValueKind.Delete, te.encode(o.key), new Uint8Array(0));
    else mem.add(o.seq, ValueKind.RangeDelete, te.encode(o.start), te.encode(o.end));
  }
  return writeTable({ fs, dir: DIR, fileNumber, options: OPTIONS, creationTimeMs: 0 }, mem.newIterator(), mem.rangeDelFragments());
}

let nextOutput = 100;
async function compact(
  fs: MemFileSystem, inputs: FileMetadata[], deeper: readonly Op[], snapshots: number[], targetFileSize: number,
): Promise<CompactionResult> {
  const keys = deeper.flatMap((o) => (o.kind === 'range' ? [o.start, o.end] : [o.key])).sort();
  const plan: CompactionPlan = {
    level: 0, outputLevel: 1, inputs: [inputs, []], grandparents: [],
    deeperRanges: keys.length === 0 ? [] : [{ smallest: te.encode(keys[0]!), largest: te.encode(keys[keys.length - 1]!) }],
    isTrivialMove: false, reason: 'manual', score: 0, compactPointer: undefined,
  };
  let next = nextOutput;
  nextOutput += 1000;
  return runCompaction({ fs, dir: DIR, allocateFileNumber: () => next++ }, plan, snapshots, {
    targetFileSize, maxGrandparentOverlapBytes: 1 << 30, table: OPTIONS, rateLimitBytesPerSec: 0, creationTimeMs: 0,
  });
}

/** Level-1 invariants of the outputs: bounds hold entries and tombstones; no user key shared. */
async function checkBounds(fs: MemFileSystem, outputs: readonly FileMetadata[]): Promise<void> {
  for (let i = 0; i < outputs.length; i++) {
    const f = outputs[i]!;
    if (i > 0) expect(compareBytes(userKeyOf(outputs[i - 1]!.largest), userKeyOf(f.smallest))).toBeLessThan(0);
    const reader = await openTable(fs, DIR, f, { syncReads: true });
    const it = reader.newIterator();
    for (await it.seekToFirst(); it.valid(); await it.next()) {
      expect(compareInternalKeys(f.smallest, it.key())).toBeLessThanOrEqual(0);
      expect(compareInternalKeys(it.key(), f.largest)).toBeLessThanOrEqual(0);
    }
    await it.close();
    for (const fr of tableRangeDels(reader).fragments()) {
      expect(compareBytes(userKeyOf(f.smallest), fr.start)).toBeLessThanOrEqual(0);
      expect(compareBytes(fr.end, immediateSuccessor(userKeyOf(f.largest)))).toBeLessThanOrEqual(0);
    }
    await reader.close();
  }
}

const LETTERS = 'abcdefghijklmnop';
function randomKey(rng: Rng): string {
  const a = LETTERS[rng.int(LETTERS.length)]!;
  return rng.int(3) === 0 ? a + LETTERS[rng.int(LETTERS.length)]! : a;
}
/** Every key the ops can name, and some between. */
const PROBES = [...LETTERS].flatMap((a) => [a, ...[...LETTERS].map((b) => a + b)]).concat(['', 'q', 'zz']);

function randomOps(rng: Rng, n: number, firstSeq: number, rangeShare: number): Op[] {
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const seq = firstSeq + i;
    const r = rng.next();
    if (r < rangeShare) {
      let a = randomKey(rng), b = randomKey(rng);
      if (a === b) b = a + 'a';
      if (a > b) [a, b] = [b, a];
      ops.push({ kind: 'range', start: a, end: b, seq });
    } else if (r < rangeShare + 0.15) {
      ops.push({ kind: 'del', key: randomKey(rng), seq });
    } else {
      ops.push({ kind: 'put', key: randomKey(rng), seq, value: `v${seq}`.padEnd(8 + rng.int(40), '.') });
    }
  }
  return ops;
}

const showSet = (set: FragmentSet): string[] => set.fragments().map((f) => `${td.decode(f.start)}-${td.decode(f.end)}{${f.seqs.join(',')}}`);

describe('range-dels rules', () => {
  const set = FragmentSet.fromFragments([
    { start: te.encode('b'), end: te.encode('d'), seqs: [9, 7, 5, 3] },
    { start: te.encode('d'), end: te.encode('f'), seqs: [4] },
  ]);
  it('carries the newest seq of each stripe, and the oldest stripe only where something deeper overlaps', () => {
    expect(showSet(carriedFragments(set, [6], []))).toEqual(['b-d{9}']);
    expect(showSet(carriedFragments(set, [6], [{ smallest: te.encode('a'), largest: te.encode('b') }]))).toEqual(['b-d{9,5}']);
    expect(showSet(carriedFragments(set, [6], [{ smallest: te.encode('e'), largest: te.encode('z') }]))).toEqual(['b-d{9}', 'd-f{4}']);
    // No snapshot: one stripe, so nothing at all at the bottom.
    expect(showSet(carriedFragments(set, [], []))).toEqual([]);
  });
  it('covers a version only from a newer tombstone in its own stripe', () => {
    const c = new CoverageCursor(set, [6]);
    expect(c.covers(te.encode('a'), 1)).toBe(false);
    expect(c.covers(te.encode('b'), 4)).toBe(true); // 5 > 4, both below the snapshot
    expect(c.covers(te.encode('c'), 6)).toBe(false); // only 9 and 7 are newer: the snapshot at 6 sees the version
    expect(c.covers(te.encode('c'), 8)).toBe(true);
    expect(c.covers(te.encode('d'), 4)).toBe(false); // the fragment's own seq does not cover it
    expect(c.covers(te.encode('e'), 3)).toBe(true);
    expect(c.covers(te.encode('f'), 1)).toBe(false); // the end is exclusive
  });
  it('clips to half-open bounds, either side open', () => {
    expect(showSet(clipFragments(set, te.encode('c'), te.encode('e')))).toEqual(['c-d{9,7,5,3}', 'd-e{4}']);
    expect(showSet(clipFragments(set, undefined, te.encode('c')))).toEqual(['b-c{9,7,5,3}']);
    expect(showSet(clipFragments(set, te.encode('e'), undefined))).toEqual(['e-f{4}']);
  });
});

describe('compaction with range tombstones', () => {
  it('reads the same at every snapshot before and after, against a naive applier', async () => {
    await withSeed('compaction-range-dels-model', async (rng) => {
      for (let round = 0; round < 40; round++) {
        const fs = new MemFileSystem();
        await fs.mkdir(DIR);
        const deeper = rng.int(3) === 0 ? [] : randomOps(rng, 30, 1, 0.1);
        const firstSeq = 100;
        const ops = randomOps(rng, 20 + rng.int(120), firstSeq, 0.15);
        const inputs: FileMetadata[] = [];
        const nFiles = 1 + rng.int(4);
        for (let f = 0; f < nFiles; f++) {
          const part = ops.filter((_, i) => i % nFiles === f);
          const meta = await writeOps(fs, f + 1, part);
          if (meta) inputs.push(meta);
        }
        const lastSeq = firstSeq + ops.length;
        const snapshots = [...new Set(Array.from({ length: rng.int(4) }, () => 1 + rng.int(lastSeq)))].sort((a, b) => a - b);
        const r = await compact(fs, inputs, deeper, snapshots, 100 + rng.int(600));
        const outOps = await tableOps(fs, r.outputs);
        await checkBounds(fs, r.outputs);
        for (const readSeq of [...snapshots, lastSeq]) {
          for (const key of PROBES) {
            const want = read([...deeper, ...ops], key, readSeq);
            const got = read([...deeper, ...outOps], key, readSeq);
            if (got !== want) throw new Error(`round ${round}: key '${key}' at ${readSeq}: want ${want}, got ${got}`);
          }
        }
        if (deeper.length === 0 && snapshots.length === 0) {
          expect(outOps.filter((o) => o.kind !== 'put')).toEqual([]);
          expect(r.rangeDelsOut).toBe(0);
        }
      }
    });
  });

  it('splits a tombstone crossing the cut points so the gaps between outputs stay deleted below', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir(DIR);
    const ops: Op[] = [{ kind: 'range', start: 'b', end: 'y', seq: 10 }];
    for (const [i, key] of ['a', 'c', 'e', 'g', 'i', 'k'].entries()) ops.push({ kind: 'put', key, seq: 20 + i, value: 'x'.repeat(120) });
    const deeper: Op[] = ['b', 'bb', 'd', 'f', 'h', 'j', 'ka', 'x', 'y'].map((key, i) => ({ kind: 'put', key, seq: 1 + i, value: 'old' }));
    const r = await compact(fs, [(await writeOps(fs, 1, ops))!], deeper, [], 150);
    expect(r.outputs.length).toBeGreaterThan(2);
    await checkBounds(fs, r.outputs);
    const outOps = await tableOps(fs, r.outputs);
    const live = PROBES.concat(['bb', 'ka', 'x', 'y']).filter((k) => read([...deeper, ...outOps], k, 100) !== undefined);
    expect([...new Set(live)].sort()).toEqual(['a', 'c', 'e', 'g', 'i', 'k', 'y']);
    expect(r.rangeDelsIn).toBe(1);
    expect(r.rangeDelsOut).toBe(r.outputs.length);
  });

  it('drops tombstones and what they cover at the bottom with no snapshot, and keeps a snapshot\'s view', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir(DIR);
    const ops: Op[] = [];
    for (let i = 0; i < 50; i++) ops.push({ kind: 'put', key: `k${String(i).padStart(2, '0')}`, seq: 1 + i, value: 'v'.repeat(50) });
    ops.push({ kind: 'range', start: 'k00', end: 'k40', seq: 60 });
    const input = (await writeOps(fs, 1, ops))!;
    const bottom = await compact(fs, [input], [], [], 1 << 20);
    expect(bottom.droppedCovered).toBe(40);
    expect(bottom.rangeDelsOut).toBe(0);
    expect((await tableOps(fs, bottom.outputs)).map((o) => (o.kind === 'put' ? o.key : '?'))).toEqual(
      Array.from({ length: 10 }, (_, i) => `k${40 + i}`));
    // A snapshot taken before the tombstone still sees every key: nothing covered may go.
    const held = await compact(fs, [input], [], [55], 1 << 20);
    expect(held.droppedCovered).toBe(0);
    expect(held.rangeDelsOut).toBe(1);
  });
});
