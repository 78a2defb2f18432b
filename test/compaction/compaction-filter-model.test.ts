/**
 * Model test of a compaction filter that removes a known subset (values starting with 'x'): a seeded
 * log of puts, deletes, range deletes, batches, flushes, compactRange calls, snapshots and reopens
 * under tiny buffers and levels (automatic compactions all the time), checked against the sorted
 * model (test/support/model.ts). While it runs, every key reads as the model says, except that a key
 * whose model value starts with 'x' may read as absent (a compaction filtered it): never an older
 * value (a removed entry must not uncover what it shadowed). A snapshot reads the same rows for as long
 * as it lives (the filter never touches what a snapshot can see). With no snapshot ever taken, a final
 * full compactRange leaves exactly the model without its 'x' keys. Runs with and without
 * subcompactions. SEED= replays a run.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import { DB, MemFileSystem, WriteBatch, type Options, type Snapshot } from '../../src/index.js';
import { Model } from '../support/model.js';
import { testSeed, withSeed, type Rng } from '../support/rng.js';

const FILTERS = fileURLToPath(new URL('../support/compaction-filters.mjs', import.meta.url));
const DIR = '/db';
const KEYS = 300;

const tiny: Options = {
  writeBufferSize: 8 * 1024, targetFileSize: 4 * 1024, maxBytesForLevelBase: 16 * 1024, levelMultiplier: 3,
  level0CompactionTrigger: 2, level0SlowdownTrigger: 6, level0StopTrigger: 12, numLevels: 5, blockSize: 256,
  compactionExecutor: 'inline', compactionFilter: { module: FILTERS, export: 'dropX' },
};

const keyAt = (i: number): Buffer => Buffer.from(`key${String(i).padStart(4, '0')}`);
const hex = (b: Uint8Array | undefined): string => (b === undefined ? '-' : Buffer.from(b).toString('hex'));
const isX = (v: Uint8Array | undefined): boolean => v !== undefined && v.length > 0 && v[0] === 0x78;

function value(rng: Rng): Buffer {
  const body = Buffer.from(rng.bytes(10 + rng.int(60))).toString('hex');
  return Buffer.from(rng.int(3) === 0 ? `x${body}` : `v${body}`);
}

/** Every row of the database at `snap` (or now), as key hex -> value hex. */
async function rows(db: DB, snap?: Snapshot): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterator(snap ? { snapshot: snap } : {})) out.set(hex(k), hex(v));
  return out;
}

/** The database agrees with the model, except that 'x' keys may be gone (see header). */
function checkAgainst(got: Map<string, string>, m: Model, what: string): void {
  for (const [k, v] of m.scan()) {
    const g = got.get(hex(k));
    if (g === hex(v)) continue;
    if (g === undefined && isX(v)) continue;
    throw new Error(`${what}: key ${Buffer.from(k).toString()} reads ${g ?? 'nothing'}, model ${Buffer.from(v).toString()}`);
  }
  for (const k of got.keys()) {
    if (m.get(Buffer.from(k, 'hex')) === undefined) throw new Error(`${what}: key ${Buffer.from(k, 'hex').toString()} is not in the model`);
  }
}

async function run(rng: Rng, options: Options, withSnapshots: boolean): Promise<{ compactions: number; removed: number }> {
  const fs = new MemFileSystem();
  const o = { ...options, fs };
  let db = await DB.open(DIR, o);
  const m = new Model();
  let snaps: { snap: Snapshot; model: Model; seen: Map<string, string> }[] = [];
  let compactions = 0;
  let removed = 0;
  const tally = (): void => { compactions += db.stats().compactions.count; removed += db.stats().compactionFilter.removed; };
  for (let step = 0; step < 1500; step++) {
    const r = rng.int(1000);
    if (r < 500) {
      const k = keyAt(rng.int(KEYS)), v = value(rng);
      await db.put(k, v); m.put(k, v);
    } else if (r < 580) {
      const k = keyAt(rng.int(KEYS));
      await db.delete(k); m.delete(k);
    } else if (r < 600) {
      const a = rng.int(KEYS), b = a + 1 + rng.int(20);
      await db.deleteRange(keyAt(a), keyAt(b)); m.deleteRange(keyAt(a), keyAt(b));
    } else if (r < 700) {
      const batch = new WriteBatch();
      for (let i = rng.int(8); i >= 0; i--) {
        const k = keyAt(rng.int(KEYS));
        if (rng.int(4) === 0) { batch.delete(k); m.delete(k); } else { const v = value(rng); batch.put(k, v); m.put(k, v); }
      }
      await db.write(batch);
    } else if (r < 800) {
      checkAgainst(await rows(db), m, `step ${step}`);
    } else if (r < 830) {
      await db.flush();
    } else if (r < 840) {
      await db.compactRange();
    } else if (r < 900 && withSnapshots) {
      if (snaps.length < 4) {
        const snap = db.snapshot();
        const seen = await rows(db, snap);
        checkAgainst(seen, m, `snapshot at step ${step}`);
        snaps.push({ snap, model: m.clone(), seen });
      } else {
        const i = rng.int(snaps.length);
        const s = snaps[i]!;
        expect(await rows(db, s.snap), `snapshot ${i} at step ${step}`).toEqual(s.seen);
        if (rng.int(2) === 0) { s.snap.release(); snaps.splice(i, 1); }
      }
    } else if (r < 905) {
      for (const s of snaps) s.snap.release();
      snaps = [];
      tally();
      await db.close();
      db = await DB.open(DIR, o);
    }
  }
  for (const s of snaps) expect(await rows(db, s.snap)).toEqual(s.seen);
  if (!withSnapshots) {
    await db.compactRange();
    const want = new Map(m.scan().filter(([, v]) => !isX(v)).map(([k, v]) => [hex(k), hex(v)]));
    expect(await rows(db)).toEqual(want);
  }
  for (const s of snaps) s.snap.release();
  tally();
  await db.close();
  return { compactions, removed };
}

const SEED = testSeed();

describe('a compaction filter against the model', () => {
  it.each([
    { name: 'no snapshots: after a full compactRange exactly the x keys are gone', snapshots: false, sub: 1 },
    { name: 'no snapshots, 4 subcompactions', snapshots: false, sub: 4 },
    { name: 'snapshots: what a snapshot reads never changes', snapshots: true, sub: 1 },
    { name: 'snapshots, 4 subcompactions', snapshots: true, sub: 4 },
  ])('$name', async ({ snapshots, sub }) => {
    await withSeed('compaction-filter-model', async (rng) => {
      const { compactions, removed } = await run(rng, { ...tiny, maxSubcompactions: sub }, snapshots);
      expect(compactions).toBeGreaterThan(10);
      expect(removed).toBeGreaterThan(0);
    }, SEED);
  });
});
