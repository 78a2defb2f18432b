/**
 * The codec registry: round trips, the 12.5% rule, the ratio bound (zstd falls back to lz4), and
 * hostile payloads that must be refused before a codec allocates.
 */
import { describe, expect, it } from 'vitest';
import * as zstd from '@mongodb-js/zstd';
import { equalBytes } from '../../src/base/bytes.js';
import { putFixed32 } from '../../src/base/coding.js';
import { CorruptionError } from '../../src/errors.js';
import { makeRng } from '../support/rng.js';
import {
  codecById, codecByName, compressLz4Sync, decodeBlock, decodeBlockSync, storeSync, storeZstd,
} from '../../sstable/compression.js';
import { COMPRESSION_LZ4, COMPRESSION_NONE, COMPRESSION_ZSTD, MAX_COMPRESSION_RATIO } from '../../sstable/format.js';
import { checkZstdFrame } from '../../sstable/zstd-frame.js';

const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(100));

async function decoded(type: number, payload: Uint8Array): Promise<Uint8Array> {
  return decodeBlock(type, payload, 'c.sst', 10);
}

describe('compression registry', () => {
  it('maps names and ids', () => {
    expect(codecByName('lz4').id).toBe(COMPRESSION_LZ4);
    expect(codecById(COMPRESSION_ZSTD)?.isSync).toBe(false);
    expect(codecById(COMPRESSION_NONE)?.isSync).toBe(true);
    expect(codecById(3)).toBeUndefined();
    expect(() => codecByName('snappy')).toThrow(/compression/);
  });

  it('round-trips lz4 synchronously and zstd asynchronously', async () => {
    const l = storeSync(text, COMPRESSION_LZ4);
    expect(l.type).toBe(COMPRESSION_LZ4);
    expect(l.payload.length).toBeLessThan(text.length / 4);
    expect(equalBytes(decodeBlockSync(l.type, l.payload, 'c', 0)!, text)).toBe(true);
    const z = await storeZstd(text, 3);
    expect(z.type).toBe(COMPRESSION_ZSTD);
    expect(decodeBlockSync(z.type, z.payload, 'c', 0)).toBeUndefined();
    expect(equalBytes(await decoded(z.type, z.payload), text)).toBe(true);
  });

  it('stores incompressible data raw (saves < 12.5%)', async () => {
    const random = makeRng(7).bytes(4096);
    expect(storeSync(random, COMPRESSION_LZ4).type).toBe(COMPRESSION_NONE);
    expect((await storeZstd(random, 3)).type).toBe(COMPRESSION_NONE);
    expect(storeSync(new Uint8Array(0), COMPRESSION_LZ4).type).toBe(COMPRESSION_NONE);
  });

  it('keeps every stored block within the ratio bound: zstd falls back to lz4 on runs of zeros', async () => {
    const zeros = new Uint8Array(1 << 20);
    const z = await storeZstd(zeros, 3);
    expect(z.type).toBe(COMPRESSION_LZ4);
    expect(zeros.length).toBeLessThanOrEqual(z.payload.length * MAX_COMPRESSION_RATIO);
    expect(equalBytes(decodeBlockSync(z.type, z.payload, 'c', 0)!, zeros)).toBe(true);
  });

  it('refuses a declared raw length beyond the ratio bound before decoding', () => {
    const l = compressLz4Sync(text).slice();
    putFixed32(l, 0, l.length * MAX_COMPRESSION_RATIO + 1);
    expect(() => decodeBlockSync(COMPRESSION_LZ4, l, 'c.sst', 10)).toThrow(/exceeds/);
  });

  it('refuses an lz4 payload whose output length differs from the declared one', () => {
    const l = compressLz4Sync(text).slice();
    putFixed32(l, 0, text.length - 1);
    expect(() => decodeBlockSync(COMPRESSION_LZ4, l, 'c.sst', 10)).toThrow(CorruptionError);
    const garbage = makeRng(3).bytes(200);
    putFixed32(garbage, 0, 1000);
    expect(() => decodeBlockSync(COMPRESSION_LZ4, garbage, 'c.sst', 10)).toThrow(CorruptionError);
  });

  it('refuses unknown types and short payloads', () => {
    expect(() => decodeBlockSync(9, text, 'c.sst', 10)).toThrow(/unknown compression type 9/);
    expect(() => decodeBlockSync(COMPRESSION_LZ4, new Uint8Array(3), 'c.sst', 10)).toThrow(/too short/);
  });
});

describe('zstd frame check', () => {
  /** Raw length prefix + a frame of `blocks` RLE blocks of 128 KiB each (4 bytes each on the wire). */
  function rleBomb(blocks: number, declared: number): Uint8Array {
    const frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]; // magic, FHD (no FCS), window 2^21
    for (let i = 0; i < blocks; i++) {
      const last = i === blocks - 1 ? 1 : 0;
      const h = last | (1 << 1) | ((128 * 1024) << 3);
      frame.push(h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, 0x41);
    }
    const out = new Uint8Array(4 + frame.length);
    putFixed32(out, 0, declared);
    out.set(frame, 4);
    return out;
  }

  it('accepts what the writer produces', async () => {
    for (const size of [100, 4096, 200_000, 1 << 20]) {
      const raw = makeRng(size).bytes(size).map((x) => x & 0x0f);
      const frame = await zstd.compress(Buffer.from(raw), 3);
      expect(checkZstdFrame(frame, 0, frame.length, size), `size ${size}`).toBeUndefined();
    }
  });

  it('refuses RLE blocks that would regenerate more than declared, before decoding', async () => {
    const bomb = rleBomb(64, 8 * 1024);
    await expect(decoded(COMPRESSION_ZSTD, bomb)).rejects.toThrow(/regenerate more than/);
    // Legitimate-looking but declared length too large for the payload: ratio bound.
    const big = rleBomb(2, 256 * 1024);
    await expect(decoded(COMPRESSION_ZSTD, big)).rejects.toThrow(/exceeds/);
  });

  it('refuses large windows, dictionaries, reserved bits and trailing bytes', async () => {
    const base = rleBomb(1, 200 * 1024);
    const win = base.slice();
    win[9] = (20 << 3); // window log 30
    expect(checkZstdFrame(win, 4, win.length, 1 << 20)).toMatch(/window/);
    const dict = base.slice();
    dict[8] = 0x01;
    expect(checkZstdFrame(dict, 4, dict.length, 1 << 20)).toMatch(/dictionary/);
    const reserved = base.slice();
    reserved[8] = 0x08;
    expect(checkZstdFrame(reserved, 4, reserved.length, 1 << 20)).toMatch(/reserved/);
    const trailing = new Uint8Array(base.length + 1);
    trailing.set(base);
    expect(checkZstdFrame(trailing, 4, trailing.length, 1 << 20)).toMatch(/after the zstd frame/);
    expect(checkZstdFrame(base, 4, base.length - 1, 1 << 20)).toMatch(/runs past|truncated/);
  });

  it('turns a decoder failure into CorruptionError', async () => {
    const z = await storeZstd(text, 3);
    const bad = z.payload.slice();
    for (let i = 20; i < bad.length - 4; i++) bad[i] = bad[i]! ^ 0x5a;
    const r = await decoded(COMPRESSION_ZSTD, bad).then(() => 'ok', (e: unknown) => (e instanceof CorruptionError ? 'corruption' : e));
    expect(r).toBe('corruption');
  });
});
