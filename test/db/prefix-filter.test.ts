/**
 * Option prefixLength: table filters also hold key prefixes, and an iterator over one prefix (the
 * `prefix` option, or bounds sharing at least prefixLength bytes) skips tables whose filter lacks it.
 * Correctness: answers equal a sorted model over many tables (so no skipped table held the prefix),
 * in L0 and after compaction into deeper levels, with prefixes holding 0xff. Skips are counted by
 * stats().filter.prefixChecks / prefixNegatives (filter probes, not time). Reopening with another
 * prefixLength: each table answers by the length it was written with; OPTIONS records the option.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { compareBytes } from '../../src/base/bytes.js';
import { DB, type Options } from '../../src/index.js';
import type { IteratorOptions } from '../../src/db.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { readOptionsFile } from '../../src/engine/options-file.js';
import { withSeed, type Rng } from '../support/rng.js';
import { hex, rejectsWith } from '../support/db-check.js';

const KEEP_L0: Options = {
  compactionExecutor: 'inline', level0CompactionTrigger: 1000, level0SlowdownTrigger: 1000, level0StopTrigger: 1000,
  idleCompactionDelayMs: 0, bloomBitsPerKey: 20, compression: 'none',
};
/** Values are the key and 100 bytes more, so a few thousand keys make dozens of 4 KiB tables. */
const PAD = new Uint8Array(100);
const LOW = Uint8Array.of(0x01, 0x01);
const HIGH = Uint8Array.of(0xfe, 0x01);

const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));
const startsWith = (k: Uint8Array, p: Uint8Array): boolean =>
  k.length >= p.length && compareBytes(k.subarray(0, p.length), p) === 0;

async function collect(db: DB, o: IteratorOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of db.iterator(o)) {
    expect(hex(v.subarray(0, k.length))).toBe(hex(k));
    out.push(hex(k));
  }
  return out;
}

/** Writes `rounds` tables, each holding keys of a few of `prefixes` and the LOW/HIGH sentinels. */
async function fill(db: DB, rng: Rng, prefixes: Uint8Array[], model: Map<string, Uint8Array>, rounds: number, perRound = 30): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    const chosen = [0, 1, 2].map(() => rng.pick(prefixes));
    for (let i = 0; i < perRound; i++) {
      const k = cat(rng.pick(chosen), rng.bytes(rng.int(5)));
      if (rng.int(6) === 0 && model.size > 0) {
        const old = rng.pick([...model.values()]);
        await db.delete(old);
        model.delete(hex(old));
      } else {
        await db.put(k, cat(k, PAD));
        model.set(hex(k), k);
      }
    }
    for (const s of [LOW, HIGH]) { const k = cat(s, Uint8Array.of(r)); await db.put(k, k); model.set(hex(k), k); }
    await db.flush();
  }
}

async function checkAgainstModel(db: DB, rng: Rng, prefixes: Uint8Array[], model: Map<string, Uint8Array>): Promise<void> {
  const keys = [...model.values()].sort(compareBytes);
  for (const p of prefixes) {
    const reverse = rng.int(2) === 1;
    const want = keys.filter((k) => startsWith(k, p)).map(hex);
    if (reverse) want.reverse();
    expect(await collect(db, { prefix: p, reverse }), `prefix ${hex(p)}`).toEqual(want);
    // bounds that share the prefix (and more): the same skipping, no prefix option
    const lo = cat(p, Uint8Array.of(rng.int(256)));
    const hi = cat(p, Uint8Array.of(0xff, 0xff));
    const inRange = keys.filter((k) => compareBytes(k, lo) >= 0 && compareBytes(k, hi) < 0).map(hex);
    expect(await collect(db, { gte: lo, lt: hi }), `[${hex(lo)}, ${hex(hi)})`).toEqual(inRange);
  }
}

describe('prefixLength: prefix bloom filters', () => {
  it('prefix iterators over many tables match the model and skip tables without the prefix', async () => {
    await withSeed('prefix-filter-model', async (rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open('/db', { ...KEEP_L0, fs, prefixLength: 2, targetFileSize: 4096 });
      const prefixes: Uint8Array[] = [];
      for (let i = 0; i < 30; i++) prefixes.push(Uint8Array.of(0x10 + i * 7, i % 3 === 0 ? 0xff : rng.int(256)));
      // every third prefix is never written: absent prefixes lie between written ones, inside tables' ranges
      const written = prefixes.filter((_, i) => i % 3 !== 1);
      const never = prefixes.filter((_, i) => i % 3 === 1);
      const model = new Map<string, Uint8Array>();
      await fill(db, rng, written, model, 12, 150);
      expect(db.stats().levels[0]!.files).toBe(12);

      const s0 = db.stats().filter;
      await checkAgainstModel(db, rng, prefixes, model);
      const s1 = db.stats().filter;
      expect(s1.prefixNegatives - s0.prefixNegatives).toBeGreaterThan(0);
      expect(s1.checks).toBe(s0.checks); // point-read counters untouched

      // A prefix no table holds, inside every table's key range: every table is probed and skipped
      // (20 bits/key: a false positive is ~1e-4 per probe, so at most one is allowed).
      const absent = never[8]!;
      await expect(collect(db, { prefix: absent })).resolves.toEqual([]);
      const s2 = db.stats().filter;
      expect(s2.prefixChecks - s1.prefixChecks).toBe(12);
      expect(s2.prefixNegatives - s1.prefixNegatives).toBeGreaterThanOrEqual(11);

      // bounds that enclose only the prefix (gte P, lt successor(P)) probe the same way
      const upper = Uint8Array.from(absent);
      upper[1]!++;
      if (upper[1] !== 0) { // (0xff has no 2-byte successor; then gte/lt shares only one byte)
        await expect(collect(db, { gte: absent, lt: upper })).resolves.toEqual([]);
        expect(db.stats().filter.prefixChecks - s2.prefixChecks).toBe(12);
      }

      // prefixes shorter than prefixLength cannot use the filter
      const s3 = db.stats().filter;
      await collect(db, { prefix: absent.subarray(0, 1) });
      expect(db.stats().filter.prefixChecks).toBe(s3.prefixChecks);

      await db.compactRange(); // into deeper levels, several files each
      expect(db.stats().levels.slice(1).reduce((n, l) => n + l.files, 0)).toBeGreaterThan(20);
      await checkAgainstModel(db, rng, prefixes, model);
      // At most one table per level is asked about a prefix: the one whose key range holds it (a level
      // does not walk on through the tables after one its filter skipped).
      const levelsWithFiles = db.stats().levels.filter((l) => l.files > 0).length;
      const s4 = db.stats().filter;
      for (const p of never) await expect(collect(db, { prefix: p })).resolves.toEqual([]);
      expect(db.stats().filter.prefixChecks - s4.prefixChecks).toBeLessThanOrEqual(10 * levelsWithFiles);
      expect(db.stats().filter.prefixNegatives - s4.prefixNegatives).toBeGreaterThan(0);
      await db.put(cat(written[0]!, Uint8Array.of(9)), cat(written[0]!, Uint8Array.of(9))); // and the memtable
      model.set(hex(cat(written[0]!, Uint8Array.of(9))), cat(written[0]!, Uint8Array.of(9)));
      await checkAgainstModel(db, rng, prefixes, model);
      await db.close();
    });
  });

  it('without prefixLength nothing is skipped and the answers are the same', async () => {
    await withSeed('prefix-filter-off', async (rng) => {
      const db = await DB.open('/db', { ...KEEP_L0, fs: new MemFileSystem() });
      const prefixes = Array.from({ length: 10 }, (_, i) => Uint8Array.of(0x20 + i, 0xff));
      const model = new Map<string, Uint8Array>();
      await fill(db, rng, prefixes.slice(0, 6), model, 5);
      await checkAgainstModel(db, rng, prefixes, model);
      expect(db.stats().filter.prefixChecks).toBe(0);
      await db.close();
    });
  });

  it('reopening with another prefixLength: each table answers by the length it was written with', async () => {
    const fs = new MemFileSystem();
    const key = (s: string): Uint8Array => new TextEncoder().encode(s);
    const write = async (db: DB, ks: string[]): Promise<void> => {
      for (const k of ['!low', '~high', ...ks]) await db.put(k, k);
      await db.flush();
    };
    const probes = async (db: DB, prefix: string): Promise<{ checks: number; negatives: number }> => {
      const before = db.stats().filter;
      expect(await collect(db, { prefix: key(prefix) })).toEqual([]);
      const after = db.stats().filter;
      return { checks: after.prefixChecks - before.prefixChecks, negatives: after.prefixNegatives - before.prefixNegatives };
    };
    let db = await DB.open('/db', { ...KEEP_L0, fs, prefixLength: 2 });
    await write(db, ['aa1', 'aa2', 'bb1']);
    await db.close();

    db = await DB.open('/db', { ...KEEP_L0, fs, prefixLength: 3 });
    await write(db, ['ccc1', 'ccc2']);
    expect(await probes(db, 'mm')).toEqual({ checks: 1, negatives: 1 }); // the 3-byte table cannot answer for 2 bytes
    expect(await probes(db, 'mmm')).toEqual({ checks: 2, negatives: 2 });
    await db.close();

    db = await DB.open('/db', { ...KEEP_L0, fs, prefixLength: 0 });
    await write(db, ['ddd1']);
    expect(await probes(db, 'mmm')).toEqual({ checks: 2, negatives: 2 }); // the new table has no prefixes
    expect(await collect(db, { prefix: key('aa') })).toEqual(['aa1', 'aa2'].map((s) => hex(key(s))));
    expect(await collect(db, { prefix: key('ccc') })).toEqual(['ccc1', 'ccc2'].map((s) => hex(key(s))));
    expect(await collect(db, { prefix: key('ddd') })).toEqual([hex(key('ddd1'))]);
    const options = (await fs.list('/db')).filter((n) => n.startsWith('OPTIONS-')).sort();
    expect(await readOptionsFile(fs, `/db/${options.at(-1)!}`)).toMatch(/^prefixLength=0$/m);
    await db.close();
  });

  it('refuses a bad prefixLength', async () => {
    for (const bad of [-1, 1.5, 1025, '2']) {
      await rejectsWith(() => DB.open('/db', { fs: new MemFileSystem(), prefixLength: bad as number }), 'ERR_INVALID_ARGUMENT', `prefixLength ${String(bad)}`);
    }
  });
});
