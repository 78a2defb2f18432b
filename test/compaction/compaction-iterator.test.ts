/**
 * Properties of the compaction iterator (compaction/compaction-iterator.ts) over random multi-version
 * data, random live snapshot lists and random deeper levels (fast-check; the seed is printed on
 * failure, SEED= replays it). The input is an ArrayIterator in sync, async or mixed mode; the deeper
 * levels are older data the compaction does not read, described to it only by plan.deeperRanges
 * (ranges that cover every deeper key, and possibly more).
 *
 * What must hold for every run:
 * (a) for every live snapshot S and for the latest state, every user key reads the same through
 *     output + deeper data as through input + deeper data (newest version with seq <= S; a
 *     deletion or nothing = absent);
 * (b) the output is an ordered sub-sequence of the input, with at most one version per snapshot
 *     stripe per user key (nothing shadowed within its stripe is kept), and isNewUserKey marks
 *     exactly the first kept version of each user key (the runner cuts outputs only there);
 * (c) a version is dropped only when a newer version of its key is in the same stripe, or it is a
 *     tombstone in the oldest stripe whose key no deeper range covers; and such a tombstone is
 *     indeed dropped (the bottommost garbage collection happens).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { compareBytes } from '../../src/base/bytes.js';
import {
  compareInternalKeys, kindOf, makeInternalKey, seqOf, userKeyOf, ValueKind,
} from '../../src/base/internal-key.js';
import { CompactionIterator, type KeyRange } from '../../compaction/compaction-iterator.js';
import { ArrayIterator, type ArrayIteratorMode, type Entry } from '../support/array-iterator.js';
import { makeRng, testSeed } from '../support/rng.js';

const seed = testSeed();

/** Keys that are prefixes of each other, the empty key, and one longer than the iterator's 64-byte buffer. */
const KEYS = ['', 'a', 'ab', 'b', 'c', 'cc', 'd', 'x'.repeat(100)].map((s) => Buffer.from(s));
const keyIndex = fc.integer({ min: 0, max: KEYS.length - 1 });

interface Version { key: Uint8Array; seq: number; kind: number; value: Uint8Array }

const enc = (v: Version): Entry => ({ key: makeInternalKey(v.key, v.seq, v.kind), value: v.value });

/** The newest version of `key` with seq <= s among `versions`, as the value or undefined. */
function read(versions: readonly Version[], key: Uint8Array, s: number): string | undefined {
  let best: Version | undefined;
  for (const v of versions) {
    if (v.seq <= s && compareBytes(v.key, key) === 0 && (!best || v.seq > best.seq)) best = v;
  }
  return best && best.kind === ValueKind.Put ? Buffer.from(best.value).toString('hex') : undefined;
}

function stripeOf(snapshots: readonly number[], seq: number): number {
  let i = 0;
  while (i < snapshots.length && snapshots[i]! < seq) i++;
  return i;
}

function covered(ranges: readonly KeyRange[], key: Uint8Array): boolean {
  return ranges.some((r) => compareBytes(r.smallest, key) <= 0 && compareBytes(key, r.largest) <= 0);
}

interface Out { entry: Version; isNewUserKey: boolean }

async function compact(input: Entry[], snapshots: number[], deeper: KeyRange[], mode: ArrayIteratorMode, rngSeed: number): Promise<Out[]> {
  const it = new CompactionIterator(new ArrayIterator(input, { mode, rng: makeRng(rngSeed) }), snapshots, deeper);
  const out: Out[] = [];
  for (let ok = await it.first(); ok; ok = await it.next()) {
    const k = it.key();
    out.push({
      entry: { key: userKeyOf(k).slice(), seq: seqOf(k), kind: kindOf(k), value: it.value().slice() },
      isNewUserKey: it.isNewUserKey,
    });
  }
  expect(it.kept).toBe(out.length);
  expect(it.kept + it.droppedShadowed + it.droppedTombstones).toBe(input.length);
  return out;
}

const scenario = fc.record({
  // Compaction input: seqs are assigned after the deeper data's (deeper levels hold older data).
  input: fc.array(fc.record({
    k: keyIndex,
    kind: fc.constantFrom(ValueKind.Put, ValueKind.Put, ValueKind.Delete),
    value: fc.uint8Array({ maxLength: 3 }),
  }), { maxLength: 60 }),
  deeper: fc.array(fc.record({ k: keyIndex, kind: fc.constantFrom(ValueKind.Put, ValueKind.Delete), widen: fc.nat(2) }), { maxLength: 6 }),
  extraRanges: fc.array(fc.tuple(keyIndex, keyIndex), { maxLength: 2 }),
  snapshotPicks: fc.uniqueArray(fc.nat(80), { maxLength: 6 }),
  mode: fc.constantFrom<ArrayIteratorMode>('sync', 'async', 'mixed'),
  rngSeed: fc.nat(),
});

describe('CompactionIterator', () => {
  it('keeps exactly what snapshots and the latest state can see (property)', async () => {
    let droppedTombstones = 0;
    let keptOlderStripes = 0;
    await fc.assert(fc.asyncProperty(scenario, async (sc) => {
      const deeperData: Version[] = sc.deeper.map((d, i) => ({ key: KEYS[d.k]!, seq: i + 1, kind: d.kind, value: Buffer.from([i]) }));
      const base = deeperData.length;
      const versions: Version[] = sc.input.map((x, i) => ({ key: KEYS[x.k]!, seq: base + 1 + i, kind: x.kind, value: x.value }));
      const maxSeq = base + versions.length;
      const snapshots = [...new Set(sc.snapshotPicks.map((p) => p % (maxSeq + 2)))].sort((a, b) => a - b);
      // Deeper ranges: each covers its data key (widened towards neighbours), plus empty ranges.
      const ranges: KeyRange[] = sc.deeper.map((d) => ({ smallest: KEYS[Math.max(0, d.k - d.widen)]!, largest: KEYS[Math.min(KEYS.length - 1, d.k + d.widen)]! }));
      for (const [a, b] of sc.extraRanges) ranges.push({ smallest: KEYS[Math.min(a, b)]!, largest: KEYS[Math.max(a, b)]! });
      ranges.sort((x, y) => compareBytes(x.smallest, y.smallest));

      const input = versions.map(enc).sort((x, y) => compareInternalKeys(x.key, y.key));
      const out = await compact(input, snapshots, ranges, sc.mode, sc.rngSeed);
      const kept = out.map((o) => o.entry);

      // (a) same reads at every snapshot and at the latest state, deeper data included.
      for (const s of [...snapshots, Number.MAX_SAFE_INTEGER]) {
        for (const key of KEYS) {
          expect(read([...kept, ...deeperData], key, s), `key '${key.toString().slice(0, 8)}' at ${s}`)
            .toBe(read([...versions, ...deeperData], key, s));
        }
      }

      // (b) an ordered sub-sequence of the input; one version per stripe per key; cut points.
      let j = 0;
      for (const o of out) {
        const ik = makeInternalKey(o.entry.key, o.entry.seq, o.entry.kind);
        while (j < input.length && compareInternalKeys(input[j]!.key, ik) !== 0) j++;
        expect(j, 'output entry not in the input (or out of order)').toBeLessThan(input.length);
        expect(Buffer.from(input[j]!.value).equals(Buffer.from(o.entry.value))).toBe(true);
        j++;
      }
      for (let i = 0; i < out.length; i++) {
        const prev = out[i - 1]?.entry;
        const sameKey = prev !== undefined && compareBytes(prev.key, out[i]!.entry.key) === 0;
        expect(out[i]!.isNewUserKey).toBe(!sameKey);
        if (sameKey) {
          expect(stripeOf(snapshots, out[i]!.entry.seq)).not.toBe(stripeOf(snapshots, prev.seq));
          keptOlderStripes++;
        }
      }

      // (c) why each version was dropped; droppable tombstones are dropped.
      const isKept = (v: Version): boolean => kept.some((k) => k.seq === v.seq);
      for (const v of versions) {
        const stripe = stripeOf(snapshots, v.seq);
        const shadowed = versions.some((w) => w.seq > v.seq && compareBytes(w.key, v.key) === 0 && stripeOf(snapshots, w.seq) === stripe);
        const droppableTombstone = v.kind === ValueKind.Delete && stripe === 0 && !covered(ranges, v.key);
        if (!isKept(v)) {
          expect(shadowed || droppableTombstone, `seq ${v.seq} dropped without reason`).toBe(true);
          if (!shadowed) droppedTombstones++;
        } else {
          expect(shadowed, `seq ${v.seq} kept though shadowed in its stripe`).toBe(false);
          expect(droppableTombstone, `tombstone seq ${v.seq} kept at the bottom of its range`).toBe(false);
        }
      }
    }), { seed, numRuns: 400 });
    // The generator must reach the interesting cases, not only trivial ones.
    expect(droppedTombstones).toBeGreaterThan(20);
    expect(keptOlderStripes).toBeGreaterThan(20);
  });

  it('keeps the newest version of each stripe (worked example)', async () => {
    const k = Buffer.from('k');
    const v = (seq: number, kind: number = ValueKind.Put): Entry =>
      ({ key: makeInternalKey(k, seq, kind), value: Buffer.from(`v${seq}`) });
    // Snapshots at 3 and 6: stripes (..3], (3..6], (6..]. Versions 8 7 | 6 5 4 | 3 2 1.
    const input = [v(8), v(7), v(6, ValueKind.Delete), v(5), v(4), v(3), v(2), v(1)];
    const out = await compact(input, [3, 6], [], 'sync', 1);
    expect(out.map((o) => `${o.entry.seq}${o.entry.kind === ValueKind.Delete ? 'D' : ''}`)).toEqual(['8', '6D', '3']);
    // Without snapshots only the newest survives; a newest tombstone at the bottom leaves nothing.
    expect((await compact(input, [], [], 'sync', 1)).map((o) => o.entry.seq)).toEqual([8]);
    const deleted = [v(9, ValueKind.Delete), ...input];
    expect(await compact(deleted, [], [], 'async', 1)).toEqual([]);
    // ... unless a deeper level may hold the key: then the tombstone must stay.
    expect((await compact(deleted, [], [{ smallest: Buffer.from('a'), largest: Buffer.from('z') }], 'sync', 1))
      .map((o) => o.entry.seq)).toEqual([9]);
  });
});
