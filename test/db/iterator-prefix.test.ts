/**
 * iterator({ prefix }) (and keys()/values()): exactly the keys that start with the prefix, intersected
 * with any gt/gte/lt/lte, forward and reverse, checked against a sorted model over random byte keys
 * drawn from an alphabet heavy in 0x00 and 0xff (the successor's edge cases: all-0xff prefixes have no
 * upper bound, 0xff tails are dropped). Data sits in tables and the memtable. Argument checks.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { compareBytes } from '../../src/base/bytes.js';
import type { IteratorOptions } from '../../src/db.js';
import { withSeed, type Rng } from '../support/rng.js';
import { hex, openMem, throwsWith } from '../support/db-check.js';

const ALPHABET = [0x00, 0x01, 0x7f, 0xfe, 0xff, 0xff];

function randomKey(rng: Rng, maxLen: number): Uint8Array {
  const n = rng.int(maxLen + 1);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.pick(ALPHABET);
  return out;
}

const startsWith = (k: Uint8Array, p: Uint8Array): boolean =>
  k.length >= p.length && compareBytes(k.subarray(0, p.length), p) === 0;

/** The model's answer: sorted keys with the prefix and inside every given bound. */
function expected(keys: Uint8Array[], o: { prefix: Uint8Array; gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array; reverse: boolean; limit?: number }): string[] {
  let out = keys.filter((k) => startsWith(k, o.prefix) &&
    (o.gt === undefined || compareBytes(k, o.gt) > 0) && (o.gte === undefined || compareBytes(k, o.gte) >= 0) &&
    (o.lt === undefined || compareBytes(k, o.lt) < 0) && (o.lte === undefined || compareBytes(k, o.lte) <= 0));
  if (o.reverse) out = out.reverse();
  if (o.limit !== undefined) out = out.slice(0, o.limit);
  return out.map(hex);
}

describe('iterator({ prefix })', () => {
  it('matches a sorted model over random byte keys, with and without other bounds', async () => {
    await withSeed('iterator-prefix-model', async (rng) => {
      const { db } = await openMem({ compactionExecutor: 'inline' });
      const model = new Map<string, Uint8Array>();
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 60; i++) {
          const k = randomKey(rng, 4);
          if (rng.int(5) === 0) { await db.delete(k); model.delete(hex(k)); } else { await db.put(k, k); model.set(hex(k), k); }
        }
        if (round < 3) await db.flush(); // three tables and a memtable
      }
      const keys = [...model.values()].sort(compareBytes);
      for (let q = 0; q < 400; q++) {
        const prefix = randomKey(rng, 3);
        const o: IteratorOptions & { prefix: Uint8Array; reverse: boolean } = { prefix, reverse: rng.int(2) === 1 };
        if (rng.int(3) === 0) o[rng.pick(['gt', 'gte'] as const)] = randomKey(rng, 4);
        if (rng.int(3) === 0) o[rng.pick(['lt', 'lte'] as const)] = randomKey(rng, 4);
        if (rng.int(4) === 0) o.limit = rng.int(5);
        const want = expected(keys, o as Parameters<typeof expected>[1]);
        const got: string[] = [];
        for await (const [k, v] of db.iterator(o)) {
          expect(hex(v)).toBe(hex(k));
          got.push(hex(k));
        }
        const describe = JSON.stringify(Object.fromEntries(Object.entries(o).map(([n, v]) => [n, v instanceof Uint8Array ? hex(v) : v])));
        expect(got, describe).toEqual(want);
        const ks: string[] = [];
        for await (const k of db.keys(o)) ks.push(hex(k));
        expect(ks, `keys() ${describe}`).toEqual(want);
      }
      await db.close();
    });
  });

  it('takes strings and Buffers, values() too; an all-0xff prefix runs to the end', async () => {
    const { db } = await openMem();
    for (const k of ['a', 'ab', 'abc', 'abd', 'ac', 'b', '']) await db.put(k, `v-${k}`);
    const ff = Buffer.from([0xff]);
    await db.put(Buffer.concat([ff, ff]), 'ff ff');
    await db.put(Buffer.concat([ff, ff, Buffer.from([0])]), 'ff ff 00');
    await db.put(ff, 'ff');
    const keys = async (o: IteratorOptions): Promise<string[]> => {
      const out: string[] = [];
      for await (const k of db.keys(o)) out.push(k.toString('latin1'));
      return out;
    };
    expect(await keys({ prefix: 'ab' })).toEqual(['ab', 'abc', 'abd']);
    expect(await keys({ prefix: Buffer.from('ab'), reverse: true })).toEqual(['abd', 'abc', 'ab']);
    expect(await keys({ prefix: 'ab', gt: 'ab', lte: 'abc' })).toEqual(['abc']);
    expect(await keys({ prefix: 'ab', gte: 'a', lt: 'z' })).toEqual(['ab', 'abc', 'abd']); // bounds wider than the prefix
    expect(await keys({ prefix: 'ab', gte: 'ac' })).toEqual([]);
    expect(await keys({ prefix: '' })).toHaveLength(10);
    expect(await keys({ prefix: Buffer.concat([ff, ff]) })).toEqual(['\xff\xff', '\xff\xff\x00']);
    const values: string[] = [];
    for await (const v of db.values({ prefix: 'a', limit: 2 })) values.push(v.toString());
    expect(values).toEqual(['v-a', 'v-ab']);
    await db.close();
  });

  it('refuses a prefix that is not bytes or a string', async () => {
    const { db } = await openMem();
    throwsWith(() => db.iterator({ prefix: 5 as unknown as string }), 'ERR_INVALID_ARGUMENT', 'iterator({ prefix: 5 })');
    throwsWith(() => db.keys({ prefix: null as unknown as string }), 'ERR_INVALID_ARGUMENT', 'keys({ prefix: null })');
    await db.close();
  });
});

describe('tx.iterator({ prefix })', () => {
  it('sees the snapshot and its own writes within the prefix, intersected with the bounds', async () => {
    const { db } = await openMem({ compactionExecutor: 'inline', prefixLength: 2 });
    for (const k of ['aa1', 'aa2', 'ab1', 'b']) await db.put(k, k);
    await db.flush();
    const tx = db.beginTransaction();
    await tx.put('aa3', 'aa3');
    await tx.delete('aa1');
    const keys = async (o: Parameters<typeof tx.keys>[0]): Promise<string[]> => {
      const out: string[] = [];
      for await (const k of tx.keys(o)) out.push(k.toString());
      return out;
    };
    expect(await keys({ prefix: 'aa' })).toEqual(['aa2', 'aa3']);
    expect(await keys({ prefix: 'a', gt: 'aa2', reverse: true })).toEqual(['ab1', 'aa3']);
    expect(await keys({ prefix: 'zz' })).toEqual([]);
    tx.rollback();
    await db.close();
  });
});

describe('the caller\'s bounds are never written to', () => {
  // Buffer#slice is a view: computing a bound's successor through it once incremented a byte of the
  // caller's key (a later put of that Buffer then wrote another key).
  it('Buffer bounds and prefixes come back unchanged from db and transaction iterators', async () => {
    const { db } = await openMem({ compactionExecutor: 'inline', prefixLength: 1 });
    for (const k of ['k1', 'l1', 'l5', 'l8', 'm1']) await db.put(k, `v-${k}`);
    await db.flush();
    await db.put('l3', 'v-l3');
    const lo = Buffer.from('l1');
    const hi = Buffer.from('l8');
    const p = Buffer.from('l');
    const keys = async (it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<string[]> => {
      const out: string[] = [];
      for await (const [k] of it) out.push(Buffer.from(k).toString());
      return out;
    };
    expect(await keys(db.iterator({ gte: lo, lte: hi }))).toEqual(['l1', 'l3', 'l5', 'l8']);
    expect(await keys(db.iterator({ prefix: p, reverse: true }))).toEqual(['l8', 'l5', 'l3', 'l1']);
    const tx = db.beginTransaction();
    expect(await keys(tx.iterator({ gte: lo, lt: hi }))).toEqual(['l1', 'l3', 'l5']);
    expect(await keys(tx.iterator({ prefix: p, gt: lo }))).toEqual(['l3', 'l5', 'l8']);
    tx.rollback();
    expect([lo.toString(), hi.toString(), p.toString()]).toEqual(['l1', 'l8', 'l']);
    await db.close();
  });
});
