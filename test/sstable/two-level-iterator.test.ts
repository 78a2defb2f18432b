/**
 * TwoLevelIterator over in-memory blocks: a loader that answers some blocks synchronously and some
 * through a Promise, empty blocks in between, seeks and direction changes against a sorted array,
 * and no Promise at all when every block is at hand.
 */
import { describe, expect, it } from 'vitest';
import { compareByteRanges, compareBytes } from '../../src/base/bytes.js';
import { withSeed } from '../support/rng.js';
import { BlockBuilder } from '../../sstable/block-builder.js';
import { Block, BlockIterator } from '../../sstable/block-reader.js';
import { putBlockHandle, decodeBlockHandle, type BlockHandle } from '../../sstable/format.js';
import { TwoLevelIterator, type DataBlockLoader } from '../../sstable/two-level-iterator.js';
import { IndexSearch } from '../../sstable/index-search.js';
import { bytewiseComparator } from '../../src/base/comparator.js';
import { b, entriesEqual, lowerBound, scanBackward, scanForward, step, type Entry } from './table-helpers.js';

/** Splits entries into blocks of the given sizes (0 = an empty block whose index key repeats the previous one). */
function buildBlocks(entries: readonly Entry[], sizes: readonly number[]): { index: Block; blocks: Block[] } {
  const blocks: Block[] = [];
  const index = new BlockBuilder(1);
  let at = 0;
  let lastKey: Uint8Array = new Uint8Array(0);
  const scratch = new Uint8Array(20);
  for (const n of sizes) {
    const builder = new BlockBuilder(2);
    for (let i = 0; i < n; i++, at++) builder.add(entries[at]![0], entries[at]![1]);
    if (n > 0) lastKey = entries[at - 1]![0];
    blocks.push(new Block(builder.finish().slice(), 'mem', blocks.length));
    const len = putBlockHandle(scratch, 0, { offset: blocks.length - 1, size: 0 });
    index.add(lastKey, scratch.subarray(0, len));
  }
  return { index: new Block(index.finish().slice(), 'mem', 0), blocks };
}

function loader(blocks: Block[], asyncEvery: number): DataBlockLoader & { promises: number } {
  const l = {
    promises: 0,
    decodeHandle: (index: BlockIterator, out: BlockHandle) => {
      decodeBlockHandle(index.valueBytes, index.valueOffset, index.valueLimit, 1e9, out, 'mem', 0);
    },
    load: (h: BlockHandle) => {
      const blk = blocks[h.offset]!;
      if (asyncEvery > 0 && h.offset % asyncEvery === 0) { l.promises++; return Promise.resolve(blk); }
      return blk;
    },
  };
  return l;
}

describe('TwoLevelIterator', () => {
  it('matches a sorted array across sync, async and empty blocks', async () => {
    await withSeed('two-level', async (rng) => {
      for (let round = 0; round < 30; round++) {
        const n = rng.int(60);
        const keys = new Set<string>();
        while (keys.size < n) keys.add(`k${rng.int(1000)}`);
        const entries: Entry[] = [...keys].sort().map((k) => [b(k), b(`v-${k}`)] as const)
          .sort((x, y) => compareBytes(x[0], y[0]));
        const sizes: number[] = [];
        let left = entries.length;
        while (left > 0 || rng.int(3) === 0) {
          const s = rng.int(3) === 0 ? 0 : Math.min(left, 1 + rng.int(5));
          sizes.push(s);
          left -= s;
          if (left === 0 && sizes.length > 20) break;
        }
        const { index, blocks } = buildBlocks(entries, sizes);
        const l = loader(blocks, 1 + rng.int(3));
        // Odd rounds seek through the index's summary search, as a table reader's iterators do.
        const search = round % 2 === 1 ? IndexSearch.build(index, bytewiseComparator, compareByteRanges) : undefined;
        if (round % 2 === 1 && sizes.length > 0) expect(search).toBeDefined(); // an empty index is declined
        const mk = (): TwoLevelIterator => new TwoLevelIterator(new BlockIterator(compareByteRanges, index), l, compareByteRanges, search);
        expect(entriesEqual(await scanForward(mk()), entries)).toBe(true);
        expect(entriesEqual(await scanBackward(mk()), entries)).toBe(true);
        const it = mk();
        for (let t = 0; t < 20; t++) {
          const target = b(`k${rng.int(1100)}`);
          const i = lowerBound(entries, target);
          await step(it.seek(target));
          expect(it.valid()).toBe(i < entries.length);
          if (it.valid()) {
            expect(it.key()).toEqual(entries[i]![0]);
            // Change direction: prev then next returns to the same key.
            await step(it.prev());
            if (i > 0) expect(it.key()).toEqual(entries[i - 1]![0]);
            else expect(it.valid()).toBe(false);
          }
          const exact = i < entries.length && compareBytes(entries[i]![0], target) === 0;
          const j = exact ? i : i - 1;
          await step(it.seekForPrev(target));
          expect(it.valid()).toBe(j >= 0);
          if (j >= 0) expect(it.key()).toEqual(entries[j]![0]);
        }
      }
    });
  });

  it('never returns a Promise when every block loads synchronously', () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 50; i++) entries.push([b(`k${String(i).padStart(2, '0')}`), b('v')]);
    const { index, blocks } = buildBlocks(entries, [10, 0, 10, 10, 0, 20]);
    const it = new TwoLevelIterator(new BlockIterator(compareByteRanges, index), loader(blocks, 0), compareByteRanges);
    let n = 0;
    for (expect(it.seekToFirst()).toBeUndefined(); it.valid(); expect(it.next()).toBeUndefined()) n++;
    expect(n).toBe(50);
    expect(it.seekToLast()).toBeUndefined();
    expect(it.prev()).toBeUndefined();
    expect(it.seek(b('k25'))).toBeUndefined();
    expect(it.seekForPrev(b('k25'))).toBeUndefined();
    it.close();
    expect(it.valid()).toBe(false);
  });

  it('reuses the current block instead of reloading it', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 30; i++) entries.push([b(`k${String(i).padStart(2, '0')}`), b('v')]);
    const { index, blocks } = buildBlocks(entries, [15, 15]);
    const l = loader(blocks, 1);
    const it = new TwoLevelIterator(new BlockIterator(compareByteRanges, index), l, compareByteRanges);
    await step(it.seek(b('k03')));
    const before = l.promises;
    for (let i = 0; i < 5; i++) expect(it.seek(b(`k0${5 + i}`))).toBeUndefined();
    expect(l.promises).toBe(before);
  });
});

describe('TwoLevelIterator readahead failures', () => {
  it('a damaged index entry met by readahead leaves no unhandled rejection: the current read reports its own error', async () => {
    const entries: Entry[] = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [b(k), b(`v-${k}`)] as const);
    const { index, blocks } = buildBlocks(entries, [2, 2, 2]);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => { unhandled.push(e); };
    process.on('unhandledRejection', onUnhandled);
    try {
      const l: DataBlockLoader = {
        decodeHandle: (it: BlockIterator, out: BlockHandle) => {
          decodeBlockHandle(it.valueBytes, it.valueOffset, it.valueLimit, 1e9, out, 'mem', 0);
          if (out.offset === 1) throw new Error('damaged index handle');
        },
        // Every load waits; block 0's fails a moment later (a checksum mismatch).
        load: (h: BlockHandle) => new Promise<Block>((resolve, reject) => setImmediate(() =>
          h.offset === 0 ? reject(new Error('block 0 checksum mismatch')) : resolve(blocks[h.offset]!))),
      };
      const it = new TwoLevelIterator(new BlockIterator(compareByteRanges, index), l, compareByteRanges);
      let error: unknown;
      try { await it.seekToFirst(); } catch (e) { error = e; }
      expect(error).toMatchObject({ message: 'block 0 checksum mismatch' });
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
