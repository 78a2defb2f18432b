import { copyBytes } from './bytes.js';
/**
 * Fixed-width little-endian and varint coding into Uint8Array, shared by every on-disk format.
 * Numbers stay JS numbers: 64-bit fields hold values below 2^53 (sequence numbers are 56-bit on disk
 * but never exceed 2^53 in practice; encoders refuse larger values).
 * Decoders take an explicit limit and return -1 / throw nothing: callers turn a bad read into a
 * CorruptionError with their own file and offset (decoders never trust input).
 */

export function putFixed32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = (v >>> 24) & 0xff;
}

export function getFixed32(buf: Uint8Array, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}

const TWO_32 = 0x1_0000_0000;

/** 64-bit little-endian of a non-negative integer below 2^53. */
export function putFixed64(buf: Uint8Array, off: number, v: number): void {
  putFixed32(buf, off, v >>> 0);
  putFixed32(buf, off + 4, Math.floor(v / TWO_32));
}

/** Reads a 64-bit little-endian value; a value at or above 2^53 comes back as NaN (caller: corruption). */
export function getFixed64(buf: Uint8Array, off: number): number {
  const lo = getFixed32(buf, off);
  const hi = getFixed32(buf, off + 4);
  if (hi >= 0x20_0000) return NaN;
  return hi * TWO_32 + lo;
}

/** Bytes a varint of v takes (v a non-negative integer below 2^53). */
export function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) { v = Math.floor(v / 128); n++; }
  return n;
}

/** Writes v as a varint at off; returns the offset after it. */
export function putVarint(buf: Uint8Array, off: number, v: number): number {
  if (v < 0x80) { buf[off] = v; return off + 1; }
  while (v >= 0x80) {
    buf[off++] = (v & 0x7f) | 0x80;
    v = v >= TWO_32 ? Math.floor(v / 128) : v >>> 7;
  }
  buf[off++] = v;
  return off;
}

/**
 * Result slot for getVarint, reused to avoid allocating a pair per decode.
 * After a successful call: value and the offset after the varint.
 */
export interface VarintResult { value: number; offset: number }

/**
 * Decodes a varint at off, reading no byte at or past limit. Returns false when the varint is
 * truncated or longer than 8 bytes (over 2^56, which no field of ours holds).
 */
export function getVarint(buf: Uint8Array, off: number, limit: number, out: VarintResult): boolean {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (off >= limit) return false;
    const b = buf[off++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (result > Number.MAX_SAFE_INTEGER) return false;
      out.value = result;
      out.offset = off;
      return true;
    }
    mul *= 128;
  }
  return false;
}

/**
 * A growable byte buffer for encoders: append-only, reused across encodes (reset keeps capacity).
 * `bytes()` returns a view valid until the next mutation.
 */
export class ByteWriter {
  buf: Uint8Array;
  length = 0;
  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }
  reset(): void { this.length = 0; }
  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u8(v: number): this { this.ensure(1); this.buf[this.length++] = v; return this; }
  fixed32(v: number): this { this.ensure(4); putFixed32(this.buf, this.length, v); this.length += 4; return this; }
  fixed64(v: number): this { this.ensure(8); putFixed64(this.buf, this.length, v); this.length += 8; return this; }
  varint(v: number): this { this.ensure(10); this.length = putVarint(this.buf, this.length, v); return this; }
  bytes(b: Uint8Array): this { this.ensure(b.length); this.buf.set(b, this.length); this.length += b.length; return this; }
  /** varint length prefix, then the bytes. */
  lengthPrefixed(b: Uint8Array): this { return this.varint(b.length).bytes(b); }
  view(): Uint8Array { return this.buf.subarray(0, this.length); }
  /** A copy the caller owns. */
  toBytes(): Uint8Array { return copyBytes(this.buf.subarray(0, this.length)); }
}

/**
 * A bounds-checked cursor over untrusted bytes. Every read checks the limit first and calls
 * `fail(offset, detail)` (which must throw, typically a CorruptionError) instead of reading past it.
 */
export class ByteReader {
  offset: number;
  private readonly slot: VarintResult = { value: 0, offset: 0 };
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly limit: number,
    private readonly fail: (offset: number, detail: string) => never,
  ) {
    this.offset = start;
  }
  get remaining(): number { return this.limit - this.offset; }
  atEnd(): boolean { return this.offset >= this.limit; }
  u8(): number {
    if (this.offset + 1 > this.limit) this.fail(this.offset, 'truncated byte');
    return this.buf[this.offset++]!;
  }
  fixed32(): number {
    if (this.offset + 4 > this.limit) this.fail(this.offset, 'truncated fixed32');
    const v = getFixed32(this.buf, this.offset);
    this.offset += 4;
    return v;
  }
  fixed64(): number {
    if (this.offset + 8 > this.limit) this.fail(this.offset, 'truncated fixed64');
    const v = getFixed64(this.buf, this.offset);
    if (Number.isNaN(v)) this.fail(this.offset, 'fixed64 value out of range');
    this.offset += 8;
    return v;
  }
  varint(): number {
    if (!getVarint(this.buf, this.offset, this.limit, this.slot)) this.fail(this.offset, 'bad varint');
    this.offset = this.slot.offset;
    return this.slot.value;
  }
  /** A view of the next n bytes (valid as long as buf is). */
  bytes(n: number): Uint8Array {
    if (n < 0 || this.offset + n > this.limit) this.fail(this.offset, `length ${n} runs past the end`);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  lengthPrefixed(): Uint8Array { return this.bytes(this.varint()); }
}
