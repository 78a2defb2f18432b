/**
 * Range tombstones through the engine's table path: a flush (compaction/flush-job.ts runFlush, from a
 * shared memtable view as a worker gets it) writes the memtable's fragments into the table's
 * range-deletion block; table-range-dels.ts reads the same fragments back; the metadata's bounds are
 * extended by the tombstones (RocksDB), and a table of tombstones only is written, not dropped; a
 * count that disagrees with the range_deletions property is corruption naming the file.
 */
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { compareInternalKeys, makeInternalKey, MAX_SEQUENCE, ValueKind } from '../../src/base/internal-key.js';
import { CorruptionError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { describeInternalKey } from '../../src/manifest/file-metadata.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { FragmentSet } from '../../src/rangedel/fragment-set.js';
import { openTable } from '../../src/table/table-open.js';
import { writeTable } from '../../src/table/table-output.js';
import { tableRangeDels } from '../../src/table/table-range-dels.js';
import type { TableOptions } from '../../src/table/table-options.js';
import { runFlush } from '../../compaction/flush-job.js';
import { withSeed } from '../support/rng.js';

const DIR = '/db';
const OPTIONS: TableOptions = { blockSize: 256, blockRestartInterval: 4, indexBlockRestartInterval: 1, bloomBitsPerKey: 10, compression: 'none', zstdLevel: 3 };
const te = new TextEncoder();
const k = (s: string): Uint8Array => te.encode(s);
const str = (u: Uint8Array): string => new TextDecoder().decode(u);
const show = (set: FragmentSet): string[] => set.fragments().map((f) => `${str(f.start)}-${str(f.end)}{${f.seqs.join(',')}}`);

async function fsWithDir(): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  await fs.mkdir(DIR);
  return fs;
}

describe('table range deletions', () => {
  it('a flush from a shared memtable view writes the fragments, and the reader returns them', async () => {
    const fs = await fsWithDir();
    const mem = new MemTable();
    mem.add(1, ValueKind.Put, k('c'), k('v1'));
    mem.add(2, ValueKind.RangeDelete, k('b'), k('m'));
    mem.add(3, ValueKind.Put, k('k'), k('v3'));
    mem.add(4, ValueKind.RangeDelete, k('f'), k('q'));
    const view = new MemTable(structuredClone(mem.share()));
    const meta = await runFlush(fs, { dir: DIR, fileNumber: 7, table: OPTIONS, creationTimeMs: 0, snapshots: [] }, view);
    expect(meta).toBeDefined();
    const reader = await openTable(fs, DIR, meta!, { syncReads: false });
    expect(reader.properties.numRangeDeletions).toBe(4); // one entry per (fragment, seq)
    expect(reader.properties.numEntries).toBe(2);
    expect(show(tableRangeDels(reader))).toEqual(['b-f{2}', 'f-m{4,2}', 'm-q{4}']);
    expect(show(tableRangeDels(reader))).toEqual(show(mem.rangeDelFragments()));
    // Bounds: the first tombstone's start (at its newest seq) and the last one's end as a sentinel.
    expect(describeInternalKey(meta!.smallest)).toBe("'b'@2:rangedel");
    expect(describeInternalKey(meta!.largest)).toBe(`'q'@${MAX_SEQUENCE}:rangedel`);
    expect([meta!.smallestSeq, meta!.largestSeq]).toEqual([1, 4]);
    await reader.close();
  });

  it('a memtable of tombstones only still becomes a table', async () => {
    const fs = await fsWithDir();
    const mem = new MemTable();
    mem.add(5, ValueKind.RangeDelete, k('a'), k('z'));
    const meta = await writeTable({ fs, dir: DIR, fileNumber: 3, options: OPTIONS, creationTimeMs: 0 }, mem.newIterator(), mem.rangeDelFragments());
    expect(meta).toBeDefined();
    expect(meta!.numEntries).toBe(0);
    expect([meta!.smallestSeq, meta!.largestSeq]).toEqual([5, 5]);
    const reader = await openTable(fs, DIR, meta!, { syncReads: false });
    expect(show(tableRangeDels(reader))).toEqual(['a-z{5}']);
    await reader.close();
    // And an empty memtable still writes nothing.
    expect(await writeTable({ fs, dir: DIR, fileNumber: 4, options: OPTIONS, creationTimeMs: 0 }, new MemTable().newIterator())).toBeUndefined();
    expect(await fs.list(DIR)).toEqual(['000003.sst']);
  });

  it('bounds cover every point key and every tombstone (random tables)', async () => {
    await withSeed('table range-del bounds', async (rng) => {
      for (let round = 0; round < 20; round++) {
        const fs = await fsWithDir();
        const mem = new MemTable();
        let seq = 1;
        const n = 1 + rng.int(30);
        const letter = (): string => String.fromCharCode(0x61 + rng.int(8)) + (rng.int(2) ? String.fromCharCode(0x61 + rng.int(8)) : '');
        for (let i = 0; i < n; i++) {
          if (rng.int(4) === 0) {
            let a = letter();
            let b = letter();
            if (a === b) continue;
            if (a > b) [a, b] = [b, a];
            mem.add(seq++, ValueKind.RangeDelete, k(a), k(b));
          } else {
            mem.add(seq++, ValueKind.Put, k(letter()), k('v'));
          }
        }
        const meta = await writeTable({ fs, dir: DIR, fileNumber: 1, options: OPTIONS, creationTimeMs: 0 }, mem.newIterator(), mem.rangeDelFragments());
        if (!meta) continue;
        const reader = await openTable(fs, DIR, meta, { syncReads: false });
        const it = reader.newIterator();
        for (await it.seekToFirst(); it.valid(); await it.next()) {
          expect(compareInternalKeys(meta.smallest, it.key())).toBeLessThanOrEqual(0);
          expect(compareInternalKeys(it.key(), meta.largest)).toBeLessThanOrEqual(0);
        }
        for (const f of tableRangeDels(reader).fragments()) {
          expect(compareInternalKeys(meta.smallest, makeInternalKey(f.start, f.seqs[0]!, ValueKind.RangeDelete))).toBeLessThanOrEqual(0);
          // The end is exclusive: the sentinel (end, MAX_SEQUENCE) is the largest the table claims.
          expect(compareBytes(f.end, meta.largest.subarray(0, meta.largest.length - 8))).toBeLessThanOrEqual(0);
        }
        await reader.close();
      }
    });
  });

  it('a range_deletions property that disagrees with the block is corruption naming the file', async () => {
    const fs = await fsWithDir();
    const mem = new MemTable();
    mem.add(1, ValueKind.RangeDelete, k('a'), k('c'));
    const meta = await writeTable({ fs, dir: DIR, fileNumber: 2, options: OPTIONS, creationTimeMs: 0 }, mem.newIterator(), mem.rangeDelFragments());
    const reader = await openTable(fs, DIR, meta!, { syncReads: false });
    (reader.properties as { numRangeDeletions: number }).numRangeDeletions = 2;
    expect(() => tableRangeDels(reader)).toThrow(CorruptionError);
    expect(() => tableRangeDels(reader)).toThrow(/000002\.sst.*range_deletions property says 2/);
    await reader.close();
  });
});
