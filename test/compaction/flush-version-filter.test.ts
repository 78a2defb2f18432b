/**
 * compaction/flush-version-filter.ts: a property over random multi-version memtable contents and
 * random live snapshot lists (fast-check; the seed is printed on failure, SEED= replays it), with the
 * input in sync, async and mixed mode: every snapshot and the latest state read the same through the
 * output as through the input (deletions kept: older tables may hold their keys), the output is an
 * ordered sub-sequence of the input, and a version is left out exactly when a newer version of its key
 * lies in its stripe. Then the DB: a flush of a hot key writes one version, or one per snapshot that
 * needs an older one, and the snapshot still reads its value after the flush.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { compareBytes } from '../../src/base/bytes.js';
import { compareInternalKeys, kindOf, makeInternalKey, seqOf, userKeyOf, ValueKind } from '../../src/base/internal-key.js';
import { FlushVersionFilter } from '../../compaction/flush-version-filter.js';
import { stripeOf } from '../../compaction/snapshot-stripes.js';
import { DB, MemFileSystem, inspect } from '../../src/index.js';
import { ArrayIterator, type ArrayIteratorMode, type Entry } from '../support/array-iterator.js';
import { makeRng, testSeed } from '../support/rng.js';

const seed = testSeed();
const KEYS = ['', 'a', 'ab', 'b', 'x'.repeat(100)].map((s) => Buffer.from(s));

interface Version { key: Uint8Array; seq: number; kind: number; value: Uint8Array }

/** The newest version of `key` with seq <= s: its value, 'deleted', or undefined (nothing). */
function read(versions: readonly Version[], key: Uint8Array, s: number): string | undefined {
  let best: Version | undefined;
  for (const v of versions) if (v.seq <= s && compareBytes(v.key, key) === 0 && (!best || v.seq > best.seq)) best = v;
  return best === undefined ? undefined : best.kind === ValueKind.Put ? Buffer.from(best.value).toString('hex') : 'deleted';
}

async function run(input: Entry[], snapshots: number[], mode: ArrayIteratorMode, rngSeed: number): Promise<{ out: Version[]; dropped: number }> {
  const it = new FlushVersionFilter(new ArrayIterator(input, { mode, rng: makeRng(rngSeed) }), snapshots);
  const out: Version[] = [];
  let p = it.seekToFirst();
  if (p) await p;
  while (it.valid()) {
    const k = it.key();
    out.push({ key: userKeyOf(k).slice(), seq: seqOf(k), kind: kindOf(k), value: it.value().slice() });
    p = it.next();
    if (p) await p;
  }
  await it.close();
  return { out, dropped: it.dropped };
}

describe('FlushVersionFilter', () => {
  it('keeps exactly what snapshots and the latest state can see (property)', async () => {
    const scenario = fc.record({
      input: fc.array(fc.record({
        k: fc.integer({ min: 0, max: KEYS.length - 1 }),
        kind: fc.constantFrom(ValueKind.Put, ValueKind.Put, ValueKind.Delete),
        value: fc.uint8Array({ maxLength: 3 }),
      }), { maxLength: 60 }),
      snapshotPicks: fc.uniqueArray(fc.nat(70), { maxLength: 5 }),
      mode: fc.constantFrom<ArrayIteratorMode>('sync', 'async', 'mixed'),
      rngSeed: fc.nat(),
    });
    let dropped = 0;
    await fc.assert(fc.asyncProperty(scenario, async (sc) => {
      const versions: Version[] = sc.input.map((x, i) => ({ key: KEYS[x.k]!, seq: i + 1, kind: x.kind, value: x.value }));
      const snapshots = [...new Set(sc.snapshotPicks.map((p) => p % (versions.length + 2)))].sort((a, b) => a - b);
      const input = versions.map((v) => ({ key: makeInternalKey(v.key, v.seq, v.kind), value: v.value }))
        .sort((x, y) => compareInternalKeys(x.key, y.key));
      const r = await run(input, snapshots, sc.mode, sc.rngSeed);
      dropped += r.dropped;
      expect(r.out.length + r.dropped).toBe(input.length);
      for (const s of [...snapshots, Number.MAX_SAFE_INTEGER]) {
        for (const key of KEYS) expect(read(r.out, key, s), `at ${s}`).toBe(read(versions, key, s));
      }
      // Left out exactly when a newer version of the key is in the same stripe.
      const kept = new Set(r.out.map((v) => v.seq));
      for (const v of versions) {
        const shadowed = versions.some((w) => w.seq > v.seq && compareBytes(w.key, v.key) === 0 &&
          stripeOf(snapshots, w.seq) === stripeOf(snapshots, v.seq));
        expect(kept.has(v.seq), `seq ${v.seq}`).toBe(!shadowed);
      }
      // In input order.
      for (let i = 1; i < r.out.length; i++) {
        const a = makeInternalKey(r.out[i - 1]!.key, r.out[i - 1]!.seq, r.out[i - 1]!.kind);
        const b = makeInternalKey(r.out[i]!.key, r.out[i]!.seq, r.out[i]!.kind);
        expect(compareInternalKeys(a, b)).toBeLessThan(0);
      }
    }), { numRuns: 300, seed });
    expect(dropped).toBeGreaterThan(100); // the property saw real shadowing
  });

  it('is forward-only: a backward or seeking move is an internal error', () => {
    const it = new FlushVersionFilter(new ArrayIterator([]), []);
    expect(() => it.prev()).toThrow(/forward-only/);
    expect(() => it.seek()).toThrow(/forward-only/);
  });
});

describe('flush of a hot key', () => {
  it('writes one version, or one more per snapshot that needs an older one; the snapshot reads on', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs, compactionExecutor: 'inline', idleCompactionDelayMs: 0 });
    for (let i = 0; i < 1000; i++) await db.put('hot', `v${i}`);
    const snap = db.snapshot(); // sees v999
    for (let i = 1000; i < 2000; i++) await db.put('hot', `v${i}`);
    await db.put('cold', 'c');
    await db.flush();
    const files = (await inspect.manifest('/db', { fs })).levels[0]!.files;
    expect(files).toHaveLength(1);
    // hot@v1999, hot@v999 (the snapshot's), cold: 3 of 2,001 entries
    expect(files[0]!.numEntries).toBe(3);
    expect((await db.get('hot'))?.toString()).toBe('v1999');
    expect((await db.get('hot', { snapshot: snap }))?.toString()).toBe('v999');
    snap.release();
    await db.close();
  });
});
