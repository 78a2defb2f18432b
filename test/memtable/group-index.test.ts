import { describe, expect, it } from 'vitest';
import { ValueKind } from '../../src/base/internal-key.js';
import { GroupIndex, hashBytes } from '../../src/memtable/group-index.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { makeRng } from '../support/rng.js';

const te = new TextEncoder();

describe('hashBytes', () => {
  it('is murmur3_x86_32 with seed 0 (published test vectors, every tail length)', () => {
    const vectors: [string, number][] = [
      ['', 0],
      ['test', 0xba6bd213],
      ['Hello, world!', 0xc0363e43],
      ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
    ];
    for (const [s, h] of vectors) expect(hashBytes(te.encode(s)) >>> 0).toBe(h);
  });
});

describe('GroupIndex', () => {
  it('finds 20k keys across shard growth and misses the rest', () => {
    // A memtable supplies the keys (as groups 0..n-1); a separate index is built over them.
    const rng = makeRng(11);
    const mt = new MemTable();
    const keys: Uint8Array[] = [];
    const seen = new Set<string>();
    while (keys.length < 20_000) {
      const k = rng.bytes(1 + rng.int(40)); // both sides of the 32-byte compare switch
      const hex = Buffer.from(k).toString('hex');
      if (seen.has(hex)) continue;
      seen.add(hex);
      mt.add(keys.length + 1, ValueKind.Put, k, new Uint8Array(0));
      keys.push(k);
    }
    const index = new GroupIndex();
    expect(index.bytesHeld).toBe(0);
    keys.forEach((k, g) => {
      expect(index.find(mt, k, hashBytes(k))).toBe(-1);
      index.insert(g, hashBytes(k));
    });
    keys.forEach((k, g) => expect(index.find(mt, k, hashBytes(k))).toBe(g));
    // Same hash bucket, different key: a copy with one byte changed must miss.
    for (const k of keys.slice(0, 500)) {
      const other = k.slice();
      other[other.length - 1]! ^= 1;
      if (!seen.has(Buffer.from(other).toString('hex'))) expect(index.find(mt, other, hashBytes(other))).toBe(-1);
      expect(index.find(mt, k.subarray(0, k.length - 1), hashBytes(k.subarray(0, k.length - 1))) === -1 ||
        seen.has(Buffer.from(k.subarray(0, k.length - 1)).toString('hex'))).toBe(true);
    }
    // Load factor <= 3/4: at least 4/3 slots of 8 bytes per key.
    expect(index.bytesHeld).toBeGreaterThanOrEqual((keys.length * 8 * 4) / 3);
    expect(index.bytesHeld).toBeLessThan(keys.length * 8 * 4);
  });
});
