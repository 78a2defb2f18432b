import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValueKind } from '../../src/base/internal-key.js';
import { CorruptionError, InternalError, NotSupportedError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { RecordReader } from '../../src/record/record-reader.js';
import { WAL_HEADER_SIZE } from '../../src/wal/format.js';
import {
  WalGroupEncoder, decodeWalHeader, decodeWalRecord, encodeWalHeader,
} from '../../src/wal/wal-record.js';
import { replayWal } from '../../src/wal/wal-replay.js';
import { WalWriter } from '../../src/wal/wal-writer.js';
import { WriteBatch } from '../../src/wal/write-batch.js';
import { testSeed, withSeed } from '../support/rng.js';

const enc = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

type Op = [kind: number, key: string, value: string];

function decodedOps(data: Uint8Array): { firstSeq: number; lastSeq: number; time: number; ops: [number, ...Op][] }[] {
  const g = decodeWalRecord(data, 'w.log', 0);
  return g.batches.map((b) => {
    const ops: [number, ...Op][] = [];
    let seq = b.firstSeq;
    b.forEachOp((kind, key, value) => ops.push([seq++, kind, Buffer.from(key).toString('hex'), Buffer.from(value).toString('hex')]));
    return { firstSeq: b.firstSeq, lastSeq: b.lastSeq, time: b.commitTimeMs, ops };
  });
}

describe('WAL records', () => {
  const fixture = (name: string): Uint8Array => {
    const text = readFileSync(fileURLToPath(new URL(`../testdata/wal/${name}`, import.meta.url)), 'utf8');
    return Uint8Array.from(text.trim().split(/\s+/).map((h) => parseInt(h, 16)));
  };
  const h = (s: string): string => hex(enc.encode(s));

  it('matches the golden example of FORMAT.md (version 2, with a range delete)', async () => {
    const golden = fixture('000007.log.hex');
    const fs = new MemFileSystem();
    const w = new WalWriter(await fs.openWritable('/000007.log'), 7);
    const e = new WalGroupEncoder();
    e.begin(100, 1_700_000_000_000, 2);
    e.addBatch(new WriteBatch().put('a', '1').delete('b').deleteRange('c', 'f'));
    e.addOp(ValueKind.Put, enc.encode('k'), enc.encode('v'));
    w.appendGroup(e.finish());
    expect(hex(await fs.readFile('/000007.log'))).toBe(hex(golden));
    const r = new RecordReader(golden, '000007.log');
    expect(decodeWalHeader(r.read()!, '000007.log', 0)).toEqual({ version: 2, logNumber: 7 });
    expect(decodedOps(r.read()!)).toEqual([
      { firstSeq: 100, lastSeq: 102, time: 1_700_000_000_000, ops: [[100, 1, h('a'), h('1')], [101, 0, h('b'), ''], [102, 0x0f, h('c'), h('f')]] },
      { firstSeq: 103, lastSeq: 103, time: 1_700_000_000_000, ops: [[103, 1, h('k'), h('v')]] },
    ]);
    expect(r.read()).toBeUndefined();
  });

  it('still reads a version-1 WAL (the previous golden example)', async () => {
    const fs = new MemFileSystem();
    const f = await fs.openWritable('/000007.log');
    await f.append(fixture('000007-v1.log.hex'));
    await f.close();
    const batches: [number, number][] = [];
    const res = await replayWal(fs, '/000007.log', {
      mode: 'absolute', isNewest: true, logNumber: 7, onBatch: (b) => { batches.push([b.firstSeq, b.lastSeq]); },
    });
    expect(res.header).toEqual({ version: 1, logNumber: 7 });
    expect(batches).toEqual([[100, 101], [102, 102]]);
  });

  it('refuses a range delete in a version-1 WAL as corruption (version 1 had no such kind)', () => {
    const e = new WalGroupEncoder();
    e.begin(5, 0, 1);
    e.addBatch(new WriteBatch().deleteRange('c', 'f'));
    const rec = e.finish().slice();
    expect(decodeWalRecord(rec, 'w.log', 0, 2).batches[0]!.opCount).toBe(1);
    expect(() => decodeWalRecord(rec, 'w.log', 0, 1)).toThrow(CorruptionError);
    expect(() => decodeWalRecord(rec, 'w.log', 0, 1)).toThrow(/unknown operation kind 15 in a version-1 WAL/);
  });

  it('refuses a range delete whose start is not before its end', () => {
    const e = new WalGroupEncoder();
    e.begin(5, 0, 1);
    e.addBatch(new WriteBatch().deleteRange('c', 'f'));
    const rec = e.finish().slice();
    const at = rec.indexOf(0x0f, 17);
    rec[at + 2] = 0x67; // start "g" > end "f"
    expect(() => decodeWalRecord(rec, 'w.log', 0)).toThrow(/range delete start is not before its end/);
  });

  it('round-trips groups: batch boundaries, consecutive sequences, commit time (fast-check)', () => {
    const bytes = fc.uint8Array({ maxLength: 40 });
    const op = fc.tuple(fc.constantFrom(ValueKind.Put, ValueKind.Delete), bytes, bytes);
    const batch = fc.tuple(fc.boolean(), fc.array(op, { minLength: 1, maxLength: 6 }));
    const group = fc.record({
      firstSeq: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(2 ** 53 - 200)),
      time: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 45 })),
      batches: fc.array(batch, { minLength: 1, maxLength: 5 }),
    });
    const encoder = new WalGroupEncoder();
    fc.assert(fc.property(group, ({ firstSeq, time, batches }) => {
      encoder.begin(firstSeq, time, batches.length);
      const expected: ReturnType<typeof decodedOps> = [];
      let seq = firstSeq;
      for (const [single, list] of batches) {
        const ops: [number, ...Op][] = [];
        const b = new WriteBatch();
        for (const [kind, k, v] of list) {
          if (kind === ValueKind.Put) b.put(k, v); else b.delete(k);
          ops.push([seq + ops.length, kind, hex(k), kind === ValueKind.Put ? hex(v) : '']);
        }
        if (single && list.length === 1) encoder.addOp(list[0]![0], list[0]![1], list[0]![2]);
        else encoder.addBatch(b);
        expected.push({ firstSeq: seq, lastSeq: seq + list.length - 1, time, ops });
        seq += list.length;
      }
      expect(encoder.lastSeq).toBe(seq - 1);
      const rec = encoder.finish().slice();
      expect(decodedOps(rec)).toEqual(expected);
      const g = decodeWalRecord(rec, 'w.log', 0);
      expect([g.firstSeq, g.lastSeq, g.commitTimeMs]).toEqual([firstSeq, seq - 1, time]);
    }), { seed: testSeed(), numRuns: 200 });
  });

  it('encode() takes the write queue\'s requests as they are', () => {
    const a = new WriteBatch().put('x', '1').put('y', '2');
    const b = new WriteBatch().delete('z');
    const rec = new WalGroupEncoder().encode(
      [{ ops: a.encodedOps(), count: a.length }, { ops: b.encodedOps(), count: b.length }], 5, 77);
    const g = decodeWalRecord(rec, 'w.log', 0);
    expect(g.batches.map((x) => [x.firstSeq, x.lastSeq, x.commitTimeMs])).toEqual([[5, 6, 77], [7, 7, 77]]);
    expect(hex(g.batches[0]!.encodedOps())).toBe(hex(a.encodedOps()));
  });

  it('references large batches and values instead of copying them, and frames the parts', async () => {
    const bigOps = new WriteBatch().put('big', new Uint8Array(100_000).fill(7)).delete('x');
    const bigValue = new Uint8Array(70_000).fill(9);
    const small = new WriteBatch().put('s', 'v');
    const e = new WalGroupEncoder();
    e.begin(1, 5, 4);
    e.addBatch(small);
    e.addBatch(bigOps);
    e.addOp(ValueKind.Put, enc.encode('v'), bigValue);
    e.addOp(ValueKind.Put, enc.encode('w'), enc.encode('tail'));
    const parts = e.finishParts();
    // [header + small batch + big batch's counts] [big batch ops] [op header] [big value] [last op]
    expect(parts.map((p) => p.length)).toEqual([parts[0]!.length, bigOps.byteLength, parts[2]!.length, 70_000, parts[4]!.length]);
    expect(parts[1]!.buffer).toBe(bigOps.encodedOps().buffer);
    expect(parts[3]).toBe(bigValue);
    const whole = e.finish();
    expect(whole.length).toBe(e.byteLength);
    expect(parts.reduce((n, p) => n + p.length, 0)).toBe(whole.length);
    const fs = new MemFileSystem();
    const w = new WalWriter(await fs.openWritable('/1.log'), 1);
    w.appendGroupParts(parts);
    const r = new RecordReader(await fs.readFile('/1.log'), '1.log');
    r.read();
    const rec = r.read()!;
    expect(hex(rec)).toBe(hex(whole));
    const g = decodeWalRecord(rec, '1.log', 0);
    expect(g.batches.map((b) => [b.firstSeq, b.lastSeq])).toEqual([[1, 1], [2, 3], [4, 4], [5, 5]]);
    let sum = 0;
    g.batches[2]!.forEachOp((_k, key, value) => { sum = value.reduce((a, b) => a + b, 0) + key.length; });
    expect(sum).toBe(70_000 * 9 + 1);
    // encodeParts takes the write queue's requests the same way.
    const again = e.encodeParts([{ ops: bigOps.encodedOps(), count: 2 }], 10, 5);
    expect(again.map((p) => p.buffer === bigOps.encodedOps().buffer)).toEqual([false, true]);
    // release() forgets the referenced batch (the db calls it once the record is written), so a huge
    // transaction's batch is not pinned until the next group; the next group encodes as usual.
    e.release();
    expect(again.length).toBe(0); // the parts list is the encoder's own, emptied
    const next = e.encodeParts([{ ops: new WriteBatch().put('a', '1').encodedOps(), count: 1 }], 12, 5);
    expect(next.length).toBe(1);
    expect(next[0]!.length).toBe(e.byteLength);
    expect(decodedOps(e.finish())[0]!.ops).toEqual([[12, ValueKind.Put, hex(enc.encode('a')), hex(enc.encode('1'))]]);
  });

  it('refuses to encode impossible groups (engine bugs)', () => {
    const e = new WalGroupEncoder();
    expect(() => e.begin(0, 1, 1)).toThrow(InternalError);
    expect(() => e.begin(1, -1, 1)).toThrow(InternalError);
    expect(() => e.begin(1, 1, 0)).toThrow(InternalError);
    e.begin(1, 1, 1);
    expect(() => e.addBatchOps(new Uint8Array(0), 0)).toThrow(InternalError);
    expect(() => e.finish()).toThrow(/declared 1 batches, got 0/);
    e.addOp(ValueKind.Delete, enc.encode('k'), new Uint8Array(0));
    expect(() => e.addOp(ValueKind.Delete, enc.encode('k'), new Uint8Array(0))).toThrow(/more WAL batches/);
    e.begin(2 ** 53 - 2, 1, 1);
    expect(() => e.addBatch(new WriteBatch().put('a', 'b').put('c', 'd').put('e', 'f'))).toThrow(/exhausted/);
  });

  it('reports every truncation and damage of a group as CorruptionError naming file and offset', async () => {
    const e = new WalGroupEncoder();
    e.begin(9, 1234, 2);
    e.addBatch(new WriteBatch().put('key', 'value').delete('gone'));
    e.addOp(ValueKind.Put, enc.encode('k'), enc.encode('v'));
    const rec = e.finish().slice();
    for (let n = 0; n < rec.length; n++) {
      let err: unknown;
      try { decodeWalRecord(rec.subarray(0, n), '000003.log', 4242); } catch (x) { err = x; }
      expect(err, `cut at ${n}`).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).file).toBe('000003.log');
      expect((err as CorruptionError).offset).toBe(4242);
    }
    const withExtra = Uint8Array.from([...rec, 0]);
    expect(() => decodeWalRecord(withExtra, 'f', 0)).toThrow(/1 bytes left over after 2 batches/);
    const zeroSeq = rec.slice(); zeroSeq.fill(0, 0, 8);
    expect(() => decodeWalRecord(zeroSeq, 'f', 0)).toThrow(/first sequence number 0/);
    const noBatches = rec.slice(0, 17); noBatches[16] = 0;
    expect(() => decodeWalRecord(noBatches, 'f', 0)).toThrow(/no batches/);
    const hugeSeq = rec.slice(); hugeSeq.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0], 0);
    expect(() => decodeWalRecord(hugeSeq, 'f', 0)).toThrow(/past 2\^53/);
    await withSeed('wal record fuzz', (rng) => {
      for (let i = 0; i < 3000; i++) {
        const bad = rec.slice();
        for (let f = 0; f <= rng.int(3); f++) bad[rng.int(bad.length)] = rng.int(256);
        try {
          const g = decodeWalRecord(bad, 'f', 0);
          for (const b of g.batches) b.forEachOp(() => {});
        } catch (x) {
          if (!(x instanceof CorruptionError)) throw x;
        }
      }
    });
  });

  it('checks the header record: magic, size, version', () => {
    const h = encodeWalHeader(123_456_789);
    expect(h.length).toBe(WAL_HEADER_SIZE);
    expect(decodeWalHeader(h, 'f', 0)).toEqual({ version: 2, logNumber: 123_456_789 });
    const v1 = h.slice(); v1[4] = 1;
    expect(decodeWalHeader(v1, 'f', 0)).toEqual({ version: 1, logNumber: 123_456_789 });
    const notWal = h.slice(); notWal[0] = 0x58;
    expect(() => decodeWalHeader(notWal, 'f', 0)).toThrow(/not a StrataDB WAL/);
    expect(() => decodeWalHeader(h.subarray(0, 12), 'f', 0)).toThrow(CorruptionError);
    expect(() => decodeWalHeader(new Uint8Array(0), 'f', 0)).toThrow(CorruptionError);
    const newer = h.slice(); newer[4] = 3;
    expect(() => decodeWalHeader(newer, 'f', 0)).toThrow(NotSupportedError);
    const zero = h.slice(); zero[4] = 0;
    expect(() => decodeWalHeader(zero, 'f', 0)).toThrow(/zero format version/);
    expect(() => decodeWalHeader(h.subarray(0, 4), 'f', 0)).toThrow(/missing or zero format version/);
    const longerV3 = Uint8Array.from([...h, 1, 2, 3]); longerV3[4] = 3;
    expect(() => decodeWalHeader(longerV3, 'f', 0)).toThrow(NotSupportedError);
  });
});
