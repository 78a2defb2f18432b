/**
 * CRC32C (Castagnoli) for every block and record checksum, via @node-rs/crc32 (~5 GB/s, DESIGN.md).
 * Stored CRCs are masked as LevelDB does, so that a CRC computed over data that itself embeds CRCs
 * does not degenerate: masked = rotr(crc, 15) + 0xa282ead8.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { Buffer } from 'node:buffer';

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** CRC32C of data, continuing from `initial` (the unmasked CRC of the bytes before). */
export function crc32c(data: Uint8Array, initial = 0): number {
  return nativeCrc32c(asBuffer(data), initial) >>> 0;
}

const MASK_DELTA = 0xa282ead8;

export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
