/**
 * WriteLog (a transaction's packed write buffer), its iterator and the batch made from it, against a
 * model: the list of writes in order. fast-check runs each sequence with the real hash and with
 * injected ones that collide (every key in one chain, or by length), over keys that include the
 * empty key and prefixes of each other, empty values, keys written many times, deletes then puts,
 * range deletes then puts inside them, and iterators made between writes (they must keep showing
 * the log as it was when made, across later writes and buffer growth). Then a transaction built on
 * it: iterators made between writes, a key written 10,000 times, and the commit's contents.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Buffer } from 'node:buffer';
import { WriteLog, type LogKeyHash } from '../../src/mvcc/write-log.js';
import { WriteLogIterator } from '../../src/mvcc/write-log-iterator.js';
import { encodeWriteLog } from '../../src/mvcc/write-buffer-batch.js';
import { walkOps } from '../../src/wal/write-batch.js';
import { KIND_FOR_SEEK, ValueKind, compareInternalKeys, kindOf, makeInternalKey, seqOf, userKeyOf } from '../../src/base/internal-key.js';
import { compareBytes } from '../../src/base/bytes.js';
import { DB } from '../../src/index.js';
import { testSeed } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';

const BASE = 2 ** 52;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const KEYS = ['', 'a', 'a\0', 'ab', 'abc', 'b', 'ba', 'c'].map((k) => Buffer.from(k));
const HASHES: [string, LogKeyHash | undefined][] = [
  ['murmur3', undefined],
  ['constant (every key collides)', () => 7],
  ['key length', (_d, s, e) => e - s],
];

type Op =
  | { t: 'put'; k: number; v: number }
  | { t: 'del'; k: number }
  | { t: 'range'; s: number; e: number }
  | { t: 'iter' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('put' as const), k: fc.nat(KEYS.length - 1), v: fc.nat(40) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: fc.nat(KEYS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('range' as const), s: fc.nat(KEYS.length - 1), e: fc.nat(KEYS.length - 1) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'iter' as const }) },
);

/** Value v: empty for 0, else v bytes (so values cross the varint and growth boundaries). */
const valueOf = (v: number): Uint8Array => new Uint8Array(v * 7).fill(v);

interface Version { key: Uint8Array; seq: number; kind: number; value: Uint8Array }
interface Model { ops: { key: Uint8Array; kind: number; value: Uint8Array; at: number }[]; ranges: { s: Uint8Array; e: Uint8Array; at: number }[] }

/** The newest op of each key, sorted, as the iterator must show them (seq from the log offset). */
function newest(m: Model): Version[] {
  const by = new Map<string, Version>();
  for (const o of m.ops) by.set(hex(o.key), { key: o.key, seq: BASE + 2 * o.at + 2, kind: o.kind, value: o.value });
  return [...by.values()].sort((a, b) => compareBytes(a.key, b.key));
}

function drain(it: WriteLogIterator, reverse = false): Version[] {
  const out: Version[] = [];
  if (reverse) it.seekToLast(); else it.seekToFirst();
  for (; it.valid(); reverse ? it.prev() : it.next()) {
    const k = it.key();
    out.push({ key: Buffer.from(userKeyOf(k)), seq: seqOf(k), kind: kindOf(k), value: Buffer.from(it.value()) });
  }
  return reverse ? out.reverse() : out;
}

const norm = (vs: Version[]): string[] => vs.map((v) => `${hex(v.key)}#${v.seq - BASE}:${v.kind}=${hex(v.value)}`);

/** What the batch must hold: the union of the ranges, then each key's newest op unless a later range deleted it, in log order. */
function expectedBatch(m: Model): string[] {
  const out: string[] = [];
  const ranges = [...m.ranges].sort((a, b) => compareBytes(a.s, b.s));
  const merged: { s: Uint8Array; e: Uint8Array }[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && compareBytes(r.s, last.e) <= 0) { if (compareBytes(r.e, last.e) > 0) last.e = r.e; } else merged.push({ s: r.s, e: r.e });
  }
  for (const r of merged) out.push(`R ${hex(r.s)} ${hex(r.e)}`);
  const last = new Map<string, number>();
  m.ops.forEach((o, i) => last.set(hex(o.key), i));
  m.ops.forEach((o, i) => {
    if (last.get(hex(o.key)) !== i) return;
    const deletedAfter = m.ranges.some((r) => r.at > o.at && compareBytes(r.s, o.key) <= 0 && compareBytes(o.key, r.e) < 0);
    if (!deletedAfter) out.push(`${o.kind} ${hex(o.key)} ${hex(o.value)}`);
  });
  return out;
}

function decodeBatch(ops: Uint8Array, count: number): string[] {
  const out: string[] = [];
  walkOps(ops, 0, ops.length, count, (kind, k, v) => {
    out.push(kind === ValueKind.RangeDelete ? `R ${hex(k)} ${hex(v)}` : `${kind} ${hex(k)} ${hex(v)}`);
  }, (off, d) => { throw new Error(`malformed at ${off}: ${d}`); });
  return out;
}

describe('WriteLog against a model of its writes', () => {
  it.each(HASHES)('hash %s: find, sorted iteration, seeks, iterators made between writes, the batch (fast-check)', (_name, hash) => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(fc.tuple(fc.nat(KEYS.length - 1), fc.nat(3)), { minLength: 1, maxLength: 8 }), (ops, seeks) => {
      const log = new WriteLog(BASE, hash);
      const m: Model = { ops: [], ranges: [] };
      const made: { it: WriteLogIterator; want: string[] }[] = [];
      for (const op of ops) {
        if (op.t === 'put' || op.t === 'del') {
          const kind = op.t === 'put' ? ValueKind.Put : ValueKind.Delete;
          const value = op.t === 'put' ? valueOf(op.v) : new Uint8Array(0);
          m.ops.push({ key: KEYS[op.k]!, kind, value, at: log.byteLength });
          log.append(kind, KEYS[op.k]!, value);
        } else if (op.t === 'range') {
          if (compareBytes(KEYS[op.s]!, KEYS[op.e]!) >= 0) continue;
          m.ranges.push({ s: KEYS[op.s]!, e: KEYS[op.e]!, at: log.byteLength });
          log.deleteRange(KEYS[op.s]!, KEYS[op.e]!);
        } else {
          made.push({ it: new WriteLogIterator(log.buffer, log.byteLength, log.sortedOffsets(), BASE), want: norm(newest(m)) });
        }
      }
      // point reads: the newest op of each key
      for (const key of KEYS) {
        const mine = m.ops.filter((o) => compareBytes(o.key, key) === 0).pop();
        const off = log.find(key);
        if (!mine) { expect(off).toBe(-1); continue; }
        expect(off).toBe(mine.at);
        expect(log.kindAt(off)).toBe(mine.kind);
        expect(hex(log.valueAt(off))).toBe(hex(mine.value));
        expect(hex(log.keyAt(off))).toBe(hex(key));
      }
      // range delete sequences sit between the ops around them
      for (const r of m.ranges) {
        const f = log.rangeDelFragments();
        expect(f.maxCoveringSeq(r.s, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(BASE + 2 * r.at + 1);
      }
      // iteration now, both ways, and every iterator made earlier still shows its moment
      const want = newest(m);
      const it = new WriteLogIterator(log.buffer, log.byteLength, log.sortedOffsets(), BASE);
      expect(norm(drain(it))).toEqual(norm(want));
      expect(norm(drain(it, true))).toEqual(norm(want));
      for (const x of made) expect(norm(drain(x.it))).toEqual(x.want);
      // seek / seekForPrev against a linear scan over internal keys
      const iks = want.map((v) => makeInternalKey(v.key, v.seq, v.kind));
      for (const [k, s] of seeks) {
        const pick = want.find((v) => compareBytes(v.key, KEYS[k]!) === 0);
        const seq = s === 0 ? BASE * 2 - 1 : s === 1 || !pick ? 1 : s === 2 ? pick.seq : pick.seq + 1;
        const target = makeInternalKey(KEYS[k]!, seq, s === 3 ? 0 : KIND_FOR_SEEK);
        const ge = iks.findIndex((ik) => compareInternalKeys(ik, target) >= 0);
        it.seek(target);
        expect(it.valid() ? hex(it.key()) : 'end').toBe(ge < 0 ? 'end' : hex(iks[ge]!));
        let le = -1;
        iks.forEach((ik, i) => { if (compareInternalKeys(ik, target) <= 0) le = i; });
        it.seekForPrev(target);
        expect(it.valid() ? hex(it.key()) : 'end').toBe(le < 0 ? 'end' : hex(iks[le]!));
      }
      // the batch: the log itself when nothing was rewritten and nothing range-deleted
      const { ops: batch, count, userBytes } = encodeWriteLog(log);
      expect(decodeBatch(batch, count)).toEqual(expectedBatch(m));
      const distinct = new Set(m.ops.map((o) => hex(o.key))).size;
      if (m.ranges.length === 0 && distinct === m.ops.length) {
        expect(batch.buffer).toBe(log.buffer.buffer);
        expect(userBytes).toBe(m.ops.reduce((n, o) => n + o.key.length + o.value.length, 0));
      }
    }), { seed: testSeed(), numRuns: 300 });
  });

  it('grows its index and buffer through 100,000 keys with every key colliding in 16 home slots', () => {
    const log = new WriteLog(BASE, (d, s) => (s < d.length ? d[s]! : 0) & 15);
    const key = (i: number): Uint8Array => Buffer.from(`${i % 16}:${i}`);
    const N = 20_000;
    for (let i = 0; i < N; i++) log.append(ValueKind.Put, key(i), Buffer.from(`v${i}`));
    for (let i = 0; i < N; i += 7) log.append(ValueKind.Delete, key(i), new Uint8Array(0));
    for (let i = 0; i < N; i += 97) expect(log.kindAt(log.find(key(i)))).toBe(i % 7 === 0 ? ValueKind.Delete : ValueKind.Put);
    expect(log.find(Buffer.from('absent'))).toBe(-1);
    expect(log.sortedOffsets().length).toBe(N);
    expect(log.rewrites).toBe(Math.ceil(N / 7));
  });
});

describe('a transaction on the write log', () => {
  it('iterators made between writes show the writes before them; a key written 10,000 times; the commit', async () => {
    const db = await DB.open(await tempDir(), { compactionExecutor: 'inline' });
    await db.put('a', 'db-a');
    await db.put('m', 'db-m');
    const tx = db.beginTransaction();
    const scan = async (it: AsyncIterable<[Buffer, Buffer]>): Promise<string[]> => {
      const out: string[] = [];
      for await (const [k, v] of it) out.push(`${k}=${v}`);
      return out;
    };
    tx.put('', '');
    tx.delete('a');
    const first = tx.iterator();
    const firstReverse = tx.iterator({ reverse: true });
    for (let i = 0; i < 10_000; i++) tx.put('hot', `h${i}`);
    tx.put('a', 'tx-a');
    for (let i = 0; i < 2000; i++) tx.put(`n${String(i).padStart(4, '0')}`, 'x'); // the index and the log grow past what `first` saw
    tx.deleteRange('n0001', 'n2000');
    tx.put('n0500', '');
    const second = tx.iterator({ gte: 'a', lt: 'n1' });
    tx.delete('hot');
    expect(await scan(first)).toEqual(['=', 'm=db-m']);
    expect(await scan(firstReverse)).toEqual(['m=db-m', '=']);
    expect(await scan(second)).toEqual(['a=tx-a', 'hot=h9999', 'm=db-m', 'n0000=x', 'n0500=']);
    expect((await tx.get('hot'))).toBeUndefined();
    expect((await tx.get('n0500'))?.toString()).toBe('');
    expect((await tx.get('n0499'))).toBeUndefined();
    await tx.commit();
    const all: string[] = [];
    for await (const [k, v] of db.iterator()) all.push(`${k}=${v}`);
    expect(all).toEqual(['=', 'a=tx-a', 'm=db-m', 'n0000=x', 'n0500=']);
    await db.close();
  });
});
