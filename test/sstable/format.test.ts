/**
 * Footer and block handle coding: round trips, every damaged footer byte, newer versions, bounds.
 */
import { describe, expect, it } from 'vitest';
import { putFixed32 } from '../../src/base/coding.js';
import { crc32c, maskCrc } from '../../src/base/crc32c.js';
import { CorruptionError, NotSupportedError } from '../../src/errors.js';
import {
  decodeBlockHandle, decodeFooter, encodeFooter, FOOTER_SIZE, putBlockHandle, TABLE_MAGIC,
} from '../../sstable/format.js';

const footer = { metaindex: { offset: 1000, size: 40 }, index: { offset: 1045, size: 300 }, formatVersion: 1 };
const fileSize = 1045 + 300 + 5 + FOOTER_SIZE;

describe('footer', () => {
  it('round-trips and ends with the magic', () => {
    const bytes = encodeFooter(footer);
    expect(bytes.length).toBe(FOOTER_SIZE);
    expect(Buffer.from(bytes.subarray(40)).toString('latin1')).toBe('STRTABLE');
    expect(bytes.subarray(40)).toEqual(TABLE_MAGIC);
    expect(decodeFooter(bytes, fileSize, 'f.sst')).toEqual(footer);
  });

  it('detects a change to any byte', () => {
    const good = encodeFooter(footer);
    for (let i = 0; i < FOOTER_SIZE; i++) {
      for (const x of [0x01, 0x80, 0xff]) {
        const bytes = good.slice();
        bytes[i] = bytes[i]! ^ x;
        expect(() => decodeFooter(bytes, fileSize, 'f.sst'), `byte ${i}`).toThrow(CorruptionError);
      }
    }
  });

  it('names the file and the offset', () => {
    const bytes = encodeFooter(footer);
    bytes[45] = bytes[45]! ^ 1;
    try {
      decodeFooter(bytes, fileSize, 'f.sst');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CorruptionError);
      expect((e as CorruptionError).file).toBe('f.sst');
      expect((e as CorruptionError).offset).toBe(fileSize - FOOTER_SIZE + 40);
      expect((e as CorruptionError).message).toMatch(/magic/);
    }
  });

  it('refuses a newer format version with ERR_NOT_SUPPORTED', () => {
    const bytes = encodeFooter({ ...footer, formatVersion: 5 });
    expect(() => decodeFooter(bytes, fileSize, 'f.sst')).toThrow(NotSupportedError);
    const zero = encodeFooter({ ...footer, formatVersion: 0 });
    expect(() => decodeFooter(zero, fileSize, 'f.sst')).toThrow(CorruptionError);
  });

  it('refuses handles past the footer even with a valid CRC', () => {
    const bytes = encodeFooter({ ...footer, index: { offset: 1045, size: 301 } });
    expect(() => decodeFooter(bytes, fileSize, 'f.sst')).toThrow(/runs past/);
    // A huge fixed64 (>= 2^53) is out of range, not a wrong number.
    const huge = encodeFooter(footer);
    putFixed32(huge, 4, 0xffffffff);
    putFixed32(huge, 36, maskCrc(crc32c(huge.subarray(0, 36))));
    expect(() => decodeFooter(huge, fileSize, 'f.sst')).toThrow(CorruptionError);
  });

  it('refuses files shorter than a footer', () => {
    expect(() => decodeFooter(new Uint8Array(10), 10, 'f.sst')).toThrow(/too short/);
  });
});

describe('block handle', () => {
  it('round-trips as two varints and checks bounds', () => {
    const buf = new Uint8Array(20);
    const n = putBlockHandle(buf, 0, { offset: 300, size: 70000 });
    expect(n).toBe(2 + 3);
    const out = { offset: 0, size: 0 };
    expect(decodeBlockHandle(buf, 0, n, 70305, out, 'f', 0)).toEqual({ offset: 300, size: 70000 });
    expect(() => decodeBlockHandle(buf, 0, n, 70304, out, 'f', 0)).toThrow(CorruptionError);
    expect(() => decodeBlockHandle(buf, 0, n - 1, 1e9, out, 'f', 0)).toThrow(/size varint/);
    expect(() => decodeBlockHandle(buf, 0, n + 1, 1e9, out, 'f', 0)).toThrow(/trailing/);
  });
});
