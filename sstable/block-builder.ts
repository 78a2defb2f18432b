/**
 * Builds one block: sorted entries with shared-prefix keys and a restart array.
 * Format: sstable/FORMAT.md "Block". Decoding lives in block-reader.ts.
 * Contract: add() keys in strictly increasing order (the table writer checks the order; the builder
 * only computes prefixes); finish() once, reset() before reuse; the bytes returned by finish() are a
 * view of the builder's buffer, valid until reset(). add() copies key and value: the caller may reuse
 * its arrays at once. Safe in a worker.
 * Not here: compression and checksums (compression.ts, table-writer.ts).
 */
import { putFixed32, putVarint } from '../src/base/coding.js';
import { InvalidArgumentError } from '../src/errors.js';

/** Copies src[s, e) to dst at d without creating a view for short runs (views cost ~25 ns). */
export function copyRange(dst: Uint8Array, d: number, src: Uint8Array, s: number, e: number): void {
  const n = e - s;
  if (n <= 32) {
    for (let i = 0; i < n; i++) dst[d + i] = src[s + i]!;
  } else {
    dst.set(src.subarray(s, e), d);
  }
}

export class BlockBuilder {
  private buf: Uint8Array;
  private length = 0;
  private restarts: Uint32Array = new Uint32Array(16);
  private numRestarts = 0;
  /** Entries since the last restart. */
  private counter = 0;
  private entries = 0;
  private lastKey: Uint8Array = new Uint8Array(64);
  private lastKeyLength = 0;
  private finished = false;

  constructor(private readonly restartInterval: number, initialCapacity = 4096) {
    if (!Number.isInteger(restartInterval) || restartInterval < 1) {
      throw new InvalidArgumentError(`blockRestartInterval: expected an integer >= 1, got ${restartInterval}`);
    }
    this.buf = new Uint8Array(initialCapacity);
    this.reset();
  }

  reset(): void {
    this.length = 0;
    this.numRestarts = 1;
    this.restarts[0] = 0;
    this.counter = 0;
    this.entries = 0;
    this.lastKeyLength = 0;
    this.finished = false;
  }

  get isEmpty(): boolean { return this.entries === 0; }
  get entryCount(): number { return this.entries; }

  /** Size of the block if finished now (entries + restart array + count). */
  get estimatedSize(): number {
    return this.length + this.numRestarts * 4 + 4;
  }

  /** Bytes add(key, value) would add at most (for the writer's cut decision). */
  static maxEntrySize(keyLength: number, valueLength: number): number {
    return 3 * 8 + keyLength + valueLength + 4;
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    copyRange(next, 0, this.buf, 0, this.length);
    this.buf = next;
  }

  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.counter >= this.restartInterval) {
      if (this.numRestarts === this.restarts.length) {
        const r = new Uint32Array(this.restarts.length * 2);
        r.set(this.restarts);
        this.restarts = r;
      }
      this.restarts[this.numRestarts++] = this.length;
      this.counter = 0;
    } else {
      const last = this.lastKey;
      const n = Math.min(this.lastKeyLength, key.length);
      while (shared < n && last[shared] === key[shared]) shared++;
    }
    const unshared = key.length - shared;
    this.ensure(30 + unshared + value.length);
    let p = this.length;
    const b = this.buf;
    if (shared < 128 && unshared < 128 && value.length < 128) {
      b[p] = shared; b[p + 1] = unshared; b[p + 2] = value.length;
      p += 3;
    } else {
      p = putVarint(b, p, shared);
      p = putVarint(b, p, unshared);
      p = putVarint(b, p, value.length);
    }
    copyRange(b, p, key, shared, key.length);
    p += unshared;
    copyRange(b, p, value, 0, value.length);
    this.length = p + value.length;
    if (key.length > this.lastKey.length) {
      const k = new Uint8Array(Math.max(key.length, this.lastKey.length * 2));
      copyRange(k, 0, this.lastKey, 0, shared);
      this.lastKey = k;
    }
    copyRange(this.lastKey, shared, key, shared, key.length);
    this.lastKeyLength = key.length;
    this.counter++;
    this.entries++;
  }

  /** Appends the restart array; returns a view of the block valid until reset(). */
  finish(): Uint8Array {
    if (!this.finished) {
      this.ensure(this.numRestarts * 4 + 4);
      for (let i = 0; i < this.numRestarts; i++) {
        putFixed32(this.buf, this.length, this.restarts[i]!);
        this.length += 4;
      }
      putFixed32(this.buf, this.length, this.numRestarts);
      this.length += 4;
      this.finished = true;
    }
    return this.buf.subarray(0, this.length);
  }
}
