/**
 * The corruption sweep: for a small table of each codec, flip every byte in turn and truncate at
 * every length. Each read must either return the right answer or fail with ERR_CORRUPTION, and with
 * checksums on, no flip may go unnoticed (every byte is covered by a CRC or the magic).
 */
import { describe, expect, it } from 'vitest';
import { equalBytes } from '../../src/base/bytes.js';
import { isStrataError } from '../../src/errors.js';
import { LruCache } from '../../src/cache/lru-cache.js';
import { withSeed } from '../support/rng.js';
import type { CompressionName } from '../../sstable/compression.js';
import { readTableLayout } from '../../sstable/layout.js';
import { b, entriesEqual, fsWith, openTable, scanBackward, scanForward, tableBytes, type Entry } from './table-helpers.js';

const entries: Entry[] = [];
for (let i = 0; i < 24; i++) entries.push([b(`key${String(i).padStart(3, '0')}`), b(`value-${i}-${'x'.repeat(20 + (i % 7))}`)]);

/** Opens and reads everything; 'right' if every answer matches, 'wrong' if any does not, else the error code. */
async function readAll(bytes: Uint8Array, syncReads: boolean): Promise<string> {
  const fs = await fsWith(bytes);
  try {
    const r = await openTable(fs, '/t.sst', { cache: new LruCache(1 << 16), syncReads });
    let right = true;
    for (const [k, v] of entries) {
      const got = await r.getAtOrAfter(k);
      if (!got || !equalBytes(got.key, k) || !equalBytes(got.value, v)) right = false;
    }
    if (!entriesEqual(await scanForward(r.newIterator()), entries)) right = false;
    if (!entriesEqual(await scanBackward(r.newIterator()), entries)) right = false;
    await r.verifyChecksums();
    return right ? 'right' : 'wrong';
  } catch (e) {
    if (isStrataError(e)) return e.code;
    throw e;
  }
}

const CODECS: CompressionName[] = ['none', 'lz4', 'zstd'];

describe('corruption sweep', () => {
  for (const compression of CODECS) {
    it(`every flipped byte of a ${compression} table is detected`, async () => {
      const good = await tableBytes(entries, { blockSize: 96, blockRestartInterval: 3, compression, bloomBitsPerKey: 10 });
      expect(await readAll(good, false)).toBe('right');
      const layout = await readTableLayout(await openTable(await fsWith(good), '/t.sst'));
      expect(layout.blocks.filter((x) => x.kind === 'data' && x.compression === compression).length).toBeGreaterThan(2);
      await withSeed(`flip-${compression}`, async (rng) => {
        const seen = new Map<string, number>();
        for (let i = 0; i < good.length; i++) {
          const bytes = good.slice();
          bytes[i] = bytes[i]! ^ (1 << rng.int(8));
          const r = await readAll(bytes, (i & 1) === 0);
          seen.set(r, (seen.get(r) ?? 0) + 1);
          if (r !== 'ERR_CORRUPTION') throw new Error(`flipping byte ${i} of ${good.length} gave ${r}`);
        }
        expect(seen.get('ERR_CORRUPTION')).toBe(good.length);
      });
    });
  }

  it('every truncation is detected at open', async () => {
    for (const compression of CODECS) {
      const good = await tableBytes(entries, { blockSize: 96, compression, bloomBitsPerKey: 10 });
      for (let n = 0; n < good.length; n++) {
        const r = await readAll(good.subarray(0, n), false);
        if (r !== 'ERR_CORRUPTION') throw new Error(`truncating ${compression} table to ${n} bytes gave ${r}`);
      }
    }
  });

  it('a file with bytes appended is refused (the footer is not at the end)', async () => {
    const good = await tableBytes(entries);
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(await readAll(longer, false)).toBe('ERR_CORRUPTION');
  });
});
