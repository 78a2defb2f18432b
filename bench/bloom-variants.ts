/**
 * The two bloom layouts bench/bloom.ts measures against sstable/bloom.ts, kept so that the choice
 * recorded in bench/RESULTS-bloom.md can be re-measured: LevelDB's double hashing (step = rotr(h, 17),
 * positions reduced from a wrapping 32-bit sum) and a cache-line blocked bloom (RocksDB's
 * FastLocalBloom shape: one 512-bit block per key, picked from the hash's high bits, k positions in it
 * from successive multiplications by the golden ratio). Same hash and bits per key as ours.
 * Bench-only: not a table format; no trailer, no validation.
 */
import { bloomHash, bloomProbeCount } from '../sstable/index.js';

export interface VariantFilter {
  readonly bytes: number;
  mayContain(key: Uint8Array): boolean;
}

export interface Variant {
  readonly name: string;
  build(keys: readonly Uint8Array[], bitsPerKey: number): VariantFilter;
}

export const levelDbVariant: Variant = {
  name: 'LevelDB double hashing (step = rotr(h, 17))',
  build(keys, bitsPerKey) {
    const k = bloomProbeCount(bitsPerKey);
    const m = Math.max(64, Math.ceil((keys.length * bitsPerKey) / 8) * 8);
    const bits = new Uint8Array(m / 8);
    for (const key of keys) {
      let h = bloomHash(key);
      const delta = ((h >>> 17) | (h << 15)) >>> 0;
      for (let j = 0; j < k; j++) {
        const pos = h % m;
        bits[pos >>> 3]! |= 1 << (pos & 7);
        h = (h + delta) >>> 0;
      }
    }
    return {
      bytes: bits.length,
      mayContain(key) {
        let h = bloomHash(key);
        const delta = ((h >>> 17) | (h << 15)) >>> 0;
        for (let j = 0; j < k; j++) {
          const pos = h % m;
          if ((bits[pos >>> 3]! & (1 << (pos & 7))) === 0) return false;
          h = (h + delta) >>> 0;
        }
        return true;
      },
    };
  },
};

/** floor(h * blocks / 2^32), exact for blocks < 2^32 (a plain product could pass 2^53). */
function blockOf(h: number, blocks: number): number {
  return Math.floor(((h >>> 16) * blocks + Math.floor(((h & 0xffff) * blocks) / 65536)) / 65536);
}

export const blockedVariant: Variant = {
  name: 'cache-line blocked (512-bit blocks)',
  build(keys, bitsPerKey) {
    const k = bloomProbeCount(bitsPerKey);
    const blocks = Math.max(1, Math.ceil((keys.length * bitsPerKey) / 512));
    const bits = new Uint8Array(blocks * 64);
    for (const key of keys) {
      const h = bloomHash(key);
      const base = blockOf(h, blocks) << 6;
      let g = Math.imul(h, 0x9e3779b9);
      for (let j = 0; j < k; j++) {
        const pos = g >>> 23; // top 9 bits: a bit in the 512-bit block
        bits[base + (pos >>> 3)]! |= 1 << (pos & 7);
        g = Math.imul(g, 0x9e3779b9);
      }
    }
    return {
      bytes: bits.length,
      mayContain(key) {
        const h = bloomHash(key);
        const base = blockOf(h, blocks) << 6;
        let g = Math.imul(h, 0x9e3779b9);
        for (let j = 0; j < k; j++) {
          const pos = g >>> 23;
          if ((bits[base + (pos >>> 3)]! & (1 << (pos & 7))) === 0) return false;
          g = Math.imul(g, 0x9e3779b9);
        }
        return true;
      },
    };
  },
};
