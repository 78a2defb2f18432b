/**
 * The table bloom filter: no false negatives, a false-positive rate near the textbook bound, the
 * FILTER-FORMAT.md worked example byte for byte, and malformed filters rejected as CorruptionError.
 * Statistical tests use fixed seeds so their bounds are deterministic; property tests take SEED.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BLOOM_FILTER_POLICY_NAME,
  BLOOM_TRAILER_SIZE,
  BloomFilterBuilder,
  BloomFilterReader,
  bloomHash,
  bloomProbeCount,
} from '../../sstable/bloom.js';
import { CorruptionError, ErrorCode, InvalidArgumentError } from '../../src/errors.js';
import { putFixed32 } from '../../src/base/coding.js';
import { makeRng, testSeed } from '../support/rng.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function build(bitsPerKey: number, keys: Iterable<Uint8Array>): Uint8Array {
  const b = new BloomFilterBuilder(bitsPerKey);
  for (const k of keys) b.addKey(k);
  return b.finish();
}

/** n distinct 16-byte keys whose first byte is `tag`, so sets with different tags are disjoint. */
function taggedKeys(n: number, tag: number, seed: number): Uint8Array[] {
  const rng = makeRng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const k = rng.bytes(16);
    k[0] = tag;
    // Bytes 1..4 carry the index: distinct keys even if the rng repeated itself.
    k[1] = i & 0xff; k[2] = (i >>> 8) & 0xff; k[3] = (i >>> 16) & 0xff; k[4] = (i >>> 24) & 0xff;
    out.push(k);
  }
  return out;
}

/** Measured false positives of a filter over n keys, probed with n absent keys. */
function measureFpr(bitsPerKey: number, n: number): { fpr: number; theory: number; bytes: number } {
  const filter = build(bitsPerKey, taggedKeys(n, 1, 0xb100_0000 + bitsPerKey));
  const reader = new BloomFilterReader(filter, 'fpr.sst', 0);
  let fp = 0;
  for (const k of taggedKeys(n, 2, 0xb200_0000 + bitsPerKey)) if (reader.mayContain(k)) fp++;
  const k = bloomProbeCount(bitsPerKey);
  return { fpr: fp / n, theory: Math.pow(1 - Math.exp(-k / bitsPerKey), k), bytes: filter.length };
}

function expectCorruption(fn: () => unknown, file: string, lo: number, hi: number): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(CorruptionError);
  const c = err as CorruptionError;
  expect(c.code).toBe(ErrorCode.CORRUPTION);
  expect(c.file).toBe(file);
  expect(c.offset).toBeGreaterThanOrEqual(lo);
  expect(c.offset).toBeLessThanOrEqual(hi);
}

describe('BloomFilterBuilder arguments', () => {
  it('accepts integer bits per key from 1 to 30 and refuses the rest', () => {
    for (const ok of [1, 10, 30]) expect(new BloomFilterBuilder(ok).bitsPerKey).toBe(ok);
    for (const bad of [0, -1, 31, 1.5, Number.NaN, Infinity]) {
      expect(() => new BloomFilterBuilder(bad)).toThrow(InvalidArgumentError);
      expect(() => new BloomFilterBuilder(bad)).toThrow(/bitsPerKey/);
    }
  });

  it('uses round(bitsPerKey * ln 2) probes, within the reader limit', () => {
    expect(new BloomFilterBuilder(10).numProbes).toBe(7);
    expect(new BloomFilterBuilder(5).numProbes).toBe(3);
    expect(new BloomFilterBuilder(1).numProbes).toBe(1);
    expect(new BloomFilterBuilder(30).numProbes).toBe(21);
  });

  it('names its policy with a version', () => {
    expect(BLOOM_FILTER_POLICY_NAME).toBe('strata.bloom.v1');
  });
});

describe('no false negatives', () => {
  it('holds for random key sets, empty and long keys included, at every bits per key', () => {
    const key = fc.oneof(
      { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
      { weight: 6, arbitrary: fc.uint8Array({ maxLength: 24 }) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 3000 }) },
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 300 }), fc.integer({ min: 1, max: 30 }), (keys, bitsPerKey) => {
        const filter = build(bitsPerKey, keys);
        const reader = new BloomFilterReader(filter, 'prop.sst', 0);
        for (const k of keys) {
          expect(reader.mayContain(k)).toBe(true);
          expect(reader.mayContainHash(bloomHash(k))).toBe(true);
        }
      }),
      { seed: testSeed(), numRuns: 200 },
    );
  });

  it('holds for 100,000 keys read through a view at an odd offset into a larger buffer', () => {
    const keys = taggedKeys(100_000, 3, 77);
    const filter = build(10, keys);
    const block = new Uint8Array(filter.length + 13);
    block.set(filter, 5);
    const reader = new BloomFilterReader(block.subarray(5, 5 + filter.length), 'view.sst', 4096);
    let misses = 0;
    for (const k of keys) if (!reader.mayContain(k)) misses++;
    expect(misses).toBe(0);
  });
});

describe('false-positive rate', () => {
  it('is within 1.25x of (1 - e^(-kn/m))^k at 10 bits/key (100,000 keys, 100,000 absent probes)', () => {
    const { fpr, theory, bytes } = measureFpr(10, 100_000);
    expect(theory).toBeCloseTo(0.00819, 4); // k = 7
    expect(fpr).toBeLessThanOrEqual(1.25 * theory);
    expect(fpr).toBeGreaterThan(0.5 * theory); // a filter that is all ones or all zeros cannot pass
    expect(bytes).toBe(100_000 * 10 / 8 + BLOOM_TRAILER_SIZE);
  });

  it('is within 1.25x of theory at 5 bits/key', () => {
    const { fpr, theory } = measureFpr(5, 100_000);
    expect(fpr).toBeLessThanOrEqual(1.25 * theory);
    expect(fpr).toBeGreaterThan(0.5 * theory);
  });

  it('is sane at 20 bits/key, where 32-bit hash collisions (n / 2^32) add to the theory', () => {
    const n = 100_000;
    const { fpr, theory } = measureFpr(20, n);
    // theory 0.0067% plus a 0.0023% collision floor: ~9 expected false positives of 100,000.
    expect(fpr).toBeLessThanOrEqual(3 * (theory + n / 2 ** 32));
    expect(fpr).toBeLessThan(0.0003);
  });
});

describe('format', () => {
  const GOLDEN_ABC = '101b31f0941018524000000007000001';

  it('matches the worked example of FILTER-FORMAT.md byte for byte', () => {
    const filter = build(10, ['a', 'b', 'c'].map(utf8));
    expect(hex(filter)).toBe(GOLDEN_ABC);
    // The spec carries the same bytes (FILTER-FORMAT.md now, FORMAT.md once merged).
    const specs = ['FILTER-FORMAT.md', 'FORMAT.md']
      .map((f) => fileURLToPath(new URL(`../../sstable/${f}`, import.meta.url)))
      .filter((p) => existsSync(p))
      .map((p) => readFileSync(p, 'utf8').replace(/\s+/g, ''));
    expect(specs.some((s) => s.includes(GOLDEN_ABC))).toBe(true);
    const reader = new BloomFilterReader(filter, 'golden.sst', 0);
    expect(reader.numBits).toBe(64);
    expect(reader.numProbes).toBe(7);
    for (const k of ['a', 'b', 'c']) expect(reader.mayContain(utf8(k))).toBe(true);
    expect(bloomHash(utf8('a'))).toBe(0x6dba6b55);
  });

  it('writes an empty filter of 64 zero bits that rejects every key', () => {
    const filter = new BloomFilterBuilder(10).finish();
    expect(hex(filter)).toBe('0000000000000000' + '4000000007000001');
    const reader = new BloomFilterReader(filter, 'empty.sst', 0);
    const rng = makeRng(testSeed());
    for (let i = 0; i < 200; i++) expect(reader.mayContain(rng.bytes(rng.int(40)))).toBe(false);
  });

  it('sizes the bit array by distinct consecutive keys: repeats of the previous key count once', () => {
    const b = new BloomFilterBuilder(10);
    for (const k of ['a', 'a', 'a', 'b', 'a']) b.addKey(utf8(k));
    expect(b.keyCount).toBe(3);
    const many = new BloomFilterBuilder(8);
    const key = utf8('same user key');
    for (let i = 0; i < 1000; i++) many.addKey(key);
    expect(many.finish().length).toBe(64 / 8 + BLOOM_TRAILER_SIZE);
  });

  it('is reusable after finish(): the next filter equals one from a fresh builder', () => {
    const reused = new BloomFilterBuilder(10);
    for (const k of taggedKeys(5000, 4, 1)) reused.addKey(k);
    const first = reused.finish();
    expect(reused.keyCount).toBe(0);
    const second = taggedKeys(700, 5, 2);
    for (const k of second) reused.addKey(k);
    expect(reused.keyCount).toBe(700);
    const again = reused.finish();
    expect(hex(again)).toBe(hex(build(10, second)));
    expect(hex(first)).toBe(hex(build(10, taggedKeys(5000, 4, 1)))); // finish() handed out its own bytes
  });
});

describe('malformed filters', () => {
  const good = build(10, taggedKeys(50, 6, 3));
  const t = good.length - BLOOM_TRAILER_SIZE;
  const base = 1000;

  it('refuses a zero-length or too-short filter, and a trailer with no bit array', () => {
    for (let len = 0; len < BLOOM_TRAILER_SIZE; len++) {
      expectCorruption(() => new BloomFilterReader(good.subarray(0, len), 'short.sst', base), 'short.sst', base, base);
    }
    const metadataOnly = new Uint8Array([0, 0, 0, 0, 7, 0, 0, 1]);
    expectCorruption(() => new BloomFilterReader(metadataOnly, 'meta.sst', base), 'meta.sst', base, base);
  });

  it('refuses every truncation, from either end', () => {
    for (let cut = 1; cut < good.length; cut++) {
      expectCorruption(() => new BloomFilterReader(good.subarray(0, good.length - cut), 'cut.sst', base), 'cut.sst', base, base + good.length);
      expectCorruption(() => new BloomFilterReader(good.subarray(cut), 'cut.sst', base), 'cut.sst', base, base + good.length);
    }
  });

  it('names the offset of the bad field', () => {
    const at = (i: number, v: number): Uint8Array => { const c = good.slice(); c[i] = v; return c; };
    expectCorruption(() => new BloomFilterReader(at(t + 7, 2), 'f.sst', base), 'f.sst', base + t + 7, base + t + 7);
    expectCorruption(() => new BloomFilterReader(at(t + 6, 1), 'f.sst', base), 'f.sst', base + t + 5, base + t + 5);
    expectCorruption(() => new BloomFilterReader(at(t + 4, 0), 'f.sst', base), 'f.sst', base + t + 4, base + t + 4);
    expectCorruption(() => new BloomFilterReader(at(t + 4, 31), 'f.sst', base), 'f.sst', base + t + 4, base + t + 4);
    const wrongBits = good.slice();
    putFixed32(wrongBits, t, t * 8 + 8);
    expectCorruption(() => new BloomFilterReader(wrongBits, 'f.sst', base), 'f.sst', base + t, base + t);
  });

  it('gives CorruptionError or a working reader for every single-bit flip of the trailer', () => {
    const probes = taggedKeys(200, 7, 4);
    for (let bit = 0; bit < BLOOM_TRAILER_SIZE * 8; bit++) {
      const bad = good.slice();
      bad[t + (bit >>> 3)]! ^= 1 << (bit & 7);
      let reader: BloomFilterReader;
      try {
        reader = new BloomFilterReader(bad, 'flip.sst', base);
      } catch (e) {
        expect(e).toBeInstanceOf(CorruptionError);
        continue;
      }
      // Only the probe count can change undetected (the block CRC is what catches it in a table).
      expect(reader.numProbes).not.toBe(7);
      for (const k of probes) expect(typeof reader.mayContain(k)).toBe('boolean');
    }
  });

  it('never throws anything but CorruptionError, and never misbehaves, on arbitrary bytes', () => {
    const trailerLike = fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 40 }), fc.uint8Array({ maxLength: 3 })).map(([bytes, k, r]) => {
      const out = new Uint8Array(bytes + BLOOM_TRAILER_SIZE);
      putFixed32(out, bytes, bytes * 8);
      out[bytes + 4] = k;
      out.set(r, bytes + 5);
      out[bytes + 7] = 1;
      return out;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), trailerLike), fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 20 }), (bytes, keys) => {
        let reader: BloomFilterReader;
        try {
          reader = new BloomFilterReader(bytes, 'fuzz.sst', 0);
        } catch (e) {
          expect(e).toBeInstanceOf(CorruptionError);
          return;
        }
        for (const k of keys) expect(typeof reader.mayContain(k)).toBe('boolean');
      }),
      { seed: testSeed(), numRuns: 500 },
    );
  });
});
