/**
 * A bounds check of an untrusted zstd frame before it reaches the decoder (RFC 8878, "Frames" and
 * "Blocks"). The zstd binding has no output limit: a hostile frame of RLE blocks turns 4 bytes into
 * 128 KiB, and a large window descriptor makes the decoder allocate a large window. Walking the block
 * headers (3 bytes each, no decoding) bounds both before we decompress.
 * Spec: sstable/FORMAT.md "Compression". Pure function, safe in a worker.
 */

const ZSTD_MAGIC = 0xfd2fb528;
/** Block_Maximum_Size: no block regenerates more than this. */
export const ZSTD_MAX_BLOCK_SIZE = 128 * 1024;
/** Largest window we accept: levels up to 19 use at most 2^23 (the writer refuses higher levels). */
export const ZSTD_MAX_WINDOW_LOG = 23;

/**
 * Checks that frame[start, end) is exactly one zstd frame without a dictionary, whose window is at
 * most 2^ZSTD_MAX_WINDOW_LOG and whose blocks can regenerate at most rawLength + ZSTD_MAX_BLOCK_SIZE
 * bytes. Returns undefined when acceptable, else a reason.
 */
export function checkZstdFrame(frame: Uint8Array, start: number, end: number, rawLength: number): string | undefined {
  let p = start;
  if (end - p < 6) return 'zstd frame too short';
  const magic = (frame[p]! | (frame[p + 1]! << 8) | (frame[p + 2]! << 16) | (frame[p + 3]! << 24)) >>> 0;
  if (magic !== ZSTD_MAGIC) return 'bad zstd magic';
  p += 4;
  const fhd = frame[p++]!;
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const hasChecksum = (fhd & 0x04) !== 0;
  if ((fhd & 0x08) !== 0) return 'zstd reserved bit set';
  if ((fhd & 0x03) !== 0) return 'zstd dictionary ids are not used by tables';
  let windowLog = 0;
  if (!singleSegment) {
    if (p >= end) return 'zstd header truncated';
    const wd = frame[p++]!;
    windowLog = 10 + (wd >>> 3);
  }
  const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  if (p + fcsSize > end) return 'zstd header truncated';
  if (singleSegment) {
    // The window is the content size; read it (little-endian, 2-byte form offset by 256).
    let fcs = 0;
    for (let i = fcsSize - 1; i >= 0; i--) fcs = fcs * 256 + frame[p + i]!;
    if (fcsSize === 2) fcs += 256;
    if (fcs > rawLength) return `zstd content size ${fcs} exceeds the block's raw length ${rawLength}`;
  } else if (windowLog > ZSTD_MAX_WINDOW_LOG) {
    return `zstd window 2^${windowLog} exceeds 2^${ZSTD_MAX_WINDOW_LOG}`;
  }
  p += fcsSize;
  let bound = 0;
  const limit = rawLength + ZSTD_MAX_BLOCK_SIZE;
  for (;;) {
    if (p + 3 > end) return 'zstd block header truncated';
    const h = frame[p]! | (frame[p + 1]! << 8) | (frame[p + 2]! << 16);
    p += 3;
    const last = (h & 1) !== 0;
    const type = (h >>> 1) & 3;
    const size = h >>> 3;
    if (type === 0) { bound += size; p += size; } // raw
    else if (type === 1) { bound += size; p += 1; } // RLE: one byte repeated size times
    else if (type === 2) { bound += ZSTD_MAX_BLOCK_SIZE; p += size; } // compressed
    else return 'zstd reserved block type';
    if (size > ZSTD_MAX_BLOCK_SIZE) return 'zstd block larger than the maximum';
    if (p > end) return 'zstd block runs past the payload';
    if (bound > limit) return `zstd blocks could regenerate more than ${limit} bytes`;
    if (last) break;
  }
  if (hasChecksum) p += 4;
  if (p !== end) return 'bytes after the zstd frame';
  return undefined;
}
