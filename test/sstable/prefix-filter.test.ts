/**
 * Prefix entries in the table filter (writer option prefixLength): a table answers mayContainPrefix() "no"
 * only for prefixes none of its keys has (never a false negative, checked over random keys), counts
 * its checks, records the length in the `filter.prefix_length` property, and a table written without
 * one (or read with a shorter probe) answers "maybe" uncounted. The filter still answers whole keys.
 * The FILTER-FORMAT.md example is rebuilt byte for byte. Partitioned tables answer across their partitions.
 */
import { describe, expect, it } from 'vitest';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { withSeed } from '../support/rng.js';
import { b, hex, openTable, sortUnique, writeTable, type Entry } from './table-helpers.js';
import { TableWriter } from '../../sstable/table-writer.js';
import { FilterBlockBuilder } from '../../sstable/filter-block.js';
import { BloomFilterBuilder } from '../../sstable/bloom.js';

describe('prefix filter', () => {
  // Partitioned (format 3): 200-byte partitions, so a prefix's keys often span several filter partitions.
  it.each([['one filter', {}], ['filter partitions', { partitionedMetadata: true, metadataBlockSize: 64, blockSize: 128 }]] as const)(
    'never rules out a prefix the table holds, rules out most it does not, and records its length (%s)', async (_name, layout) => {
    await withSeed('sstable-prefix-filter', async (rng) => {
      const fs = new MemFileSystem();
      const entries: Entry[] = [];
      const held = new Set<string>();
      for (let i = 0; i < 2000; i++) {
        const k = rng.bytes(1 + rng.int(8));
        if (k[0]! % 2 === 1) k[0]! -= 1; // only even first bytes: half of all 1-byte prefixes are absent
        entries.push([k, b('v')]);
      }
      const sorted = sortUnique(entries);
      for (const [k] of sorted) if (k.length >= 2) held.add(hex(k.subarray(0, 2)));
      const r = await writeTable(fs, '/p.sst', sorted, { prefixLength: 2, ...layout });
      expect(r.properties.filterPrefixLength).toBe(2);
      if ('partitionedMetadata' in layout) expect(r.properties.indexPartitions).toBeGreaterThan(5);
      const t = await openTable(fs, '/p.sst');
      expect(t.properties.filterPrefixLength).toBe(2);
      for (const p of held) expect(t.mayContainPrefix(Buffer.from(p, 'hex'))).toBe(true);
      // a longer probe is answered by its first two bytes
      for (const [k] of sorted) if (k.length >= 3) expect(t.mayContainPrefix(k.subarray(0, 3))).toBe(true);
      let absent = 0;
      let negatives = 0;
      for (let x = 0; x < 256; x++) {
        for (let y = 0; y < 256; y += 7) {
          const p = Uint8Array.of(x, y);
          if (held.has(hex(p))) continue;
          absent++;
          if (!t.mayContainPrefix(p)) negatives++;
        }
      }
      expect(negatives).toBeGreaterThan(absent * 0.9);
      expect(t.prefixNegatives).toBe(negatives);
      const before = t.prefixChecks;
      expect(t.mayContainPrefix(Uint8Array.of(1))).toBe(true); // shorter than the table's length: no answer
      expect(t.prefixChecks).toBe(before);
      for (const [k] of sorted.slice(0, 200)) expect((await t.getAtOrAfter(k)) !== undefined).toBe(true);
      await t.close();
    });
  });

  it('a table without prefix entries (or without a filter) is never ruled out and has no property', async () => {
    const fs = new MemFileSystem();
    const entries = sortUnique([[b('aa1'), b('x')], [b('ab2'), b('y')]]);
    for (const [path, o] of [['/plain.sst', {}], ['/nofilter.sst', { bloomBitsPerKey: 0, prefixLength: 2 }]] as const) {
      const r = await writeTable(fs, path, entries, o);
      expect(r.properties.filterPrefixLength).toBeUndefined();
      const t = await openTable(fs, path);
      expect(t.mayContainPrefix(b('zz'))).toBe(true);
      expect(t.prefixChecks).toBe(0);
      await t.close();
    }
  });

  it('a key exactly the prefix length and keys shorter than it', async () => {
    const fs = new MemFileSystem();
    const entries = sortUnique([[b('a'), b('1')], [b('bb'), b('2')], [b('cc9'), b('3')]]);
    await writeTable(fs, '/s.sst', entries, { prefixLength: 2 });
    const t = await openTable(fs, '/s.sst');
    expect(t.mayContainPrefix(b('bb'))).toBe(true);
    expect(t.mayContainPrefix(b('cc'))).toBe(true);
    expect(t.mayContainPrefix(b('cc9x'))).toBe(true);
    expect(t.mayContainPrefix(b('a'))).toBe(true); // shorter than 2: unanswered
    await t.close();
  });

  it('the worked example of FILTER-FORMAT.md §10, byte for byte: prefixes are plain keys of the same filter', () => {
    const f = new FilterBlockBuilder(10, undefined, 2);
    for (const k of ['a', 'aa1', 'aa2', 'ab1']) f.add(b(k));
    expect(f.keyCount).toBe(6);
    const bytes = f.finish();
    expect(hex(bytes)).toBe('6449313dd4a54b4b4000000007000001');
    const plain = new BloomFilterBuilder(10);
    for (const k of ['a', 'aa1', 'aa', 'aa2', 'ab1', 'ab']) plain.addKey(b(k));
    expect(hex(plain.finish())).toBe(hex(bytes));
  });

  it('refuses a prefix length out of range', () => {
    for (const n of [-1, 1.5, 1025]) {
      expect(() => new TableWriter({ append: () => undefined } as never, {
        blockSize: 4096, blockRestartInterval: 16, compression: 'none', bloomBitsPerKey: 10, prefixLength: n,
      })).toThrow(/prefixLength/);
    }
  });
});
