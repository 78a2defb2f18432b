/**
 * KeySet (src/mvcc/key-set.ts) against a sorted-array model: both builders give the sorted unique
 * keys with their keyHash52, lowerBound/compareAt agree with compareBytes, and the byte accounting is
 * what the backing stores hold. fast-check runs are seeded from SEED (testSeed) and print it on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes, equalBytes } from '../../src/base/bytes.js';
import { CorruptionError } from '../../src/errors.js';
import { EMPTY_KEY_SET, KeySetBuilder, keyHash52, keySetOfOps, type KeySet } from '../../src/mvcc/key-set.js';
import { WriteBatch } from '../../src/wal/write-batch.js';
import { testSeed } from '../support/rng.js';

const te = new TextEncoder();

/** Keys shaped to collide: empty, prefixes of each other, shared prefixes, a few long ones. */
const keyArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('', 'a', 'ab', 'abc', 'b', 'ba', 'k1', 'k10', 'k2').map((s) => te.encode(s)) },
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 33, maxLength: 80 }) },
);

function sortedUnique(keys: Uint8Array[]): Uint8Array[] {
  const s = [...keys].sort(compareBytes);
  return s.filter((k, i) => i === 0 || compareBytes(s[i - 1]!, k) !== 0);
}

function lowerBoundModel(model: Uint8Array[], probe: Uint8Array): number {
  let i = 0;
  while (i < model.length && compareBytes(model[i]!, probe) < 0) i++;
  return i;
}

function expectSameAs(set: KeySet, model: Uint8Array[], probes: Uint8Array[]): void {
  expect(set.count).toBe(model.length);
  for (let i = 0; i < model.length; i++) {
    expect(equalBytes(set.key(i), model[i]!)).toBe(true);
    expect(set.hashes[i]).toBe(keyHash52(model[i]!));
  }
  for (const p of [...probes, ...model]) {
    const want = lowerBoundModel(model, p);
    expect(set.lowerBound(p)).toBe(want);
    for (let i = 0; i < model.length; i++) expect(Math.sign(set.compareAt(i, p))).toBe(Math.sign(compareBytes(model[i]!, p)));
  }
}

const corrupt = (offset: number, detail: string): never => { throw new CorruptionError('ops', offset, detail); };

describe('keyHash52', () => {
  it('is a 52-bit integer and hashes a sub-range like the copied bytes', () => {
    const buf = te.encode('xxhello worldyy');
    const h = keyHash52(buf, 2, 13);
    expect(h).toBe(keyHash52(te.encode('hello world')));
    expect(Number.isInteger(h) && h >= 0 && h < 2 ** 52).toBe(true);
    expect(keyHash52(new Uint8Array(0))).not.toBe(keyHash52(Uint8Array.of(0)));
  });
});

describe('KeySetBuilder', () => {
  it('keeps the sorted unique keys, skipping a repeat of the previous key (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(keyArb, { maxLength: 200 }), fc.array(keyArb, { maxLength: 8 }), fc.nat(300), (keys, probes, hint) => {
        const sorted = [...keys].sort(compareBytes);
        const b = new KeySetBuilder(hint, hint);
        const appended = sorted.map((k) => b.append(k));
        // true exactly when the key differs from the one before it
        expect(appended).toEqual(sorted.map((k, i) => i === 0 || compareBytes(sorted[i - 1]!, k) !== 0));
        const set = b.finish();
        const model = sortedUnique(keys);
        expectSameAs(set, model, probes);
        const keyBytes = model.reduce((n, k) => n + k.length, 0);
        // exact accounting, and finish() leaves at most ~1/8 slack (plus the minimum sizes)
        expect(set.bytes).toBeGreaterThanOrEqual(keyBytes + 12 * model.length + 4);
        expect(set.bytes).toBeLessThanOrEqual(Math.ceil((keyBytes + 12 * model.length) * 9 / 8) + 64 + 16 + 8 + 100);
      }),
      { seed: testSeed(), numRuns: 200 },
    );
  });

  it('copies what it appends (the caller may reuse its buffer)', () => {
    const b = new KeySetBuilder(1);
    const buf = te.encode('aa');
    b.append(buf);
    buf[1] = 0x62; // 'ab'
    b.append(buf);
    const set = b.finish();
    expect(set.count).toBe(2);
    expect(Buffer.from(set.key(0)).toString()).toBe('aa');
    expect(Buffer.from(set.key(1)).toString()).toBe('ab');
  });

  it('holds 100,000 keys in typed arrays only: ~key bytes + 12 B each', () => {
    const b = new KeySetBuilder(100_000, 100_000 * 8);
    for (let i = 0; i < 100_000; i++) b.append(te.encode(`k${String(i).padStart(7, '0')}`));
    const set = b.finish();
    expect(set.count).toBe(100_000);
    expect(set.bytes).toBe(100_000 * 8 + 4 * 100_001 + 8 * 100_000);
    expect(Buffer.from(set.key(12_345)).toString()).toBe('k0012345');
    expect(set.lowerBound(te.encode('k0012345'))).toBe(12_345);
    expect(set.lowerBound(te.encode('k00123450'))).toBe(12_346);
    expect(set.lowerBound(te.encode('z'))).toBe(100_000);
  });
});

describe('keySetOfOps', () => {
  it('gives the sorted unique keys of any batch of puts and deletes (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined })), { maxLength: 120 }),
        fc.array(keyArb, { maxLength: 8 }),
        fc.boolean(),
        (ops, probes, presorted) => {
          if (presorted) ops.sort((a, b) => compareBytes(a[0], b[0]));
          const batch = new WriteBatch();
          for (const [k, v] of ops) if (v === undefined) batch.delete(k); else batch.put(k, v);
          const set = keySetOfOps(batch.encodedOps(), batch.length, corrupt);
          const model = sortedUnique(ops.map(([k]) => k));
          expectSameAs(set, model, probes);
          if (ops.length > 0) {
            // one backing store: hashes | offsets | keys
            expect(set.bytes).toBe(8 * model.length + 4 * (model.length + 1) + model.reduce((n, k) => n + k.length, 0));
          }
        },
      ),
      { seed: testSeed(), numRuns: 200 },
    );
  });

  it('an empty batch is the shared empty set; one put is one key', () => {
    expect(keySetOfOps(new Uint8Array(0), 0, corrupt)).toBe(EMPTY_KEY_SET);
    const one = keySetOfOps(new WriteBatch().put('k', 'v').encodedOps(), 1, corrupt);
    expect(one.count).toBe(1);
    expect(Buffer.from(one.key(0)).toString()).toBe('k');
    // the set does not alias the batch's buffer (the tracker keeps it past the request)
    expect(one.key(0).buffer).not.toBe(new WriteBatch().put('k', 'v').encodedOps().buffer);
  });

  it('reports malformed operations through fail', () => {
    expect(() => keySetOfOps(Uint8Array.of(7, 0), 1, corrupt)).toThrow(CorruptionError);
    expect(() => keySetOfOps(Uint8Array.of(0, 5, 0x61), 1, corrupt)).toThrow(/runs past/);
  });
});
