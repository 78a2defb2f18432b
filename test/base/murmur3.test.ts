/**
 * MurmurHash3_x86_32 must match the reference bit for bit: the filter bytes on disk depend on it
 * (sstable/FILTER-FORMAT.md "Hash"). Vectors from SMHasher and the published test tables.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fmix32, murmurHash3x86_32 } from '../../src/base/murmur3.js';
import { makeRng, testSeed } from '../support/rng.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const hash = (data: Uint8Array, seed: number): number => murmurHash3x86_32(data, 0, data.length, seed);

describe('murmurHash3x86_32', () => {
  it('matches published vectors', () => {
    expect(hash(new Uint8Array(0), 0)).toBe(0);
    expect(hash(new Uint8Array(0), 1)).toBe(0x514e28b7);
    expect(hash(new Uint8Array(0), 0xffffffff)).toBe(0x81f16f39);
    expect(hash(new Uint8Array([0, 0, 0, 0]), 0)).toBe(0x2362f9de);
    expect(hash(utf8('aaaa'), 0x9747b28c)).toBe(0x5a97808a);
    expect(hash(utf8('abc'), 0)).toBe(0xb3dd93fa);
    expect(hash(utf8('Hello, world!'), 1234)).toBe(0xfaf6cdb3);
    expect(hash(utf8('The quick brown fox jumps over the lazy dog'), 0)).toBe(0x2e4ff723);
    expect(hash(utf8('The quick brown fox jumps over the lazy dog'), 0x9747b28c)).toBe(0x2fa826cd);
  });

  it("passes SMHasher's verification test (every length 0..255, every tail)", () => {
    // SMHasher VerificationTest: hash {0}, {0,1}, ... {0..254} (lengths 0..255) with seed 256 - len,
    // concatenate the hashes little-endian, hash that with seed 0; MurmurHash3_x86_32 gives 0xB0F57EE3.
    const key = new Uint8Array(256);
    const hashes = new Uint8Array(1024);
    const view = new DataView(hashes.buffer);
    for (let i = 0; i < 256; i++) {
      key[i] = i;
      view.setUint32(i * 4, murmurHash3x86_32(key, 0, i, 256 - i), true);
    }
    expect(hash(hashes, 0)).toBe(0xb0f57ee3);
  });

  it('hashes a range exactly as it hashes a copy of that range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat(), fc.integer(), (data, a, b, seed) => {
        const start = data.length === 0 ? 0 : a % (data.length + 1);
        const end = start + (b % (data.length - start + 1));
        expect(murmurHash3x86_32(data, start, end, seed)).toBe(hash(data.slice(start, end), seed));
      }),
      { seed: testSeed(), numRuns: 300 },
    );
  });

  it('always returns an unsigned 32-bit integer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer(), (data, seed) => {
        const h = hash(data, seed);
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
      }),
      { seed: testSeed(), numRuns: 200 },
    );
  });

  it('avalanches: one flipped input bit changes about half of the output bits', () => {
    const rng = makeRng(0x5eed_0001); // fixed: a statistical bound must not depend on the clock
    let changed = 0;
    let trials = 0;
    for (let t = 0; t < 200; t++) {
      const key = rng.bytes(16);
      const base = hash(key, 7);
      for (let bit = 0; bit < 128; bit++) {
        key[bit >>> 3]! ^= 1 << (bit & 7);
        let x = (hash(key, 7) ^ base) >>> 0;
        key[bit >>> 3]! ^= 1 << (bit & 7);
        while (x) { changed += x & 1; x >>>= 1; }
        trials++;
      }
    }
    const mean = changed / trials; // ideal 16 of 32
    expect(mean).toBeGreaterThan(15.5);
    expect(mean).toBeLessThan(16.5);
  });
});

describe('fmix32', () => {
  it('is the finaliser murmur applies to an empty input', () => {
    // With no blocks and no tail, MurmurHash3 is fmix32(seed ^ 0).
    for (const seed of [0, 1, 0xbc9f1d34, 0xffffffff]) expect(fmix32(seed)).toBe(hash(new Uint8Array(0), seed));
  });

  it('is a bijection on a sample (no two of 2^16 consecutive inputs collide)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1 << 16; i++) seen.add(fmix32(0x12340000 + i));
    expect(seen.size).toBe(1 << 16);
  });
});
