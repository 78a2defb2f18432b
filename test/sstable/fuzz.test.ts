/**
 * Fuzzing the reader with hostile files: random bytes (some dressed with a valid footer), and valid
 * tables whose blocks are mutated *with their CRCs recomputed*, so the mutations reach the block,
 * properties, filter and codec decoders. Answers may be anything the hostile file says, but the only
 * error allowed is ERR_CORRUPTION (plus a comparator mismatch or a newer version when those exact
 * fields were rewritten), and every walk must end.
 */
import { describe, expect, it } from 'vitest';
import { getFixed32, putFixed32, putFixed64 } from '../../src/base/coding.js';
import { crc32c, maskCrc } from '../../src/base/crc32c.js';
import { isStrataError } from '../../src/errors.js';
import { LruCache } from '../../src/cache/lru-cache.js';
import { withSeed, type Rng } from '../support/rng.js';
import type { CompressionName } from '../../sstable/compression.js';
import { encodeFooter, FOOTER_SIZE, TABLE_MAGIC } from '../../sstable/format.js';
import { readTableLayout } from '../../sstable/layout.js';
import { step } from './table-helpers.js';
import { b, fsWith, openTable, tableBytes, type Entry } from './table-helpers.js';

/** Opens, scans both ways (bounded), gets, verifies. Returns 'ok' or the error code; rethrows non-Strata errors. */
async function exercise(bytes: Uint8Array, probes: readonly Uint8Array[], syncReads: boolean): Promise<string> {
  const fs = await fsWith(bytes);
  try {
    const r = await openTable(fs, '/t.sst', { cache: new LruCache(1 << 16), syncReads });
    const limit = bytes.length + 10;
    const it = r.newIterator();
    let n = 0;
    for (await step(it.seekToFirst()); it.valid(); await step(it.next())) if (++n > limit) throw new Error('forward scan does not end');
    n = 0;
    for (await step(it.seekToLast()); it.valid(); await step(it.prev())) if (++n > limit) throw new Error('backward scan does not end');
    for (const p of probes) {
      await r.getAtOrAfter(p);
      await step(it.seek(p));
      await step(it.seekForPrev(p));
    }
    await r.verifyChecksums();
    await r.close();
    return 'ok';
  } catch (e) {
    if (isStrataError(e)) {
      if (e.code === 'ERR_CORRUPTION') return e.code;
      if (e.code === 'ERR_INVALID_ARGUMENT' && /comparator/.test(e.message)) return 'comparator';
      if (e.code === 'ERR_NOT_SUPPORTED' && /newer/.test(e.message)) return 'newer';
    }
    throw e;
  }
}

/** Rewrites the trailer CRC of the block at [offset, offset + size). */
function fixCrc(bytes: Uint8Array, offset: number, size: number): void {
  putFixed32(bytes, offset + size + 1, maskCrc(crc32c(bytes.subarray(offset, offset + size + 1))));
}

function mutate(rng: Rng, bytes: Uint8Array, start: number, end: number): void {
  const n = 1 + rng.int(4);
  for (let i = 0; i < n && end > start; i++) {
    const at = start + rng.int(end - start);
    const r = rng.int(3);
    if (r === 0) bytes[at] = bytes[at]! ^ (1 << rng.int(8));
    else if (r === 1) bytes[at] = rng.pick([0, 0x7f, 0x80, 0xff]);
    else bytes[at] = rng.int(256);
  }
}

const entries: Entry[] = [];
for (let i = 0; i < 60; i++) entries.push([b(`key${String(i * 7).padStart(4, '0')}`), b(`value ${i} ${'abc'.repeat(i % 9)}`)]);
const probes = [b(''), b('key0100'), b('key0101'), b('zzz'), b('key')];
const CODECS: CompressionName[] = ['none', 'lz4', 'zstd'];

describe('fuzz: hostile tables', () => {
  it('random bytes, with and without a valid footer, only ever fail with ERR_CORRUPTION', async () => {
    await withSeed('fuzz-random', async (rng) => {
      for (let i = 0; i < 600; i++) {
        const len = rng.int(600);
        const bytes = rng.bytes(len + (i % 2 === 0 ? FOOTER_SIZE : 0));
        if (i % 2 === 0) {
          // A valid footer whose handles point at random places inside the random bytes.
          const h = (): { offset: number; size: number } => {
            const offset = rng.int(len + 1);
            return { offset, size: rng.int(Math.max(1, len - offset)) };
          };
          bytes.set(encodeFooter({ metaindex: h(), index: h(), formatVersion: 1 }), len);
        }
        const r = await exercise(bytes, probes, rng.int(2) === 0);
        expect(['ERR_CORRUPTION', 'ok']).toContain(r);
      }
    });
  });

  for (const [compression, partitioned] of CODECS.flatMap((c) => [[c, false], [c, true]] as const)) {
    it(`mutated ${compression} tables${partitioned ? ' (partitioned)' : ''} with recomputed CRCs only fail with ERR_CORRUPTION`, async () => {
      const layoutOptions = partitioned ? { partitionedMetadata: true, metadataBlockSize: 48 } : {};
      const good = await tableBytes(entries, { blockSize: 128, blockRestartInterval: 4, compression, bloomBitsPerKey: 10, ...layoutOptions });
      const layout = await readTableLayout(await openTable(await fsWith(good), '/t.sst'));
      const blocks = layout.blocks.filter((x) => x.kind !== 'footer');
      await withSeed(`fuzz-${compression}${partitioned ? '-partitioned' : ''}`, async (rng) => {
        const outcomes = new Map<string, number>();
        for (let i = 0; i < (compression === 'zstd' ? 500 : 900); i++) {
          const bytes = good.slice();
          const blk = rng.pick(blocks);
          mutate(rng, bytes, blk.offset, blk.offset + blk.storedSize + (rng.int(8) === 0 ? 1 : 0));
          fixCrc(bytes, blk.offset, blk.storedSize);
          if (rng.int(10) === 0) {
            // Also move a footer handle, keeping the footer CRC valid.
            const f = bytes.length - FOOTER_SIZE;
            putFixed64(bytes, f + 8 * rng.int(4), rng.int(good.length));
            putFixed32(bytes, f + 36, maskCrc(crc32c(bytes.subarray(f, f + 36))));
          }
          const r = await exercise(bytes, probes, rng.int(2) === 0);
          outcomes.set(r, (outcomes.get(r) ?? 0) + 1);
        }
        // Both kinds of outcome occur: the fuzz reaches past the checks and also trips them.
        expect(outcomes.get('ERR_CORRUPTION') ?? 0).toBeGreaterThan(20);
        expect(outcomes.get('ok') ?? 0).toBeGreaterThan(20);
      });
    });
  }

  it('a newer footer version is ERR_NOT_SUPPORTED, not corruption', async () => {
    const good = await tableBytes(entries);
    const f = good.length - FOOTER_SIZE;
    putFixed32(good, f + 32, 5);
    putFixed32(good, f + 36, maskCrc(crc32c(good.subarray(f, f + 36))));
    expect(getFixed32(good, f + 32)).toBe(5);
    expect(good.subarray(good.length - 8)).toEqual(TABLE_MAGIC);
    expect(await exercise(good, probes, false)).toBe('newer');
  });
});
