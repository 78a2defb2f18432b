import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/base/coding.js';
import { ValueKind } from '../../src/base/internal-key.js';
import { CorruptionError, InvalidArgumentError } from '../../src/errors.js';
import { WriteBatch, encodeSingleOp, encodedOpLength, walkOps } from '../../src/wal/write-batch.js';
import { withSeed } from '../support/rng.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function ops(b: WriteBatch): [number, string, string][] {
  const out: [number, string, string][] = [];
  b.forEachOp((kind, key, value) => out.push([kind, dec.decode(key), dec.decode(value)]));
  return out;
}

const corrupt = (off: number, detail: string): never => { throw new CorruptionError('ops', off, detail); };

describe('WriteBatch', () => {
  it('keeps operations in order, with strings as UTF-8', () => {
    const b = new WriteBatch().put('k1', 'v1').delete(enc.encode('k2')).put(enc.encode(''), '').put('ü', 'é€');
    expect(b.length).toBe(4);
    expect(ops(b)).toEqual([
      [ValueKind.Put, 'k1', 'v1'], [ValueKind.Delete, 'k2', ''], [ValueKind.Put, '', ''], [ValueKind.Put, 'ü', 'é€'],
    ]);
    expect(b.maxKeyLength).toBe(2);
    expect(b.maxValueLength).toBe(5); // é (2) + € (3)
    expect(b.byteLength).toBe(b.encodedOps().length);
    expect(b.byteLength).toBe(
      encodedOpLength(ValueKind.Put, 2, 2) + encodedOpLength(ValueKind.Delete, 2, 0)
      + encodedOpLength(ValueKind.Put, 0, 0) + encodedOpLength(ValueKind.Put, 2, 5));
  });

  it('copies keys and values when they are added', () => {
    const key = enc.encode('key');
    const b = new WriteBatch().put(key, key);
    key[0] = 0x58;
    expect(ops(b)).toEqual([[ValueKind.Put, 'key', 'key']]);
  });

  it('encodes exactly as encodeSingleOp does', () => {
    const w = new ByteWriter(16);
    encodeSingleOp(w, ValueKind.Put, enc.encode('a'), enc.encode('bc'));
    encodeSingleOp(w, ValueKind.Delete, enc.encode('d'), enc.encode('ignored'));
    const b = new WriteBatch().put('a', 'bc').delete('d');
    expect([...b.encodedOps()]).toEqual([...w.view()]);
    expect([...w.view()]).toEqual([1, 1, 0x61, 2, 0x62, 0x63, 0, 1, 0x64]);
  });

  it('tracks the largest key and value, and clear() resets everything', () => {
    const b = new WriteBatch().put(new Uint8Array(300), new Uint8Array(70_000)).delete(new Uint8Array(500));
    expect([b.maxKeyLength, b.maxValueLength]).toEqual([500, 70_000]);
    expect(b.byteLength).toBe(encodedOpLength(ValueKind.Put, 300, 70_000) + encodedOpLength(ValueKind.Delete, 500, 0));
    b.clear();
    expect([b.length, b.byteLength, b.maxKeyLength, b.maxValueLength]).toEqual([0, 0, 0, 0]);
    expect(ops(b)).toEqual([]);
    b.put('x', 'y');
    expect(ops(b)).toEqual([[ValueKind.Put, 'x', 'y']]);
  });

  it('rejects every bad argument type and changes nothing', () => {
    const bad: [unknown, RegExp][] = [
      [undefined, /got undefined/], [null, /got null/], [42, /got number/], [10n, /got bigint/],
      [true, /got boolean/], [{}, /got an object \(Object\)/], [[1, 2], /got an array/],
      [new ArrayBuffer(4), /got an object \(ArrayBuffer\)/], [new DataView(new ArrayBuffer(2)), /DataView/],
      [Symbol('s'), /got symbol/], [() => 1, /got function/], [Object.create(null), /no prototype/],
      [new Uint16Array(2), /Uint16Array/],
    ];
    const b = new WriteBatch().put('keep', 'me');
    const before = b.encodedOps().slice();
    const calls: [string, (v: unknown) => unknown][] = [
      ['put: key', (v) => b.put(v as string, 'ok')],
      ['put: value', (v) => b.put('ok', v as string)],
      ['delete: key', (v) => b.delete(v as string)],
    ];
    for (const [name, call] of calls) {
      for (const [v, got] of bad) {
        let err: unknown;
        try { call(v); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(InvalidArgumentError);
        const msg = (err as Error).message;
        expect(msg).toContain(`WriteBatch.${name} must be a Uint8Array or a string`);
        expect(msg).toMatch(got);
        expect((err as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
      }
    }
    expect(b.length).toBe(1);
    expect([...b.encodedOps()]).toEqual([...before]);
    expect([b.maxKeyLength, b.maxValueLength]).toEqual([4, 2]);
  });
});

describe('walkOps', () => {
  it('reports malformed operation bytes through fail, never a RangeError', async () => {
    const good = new WriteBatch().put('ab', 'cd').delete('e').encodedOps().slice();
    expect(() => walkOps(good, 0, good.length, 2, undefined, corrupt)).not.toThrow();
    const cases: [Uint8Array, number, RegExp][] = [
      [good, 3, /missing/],
      [good, 1, /left over/],
      [Uint8Array.of(7, 0), 1, /unknown operation kind 7/],
      [Uint8Array.of(1, 5, 0x61), 1, /key length 5 runs past/],
      [Uint8Array.of(1, 0, 9, 0x61), 1, /value length 9 runs past/],
      [Uint8Array.of(0, 0x80), 1, /bad key length varint/],
      [Uint8Array.of(1, 0), 1, /bad value length varint/],
    ];
    for (const [bytes, count, detail] of cases) {
      expect(() => walkOps(bytes, 0, bytes.length, count, undefined, corrupt)).toThrow(detail);
    }
    await withSeed('walkOps fuzz', (rng) => {
      for (let i = 0; i < 2000; i++) {
        const bytes = rng.int(3) === 0 ? rng.bytes(rng.int(40)) : good.slice(0, rng.int(good.length + 1));
        if (bytes.length > 0 && rng.int(2) === 0) bytes[rng.int(bytes.length)] = rng.int(256);
        try {
          walkOps(bytes, 0, bytes.length, 1 + rng.int(3), () => {}, corrupt);
        } catch (e) {
          if (!(e instanceof CorruptionError)) throw e;
        }
      }
    });
  });
});

describe('WriteBatch.deleteRange', () => {
  it('encodes a range delete as kind 0x0f with the end key as its value, in order with the other ops', () => {
    const b = new WriteBatch().put('a', '1').deleteRange('b', 'dd').delete('e');
    expect(ops(b)).toEqual([[ValueKind.Put, 'a', '1'], [ValueKind.RangeDelete, 'b', 'dd'], [ValueKind.Delete, 'e', '']]);
    expect(b.length).toBe(3);
    expect(b.rangeDeleteCount).toBe(1);
    expect(b.maxKeyLength).toBe(2); // the end counts as a key
    expect(b.maxValueLength).toBe(1);
    expect(b.byteLength).toBe(encodedOpLength(ValueKind.Put, 1, 1) + encodedOpLength(ValueKind.RangeDelete, 1, 2) + encodedOpLength(ValueKind.Delete, 1, 0));
    const w = new ByteWriter(16);
    encodeSingleOp(w, ValueKind.RangeDelete, enc.encode('b'), enc.encode('dd'));
    expect([...w.view()]).toEqual([0x0f, 1, 0x62, 2, 0x64, 0x64]);
    b.clear();
    expect(b.rangeDeleteCount).toBe(0);
  });

  it('refuses start >= end and non-key arguments with ERR_INVALID_ARGUMENT, changing nothing', () => {
    const b = new WriteBatch().put('k', 'v');
    const before = [...b.encodedOps()];
    for (const [s, e] of [['b', 'b'], ['c', 'b'], ['', ''], ['a\u0000', 'a']] as const) {
      expect(() => b.deleteRange(s, e)).toThrow(InvalidArgumentError);
    }
    expect(() => b.deleteRange(1 as unknown as string, 'z')).toThrow(InvalidArgumentError);
    expect(() => b.deleteRange('a', null as unknown as string)).toThrow(InvalidArgumentError);
    expect([...b.encodedOps()]).toEqual(before);
    expect(b.length).toBe(1);
    expect(b.rangeDeleteCount).toBe(0);
    expect(b.maxKeyLength).toBe(1);
    // The empty key is a valid start: it sorts before every other key.
    expect(ops(b.deleteRange('', 'a'))[1]).toEqual([ValueKind.RangeDelete, '', 'a']);
  });

  it('walkOps refuses a range delete whose start is not before its end, and a truncated end', () => {
    const good = new WriteBatch().deleteRange('a', 'b').encodedOps().slice();
    const equal = good.slice(); equal[4] = 0x61;
    expect(() => walkOps(equal, 0, equal.length, 1, undefined, corrupt)).toThrow(/start is not before its end/);
    expect(() => walkOps(good, 0, good.length - 1, 1, undefined, corrupt)).toThrow(CorruptionError);
  });
});

