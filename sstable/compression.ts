/**
 * The codec registry: one-byte compression type (format.ts) -> adapter. lz4 (lz4-napi) has sync and
 * async forms; zstd (@mongodb-js/zstd 1.2.x) is async only, so `isSync` tells readers which blocks
 * a synchronous get can decode.
 * Spec: sstable/FORMAT.md "Compression". Every compressed payload is fixed32 raw length + codec body
 * (for lz4 that is exactly lz4-napi's size-prepended block).
 * Contract: decoders take untrusted payloads; the raw length is checked against MAX_COMPRESSION_RATIO
 * before any codec allocates, and the output length against the declared length after; failures are
 * CorruptionError(file, offset). Returned arrays are fresh (they do not alias the input).
 * Not here: the block trailer and CRC (table-writer.ts, block-fetch.ts).
 */
import { Buffer } from 'node:buffer';
import * as lz4 from 'lz4-napi';
import * as zstd from '@mongodb-js/zstd';
import { getFixed32, putFixed32 } from '../src/base/coding.js';
import { CorruptionError, InvalidArgumentError } from '../src/errors.js';
import { COMPRESSION_LZ4, COMPRESSION_NONE, COMPRESSION_ZSTD, MAX_COMPRESSION_RATIO } from './format.js';
import { checkZstdFrame } from './zstd-frame.js';

export type CompressionName = 'none' | 'lz4' | 'zstd';

export interface CompressionCodec {
  readonly id: number;
  readonly name: CompressionName;
  /** True when decompressSync exists (the synchronous read path can decode these blocks). */
  readonly isSync: boolean;
}

const CODECS: readonly CompressionCodec[] = [
  { id: COMPRESSION_NONE, name: 'none', isSync: true },
  { id: COMPRESSION_LZ4, name: 'lz4', isSync: true },
  { id: COMPRESSION_ZSTD, name: 'zstd', isSync: false },
];

export function codecById(id: number): CompressionCodec | undefined {
  for (const c of CODECS) if (c.id === id) return c;
  return undefined;
}

export function codecByName(name: string): CompressionCodec {
  for (const c of CODECS) if (c.name === name) return c;
  throw new InvalidArgumentError(`compression: expected 'none', 'lz4' or 'zstd', got ${JSON.stringify(name)}`);
}

export const ZSTD_MIN_LEVEL = 1;
export const ZSTD_MAX_LEVEL = 19;
export const ZSTD_DEFAULT_LEVEL = 3;

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** How a block is stored: the trailer's type byte and the stored bytes. */
export interface StoredBlock {
  type: number;
  payload: Uint8Array;
}

/**
 * The writer's storage rule: keep a compressed form only when it saves at least 12.5% (LevelDB's
 * rule) and stays within MAX_COMPRESSION_RATIO (so readers can bound allocations by the payload).
 */
function acceptable(raw: number, payload: number): boolean {
  return payload < raw - raw / 8 && raw <= payload * MAX_COMPRESSION_RATIO;
}

export function compressLz4Sync(raw: Uint8Array): Uint8Array {
  return lz4.compressSync(asBuffer(raw));
}

/** lz4 or nothing: the synchronous storage decision. `raw` is not retained. */
export function storeSync(raw: Uint8Array, codecId: number): StoredBlock {
  if (codecId === COMPRESSION_LZ4 && raw.length > 0) {
    const c = compressLz4Sync(raw);
    if (acceptable(raw.length, c.length)) return { type: COMPRESSION_LZ4, payload: c };
  }
  return { type: COMPRESSION_NONE, payload: raw };
}

/**
 * zstd storage decision. Beyond MAX_COMPRESSION_RATIO (long runs of one byte) zstd falls back to lz4,
 * whose ratio cannot exceed ~255. REQUIRES: `raw` is owned by the caller until the promise settles.
 */
export async function storeZstd(raw: Uint8Array, level: number): Promise<StoredBlock> {
  if (raw.length === 0) return { type: COMPRESSION_NONE, payload: raw };
  const frame = await zstd.compress(asBuffer(raw), level);
  const payloadLength = 4 + frame.length;
  if (acceptable(raw.length, payloadLength)) {
    const payload = new Uint8Array(payloadLength);
    putFixed32(payload, 0, raw.length);
    payload.set(frame, 4);
    return { type: COMPRESSION_ZSTD, payload };
  }
  if (raw.length > payloadLength * MAX_COMPRESSION_RATIO) return storeSync(raw, COMPRESSION_LZ4);
  return { type: COMPRESSION_NONE, payload: raw };
}

/** Reads and checks the declared raw length of a compressed payload. */
function rawLengthOf(payload: Uint8Array, fileName: string, offset: number): number {
  if (payload.length < 5) throw new CorruptionError(fileName, offset, 'compressed payload too short');
  const raw = getFixed32(payload, 0);
  if (raw > payload.length * MAX_COMPRESSION_RATIO) {
    throw new CorruptionError(fileName, offset, `declared raw length ${raw} exceeds ${MAX_COMPRESSION_RATIO}x the payload`);
  }
  return raw;
}

function checkOutput(out: Uint8Array, raw: number, fileName: string, offset: number): Uint8Array {
  if (out.length !== raw) {
    throw new CorruptionError(fileName, offset, `decompressed ${out.length} bytes, expected ${raw}`);
  }
  return out;
}

function lz4Decode(payload: Uint8Array, fileName: string, offset: number): Uint8Array {
  const raw = rawLengthOf(payload, fileName, offset);
  let out: Uint8Array;
  try {
    out = lz4.uncompressSync(asBuffer(payload));
  } catch (e) {
    throw new CorruptionError(fileName, offset, `lz4: ${(e as Error).message}`, { cause: e });
  }
  return checkOutput(out, raw, fileName, offset);
}

/**
 * Decodes a stored block synchronously. Returns undefined when the codec is async-only (zstd).
 * For type none the payload itself is returned (no copy).
 */
export function decodeBlockSync(type: number, payload: Uint8Array, fileName: string, offset: number): Uint8Array | undefined {
  if (type === COMPRESSION_NONE) return payload;
  if (type === COMPRESSION_LZ4) return lz4Decode(payload, fileName, offset);
  if (type === COMPRESSION_ZSTD) return undefined;
  throw new CorruptionError(fileName, offset, `unknown compression type ${type}`);
}

/** Decodes a stored block of any type; a Promise only for zstd. */
export function decodeBlock(type: number, payload: Uint8Array, fileName: string, offset: number): Uint8Array | Promise<Uint8Array> {
  const out = decodeBlockSync(type, payload, fileName, offset);
  if (out !== undefined) return out;
  const raw = rawLengthOf(payload, fileName, offset);
  const bad = checkZstdFrame(payload, 4, payload.length, raw);
  if (bad !== undefined) throw new CorruptionError(fileName, offset, bad);
  return zstd.decompress(asBuffer(payload.subarray(4))).then(
    (o) => checkOutput(o, raw, fileName, offset),
    (e: unknown) => {
      throw new CorruptionError(fileName, offset, `zstd: ${(e as Error).message}`, { cause: e });
    },
  );
}
