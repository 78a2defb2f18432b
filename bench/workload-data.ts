/**
 * The data every workload writes and asks for, identical for every engine in a run:
 * - keys: key i is its decimal digits, zero-padded to keySize bytes (db_bench's "%016d"), so
 *   numeric order is byte order and sequential workloads really write in key order;
 * - values: slices of a 1 MiB pool in which each 100-byte stretch is half random and half a repeated
 *   byte, so values compress to about half (db_bench's compression_ratio 0.5);
 * - random streams: a seeded xorshift per workload, the same sequence for each engine.
 * Buffer ownership: keyOf() returns a fresh Buffer per call (a write in flight may still hold it);
 * valueAt() returns a view into the shared read-only pool (engines copy what they keep).
 */
import { Buffer } from 'node:buffer';

const POOL_BYTES = 1 << 20;

export class KeyFormat {
  constructor(readonly keySize: number) {}

  /** Throws when key numbers below `num` do not fit in keySize decimal digits. */
  check(num: number): void {
    const digits = String(Math.max(0, num - 1)).length;
    if (digits > this.keySize) {
      throw new Error(`--key-size ${this.keySize} is too small for --num ${num} (needs ${digits} digits)`);
    }
  }

  keyOf(i: number): Buffer {
    const k = Buffer.allocUnsafe(this.keySize);
    let x = i;
    for (let j = this.keySize - 1; j >= 0; j--) {
      k[j] = 0x30 + (x % 10);
      x = Math.floor(x / 10);
    }
    return k;
  }
}

export class ValuePool {
  private readonly pool: Buffer;
  private pos = 0;

  constructor(readonly valueSize: number, seed: number) {
    const size = Math.max(POOL_BYTES, valueSize * 2);
    this.pool = Buffer.allocUnsafe(size);
    const rng = new XorShift(seed ^ 0x5bd1e995);
    const half = Math.max(1, Math.floor(Math.min(valueSize, 100) / 2));
    // Alternate runs of random bytes and of one repeated byte, each half a 100-byte value long.
    for (let off = 0; off < size; off += 2 * half) {
      for (let j = off; j < Math.min(size, off + half); j++) this.pool[j] = rng.next() & 0xff;
      this.pool.fill(0x61 + (rng.next() & 7), Math.min(size, off + half), Math.min(size, off + 2 * half));
    }
  }

  /** The next value: a view of valueSize bytes, moving along the pool as db_bench's generator does. */
  next(): Buffer {
    if (this.pos + this.valueSize > this.pool.length) this.pos = 0;
    const v = this.pool.subarray(this.pos, this.pos + this.valueSize);
    this.pos += this.valueSize;
    return v;
  }
}

/** xorshift32: fast, seeded, plenty for choosing keys uniformly. */
export class XorShift {
  private x: number;
  constructor(seed: number) { this.x = (seed >>> 0) || 0x2545f491; }

  next(): number {
    let x = this.x;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }

  /** Uniform integer in [0, n) for n up to 2^32 (two draws keep large n unbiased enough). */
  below(n: number): number {
    if (n <= 0x10000) return this.next() % n;
    return Math.floor(((this.next() * 0x1_0000_0000 + this.next()) / 2 ** 64) * n);
  }
}

/** A per-workload seed: the run's seed mixed with the workload's name (FNV-1a). */
export function workloadSeed(runSeed: number, name: string): number {
  let h = 0x811c9dc5 ^ runSeed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Deterministic 16-byte key for index i (a permutation-ish spread). */
export function spreadKey(i: number, out: Buffer): Buffer {
  const x = Math.imul(i ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
  out.writeUInt32BE(x, 0);
  out.writeUInt32BE(i >>> 0, 4);
  out.writeUInt32BE(Math.imul(x, 0x85ebca6b) >>> 0, 8);
  out.writeUInt32BE((i ^ 0xdeadbeef) >>> 0, 12);
  return out;
}

/** A 100-byte value for index i: a random-looking half, then zeros (compressible). */
export function halfRandomValue(i: number): Buffer {
  const v = Buffer.alloc(100);
  for (let j = 0; j < 50; j++) v[j] = (Math.imul(i + j, 2654435761) >>> 24) & 0xff;
  return v;
}
