/**
 * BlockIterator on untrusted bytes: damaged restart arrays, entries that overrun, shared prefixes
 * longer than the previous key, and random or mutated blocks. Only CorruptionError may come out,
 * and every walk terminates.
 */
import { describe, expect, it } from 'vitest';
import { compareByteRanges } from '../../src/base/bytes.js';
import { putFixed32 } from '../../src/base/coding.js';
import { CorruptionError } from '../../src/errors.js';
import { withSeed } from '../support/rng.js';
import { BlockBuilder } from '../../sstable/block-builder.js';
import { Block, BlockIterator } from '../../sstable/block-reader.js';
import { b } from './table-helpers.js';

function validBlock(n: number, interval: number): Uint8Array {
  const builder = new BlockBuilder(interval);
  for (let i = 0; i < n; i++) builder.add(b(`key${String(i).padStart(4, '0')}`), b(`value${i}`));
  return builder.finish().slice();
}

/** Decodes and walks bytes every way; returns 'ok' or 'corruption'; anything else fails the test. */
function exercise(bytes: Uint8Array): 'ok' | 'corruption' {
  try {
    const block = new Block(bytes, 'x.sst', 100);
    const it = new BlockIterator(compareByteRanges, block);
    let steps = 0;
    for (it.seekToFirst(); it.valid(); it.next()) if (++steps > bytes.length) throw new Error('forward walk does not end');
    steps = 0;
    for (it.seekToLast(); it.valid(); it.prev()) if (++steps > bytes.length) throw new Error('backward walk does not end');
    it.seek(b('key0005'));
    it.seekForPrev(b('key0005'));
    return 'ok';
  } catch (e) {
    if (e instanceof CorruptionError) {
      expect(e.file).toBe('x.sst');
      expect(e.offset).toBe(100);
      return 'corruption';
    }
    throw e;
  }
}

describe('BlockIterator on damaged blocks', () => {
  it('rejects a restart count that does not fit', () => {
    const bytes = validBlock(3, 1);
    putFixed32(bytes, bytes.length - 4, 1_000_000);
    expect(() => new Block(bytes, 'x.sst', 7)).toThrow(CorruptionError);
    expect(() => new Block(new Uint8Array(3), 'x.sst', 7)).toThrow(/too short/);
  });

  it('rejects restart points out of order or past the entries', () => {
    const bytes = validBlock(8, 2); // 4 restarts
    const restarts = bytes.length - 4 - 16;
    putFixed32(bytes, restarts + 8, 1); // third restart before the second
    expect(() => new Block(bytes, 'x.sst', 0)).toThrow(/restart point 2/);
    const other = validBlock(8, 2);
    putFixed32(other, restarts + 12, restarts + 1);
    expect(() => new Block(other, 'x.sst', 0)).toThrow(/restart point 3/);
  });

  it('rejects an entry that shares more than the previous key or runs past the restarts', () => {
    const bytes = validBlock(4, 16);
    bytes[0] = 5; // the first entry claims to share 5 bytes with nothing
    expect(exercise(bytes)).toBe('corruption');
    const long = validBlock(4, 16);
    long[2] = 0x7f; // value length 127: past the restart array
    expect(exercise(long)).toBe('corruption');
  });

  it('survives every single-byte mutation of a valid block', async () => {
    await withSeed('block-mutations', (rng) => {
      for (const interval of [1, 3]) {
        const good = validBlock(12, interval);
        for (let i = 0; i < good.length; i++) {
          const bytes = good.slice();
          bytes[i] = (bytes[i]! ^ (1 + rng.int(255))) & 0xff;
          exercise(bytes);
        }
      }
    });
  });

  it('survives random bytes with a plausible restart count', async () => {
    await withSeed('block-random', (rng) => {
      let corrupt = 0;
      for (let n = 0; n < 2000; n++) {
        const bytes = rng.bytes(4 + rng.int(200));
        const maxRestarts = Math.floor((bytes.length - 4) / 4);
        putFixed32(bytes, bytes.length - 4, rng.int(Math.min(maxRestarts, 4) + 1));
        if (exercise(bytes) === 'corruption') corrupt++;
      }
      expect(corrupt).toBeGreaterThan(0);
    });
  });

  it('a restart entry with a non-zero shared prefix is corruption when seeking', () => {
    const bytes = validBlock(6, 2); // restarts at entries 0, 2, 4
    const block = new Block(bytes, 'x.sst', 0);
    const second = block.restart(1);
    bytes[second] = 1; // restart entry claims a shared byte
    const it = new BlockIterator(compareByteRanges, new Block(bytes, 'x.sst', 0));
    expect(() => it.seek(b('key0005'))).toThrow(CorruptionError);
  });
});
