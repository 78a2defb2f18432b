/**
 * StrataLevel.clear() on a database: one range tombstone per clear (counted in stats().rangeDeletions)
 * that deletes exactly what abstract-level's range holds, checked against a sorted-map model over
 * byte keys that are prefixes of each other and hold 0x00 and 0xff, across flushes, compactions and a
 * reopen; `limit` (forward and reverse) still key by key; sublevels; encodings; a put after a clear;
 * iterators and snapshots taken before a clear keep their view.
 */
import { describe, expect, it } from 'vitest';
import { StrataLevel } from '../../src/level-adapter/index.js';
import type { DB, WriteBatch, WriteOptions } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { withSeed, type Rng } from '../support/rng.js';

type View = StrataLevel<Uint8Array, Uint8Array>;
interface Bounds { gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array; limit?: number; reverse?: boolean }

const ALPHABET = [0x00, 0x01, 0x61, 0x62, 0xfe, 0xff];
const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex');
const cmp = (a: Uint8Array, c: Uint8Array): number => Buffer.compare(a, c);

async function open(dir: string, extra: object = {}): Promise<View> {
  const db = new StrataLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', ...extra });
  await db.open();
  return db;
}

function inside(k: Uint8Array, r: Bounds): boolean {
  if (r.gte !== undefined ? cmp(k, r.gte) < 0 : r.gt !== undefined && cmp(k, r.gt) <= 0) return false;
  if (r.lte !== undefined ? cmp(k, r.lte) > 0 : r.lt !== undefined && cmp(k, r.lt) >= 0) return false;
  return true;
}

/** The model's clear: abstract-level's semantics, limit counting in iteration order. */
function modelClear(model: Map<string, Uint8Array>, r: Bounds): void {
  const hit = [...model.values()].filter((k) => inside(k, r)).sort(cmp);
  if (r.reverse) hit.reverse();
  for (const k of hit.slice(0, r.limit ?? hit.length)) model.delete(hex(k));
}

function randomKey(rng: Rng): Uint8Array {
  return Uint8Array.from({ length: 1 + rng.int(3) }, () => rng.pick(ALPHABET));
}

/** A bound: often a key present, or one of its prefixes or extensions, so edges get hit. */
function randomBound(rng: Rng, model: Map<string, Uint8Array>): Uint8Array {
  const present = [...model.values()];
  if (present.length === 0 || rng.int(3) === 0) return randomKey(rng);
  const k = rng.pick(present);
  switch (rng.int(3)) {
    case 0: return k;
    case 1: return k.subarray(0, Math.max(1, k.length - 1));
    default: return Uint8Array.from([...k, rng.pick(ALPHABET)]);
  }
}

function randomRange(rng: Rng, model: Map<string, Uint8Array>): Bounds {
  const r: Bounds = {};
  const lower = rng.int(3);
  if (lower === 1) r.gt = randomBound(rng, model);
  if (lower === 2) r.gte = randomBound(rng, model);
  const upper = rng.int(3);
  if (upper === 1) r.lt = randomBound(rng, model);
  if (upper === 2) r.lte = randomBound(rng, model);
  if (rng.int(5) === 0) { r.limit = rng.int(4); r.reverse = rng.int(2) === 0; }
  return r;
}

/** The batches the adapter writes from now on (their op and range-delete counts). */
function recordWrites(db: View): { ops: number; ranges: number }[] {
  const strata = db.strata;
  const seen: { ops: number; ranges: number }[] = [];
  const write = Object.getPrototypeOf(strata).write as DB['write'];
  strata.write = (batch: WriteBatch, o?: WriteOptions) => {
    seen.push({ ops: batch.length, ranges: batch.rangeDeleteCount });
    return write.call(strata, batch, o);
  };
  return seen;
}

async function keysOf(db: View): Promise<string[]> {
  return (await db.keys().all()).map(hex);
}

const sorted = (model: Map<string, Uint8Array>): string[] => [...model.values()].sort(cmp).map(hex);

function describeRange(r: Bounds): string {
  return Object.entries(r).map(([n, v]) => `${n}=${v instanceof Uint8Array ? hex(v) : String(v)}`).join(' ') || '(all)';
}

describe('StrataLevel clear()', () => {
  it('deletes what the range holds, with one tombstone per clear, against a model', async () => {
    await withSeed('level clear model', async (rng) => {
      const dir = await tempDir();
      let db = await open(dir, { writeBufferSize: 4096 });
      const model = new Map<string, Uint8Array>();
      const log: string[] = [];
      let tombstones = 0;
      for (let step = 0; step < 250; step++) {
        const op = rng.int(20);
        if (op < 12) {
          const k = randomKey(rng);
          log.push(`put ${hex(k)}`);
          await db.put(k, rng.bytes(40));
          model.set(hex(k), k);
        } else if (op < 17) {
          const r = randomRange(rng, model);
          log.push(`clear ${describeRange(r)}`);
          const writes = recordWrites(db);
          await db.clear(r);
          modelClear(model, r);
          // one batch holding at most one tombstone (and a point delete only for a key as long as
          // maxKeySize); limit goes key by key; a range holding no key writes nothing
          if (r.limit === undefined) {
            expect(writes.length, log.join('\n')).toBeLessThanOrEqual(1);
            expect(writes.every((w) => w.ranges === 1 && w.ops === 1), log.join('\n')).toBe(true);
            tombstones += writes.length;
          } else {
            expect(writes.every((w) => w.ranges === 0), log.join('\n')).toBe(true);
          }
          expect(await keysOf(db), log.join('\n')).toEqual(sorted(model));
        } else if (op < 18) {
          log.push('flush');
          await db.strata.flush();
        } else if (op < 19) {
          log.push('compactRange');
          await db.compactRange(undefined, undefined);
        } else {
          log.push('reopen');
          await db.close();
          db = await open(dir, { writeBufferSize: 4096 });
        }
      }
      expect(await keysOf(db), log.join('\n')).toEqual(sorted(model));
      for (const k of model.values()) expect(await db.has(k)).toBe(true);
      expect(tombstones).toBeGreaterThan(10);
      await db.close();
    });
  });

  it('writes one tombstone for a whole-database clear and none on an empty one', async () => {
    const db = await open(await tempDir());
    await db.clear();
    expect(db.strata.stats().rangeDeletions.memtables).toBe(0);
    for (let i = 0; i < 5000; i++) await db.put(Uint8Array.from([0xff, i >> 8, i & 0xff]), Uint8Array.of(1));
    await db.put(Uint8Array.of(0xff, 0xff, 0xff, 0xff), Uint8Array.of(2));
    await db.clear();
    expect(db.strata.stats().rangeDeletions.memtables).toBe(1);
    expect(await db.keys().all()).toEqual([]);
    // clear then put: the new key is newer than the tombstone
    await db.put(Uint8Array.of(0xff, 0x00, 0x01), Uint8Array.of(3));
    expect(hex((await db.get(Uint8Array.of(0xff, 0x00, 0x01)))!)).toBe('03');
    expect((await db.keys().all()).map(hex)).toEqual(['ff0001']);
    await db.close();
  });

  it('deletes a largest key as long as maxKeySize, and goes key by key for a gt bound that long', async () => {
    const db = await open(await tempDir(), { maxKeySize: 3 });
    const keys = ['61', '6161', '616161', 'ffffff', 'ff'].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
    for (const k of keys) await db.put(k, Uint8Array.of(1));
    await db.clear({ gt: Uint8Array.of(0x61, 0x61, 0x61) });
    expect((await keysOf(db))).toEqual(['61', '6161', '616161']);
    await db.clear({ gte: Uint8Array.of(0x61, 0x61) });
    expect((await keysOf(db))).toEqual(['61']);
    await db.close();
  });

  it('limit counts keys in iteration order, forward and reverse', async () => {
    const db = await open(await tempDir());
    for (const c of 'abcdefgh') await db.put(Buffer.from(c), Uint8Array.of(1));
    await db.clear({ gt: Buffer.from('a'), limit: 2 });
    await db.clear({ lte: Buffer.from('g'), limit: 2, reverse: true });
    expect((await db.keys().all()).map((k) => Buffer.from(k).toString())).toEqual(['a', 'd', 'e', 'h']);
    expect(db.strata.stats().rangeDeletions.memtables).toBe(0);
    await db.close();
  });

  it('a sublevel clear is one tombstone over its prefix and spares the parent and other sublevels', async () => {
    const db = new StrataLevel<string, string>(await tempDir());
    await db.open();
    const a = db.sublevel<string, string>('a', {});
    const ab = db.sublevel<string, string>('ab', {});
    const nested = a.sublevel<string, string>('n', {});
    for (let i = 0; i < 300; i++) {
      const k = String(i).padStart(3, '0');
      await a.put(k, 'a'); await ab.put(k, 'ab'); await nested.put(k, 'n'); await db.put(k, 'root');
    }
    await db.put('!a#', 'just past a'); await db.put('~', 'last');
    await db.strata.flush();
    await a.clear({ gte: '100', lt: '200' });
    expect(db.strata.stats().rangeDeletions.memtables).toBe(1);
    expect((await a.keys({ gte: '0', lt: '4' }).all()).length).toBe(200);
    expect(await nested.get('150')).toBe('n');
    await a.clear();
    expect(db.strata.stats().rangeDeletions.memtables).toBe(2);
    expect(await a.keys().all()).toEqual([]);
    // a's range holds its nested sublevel's keys too, as abstract-level's prefixes order them
    expect(await nested.keys().all()).toEqual([]);
    expect((await ab.keys().all()).length).toBe(300);
    expect(await db.get('!a#')).toBe('just past a');
    expect(await db.get('~')).toBe('last');
    expect((await db.keys({ lt: '!' }).all()).length).toBe(0);
    expect((await db.keys({ gte: '0', lt: '4' }).all()).length).toBe(300);
    await db.close();
  });

  it('keeps utf8, buffer and view key encodings working', async () => {
    const db = new StrataLevel<string, string>(await tempDir());
    await db.open();
    for (const k of ['a', 'ab', 'b', 'é', 'z']) await db.put(k, k);
    await db.clear({ gt: 'a', lte: 'b' });
    expect(await db.keys().all()).toEqual(['a', 'z', 'é']);
    await db.clear({ gte: Buffer.from('z'), keyEncoding: 'buffer' });
    expect(await db.keys().all()).toEqual(['a']);
    await db.put('m', 'm');
    await db.clear({ lt: new TextEncoder().encode('m'), keyEncoding: 'view' });
    expect(await db.keys().all()).toEqual(['m']);
    await db.close();
  });

  it('iterators and snapshots opened before a clear keep seeing the old data', async () => {
    const db = new StrataLevel<string, string>(await tempDir(), { writeBufferSize: 8192 });
    await db.open();
    for (let i = 0; i < 2000; i++) await db.put(String(i).padStart(4, '0'), 'v');
    const it = db.iterator({ gte: '0500' });
    const first = await it.next();
    const snap = db.snapshot();
    await db.clear({ gte: '0100', lt: '1900' });
    await db.strata.flush();
    await db.compactRange(undefined, undefined);
    expect(first?.[0]).toBe('0500');
    expect((await it.all()).length).toBe(1499);
    expect(await db.get('1000', { snapshot: snap })).toBe('v');
    expect((await db.keys({ snapshot: snap }).all()).length).toBe(2000);
    expect(await db.get('1000')).toBeUndefined();
    expect((await db.keys().all()).length).toBe(200);
    // a clear with a snapshot deletes only what the snapshot sees: a newer key stays
    await db.put('5000', 'new');
    await db.clear({ snapshot: snap });
    expect(await db.keys().all()).toEqual(['5000']);
    await snap.close();
    await db.close();
  });
});
