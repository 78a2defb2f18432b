/**
 * compaction/style-stats.ts: the level scores and pending compaction bytes stats() and getProperty
 * show, per compaction style, on hand-built shapes whose answers are worked out in the comments.
 */
import { describe, expect, it } from 'vitest';
import { compareL0NewestFirst } from '../../src/manifest/version.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import type { PickerOptions } from '../../compaction/picker.js';
import { pendingCompactionBytes, styleLevelScores } from '../../compaction/style-stats.js';
import type { StyleConfig } from '../../compaction/style-picker.js';
import { parseLevelLine } from '../support/level-shape.js';

const LEVELED: PickerOptions = {
  numLevels: 4, level0CompactionTrigger: 4, maxBytesForLevelBase: 1000, levelMultiplier: 10,
  targetFileSize: 100, levelCompactionDynamicLevelBytes: false,
};
const TIERED: StyleConfig = {
  style: 'tiered',
  tiered: { numLevels: 4, level0CompactionTrigger: 4, sizeRatio: 1, minMergeWidth: 2, maxMergeWidth: 0, maxSizeAmplificationPercent: 200 },
};
const fifo = (allowCompaction: boolean): StyleConfig => ({
  style: 'fifo',
  fifo: { maxTableFilesSize: 1000, ttlMs: 0, allowCompaction, level0CompactionTrigger: 4, maxMergeBytes: 10_000 },
});

function shape(...lines: string[]): FileMetadata[][] {
  const levels: FileMetadata[][] = [[], [], [], []];
  lines.forEach((l, i) => { const { level, files } = parseLevelLine(l, i); levels[level]!.push(...files); });
  levels[0]!.sort(compareL0NewestFirst);
  return levels;
}

describe('style-stats', () => {
  // Five L0 tables of 100 B and an L1 of 1500 B (target 1000), an L3 of 5000 B.
  const levels = shape(
    "L0: 000011['a'..'z'] size=100 000012['a'..'z'] size=100 000013['a'..'z'] size=100 000014['a'..'z'] size=100 000015['a'..'z'] size=100",
    "L1: 000005['a'..'m'] size=1500",
    "L3: 000002['a'..'z'] size=5000",
  );

  it('leveled: the picker\'s scores; pending = L0 whole + the L1 excess x (multiplier + 1)', () => {
    expect(styleLevelScores({ style: 'leveled' }, levels, LEVELED)).toEqual([1.25, 1.5, 0, 0]);
    // 500 + (1500 - 1000) x 11 = 6000
    expect(pendingCompactionBytes({ style: 'leveled' }, levels, LEVELED)).toBe(6000);
  });

  it('tiered: L0 scores sorted runs / trigger; pending = the merge the picker would start', () => {
    // 7 runs (5 L0 tables, L1, L3) / 4
    expect(styleLevelScores(TIERED, levels, LEVELED)).toEqual([1.75, 0, 0, 0]);
    // Space amplification: (500 + 1500) / 5000 = 40% <= 200%, so the size-ratio pick: the five L0
    // tables chain (each next 100 <= taken x 1.01), then L1's 1500 > 500 x 1.01 stops it: 500 bytes.
    expect(pendingCompactionBytes(TIERED, levels, LEVELED)).toBe(500);
    // Below the trigger nothing is owed: three runs.
    expect(pendingCompactionBytes(TIERED, shape("L0: 000011['a'..'z'] size=100", "L1: 000005['a'..'m'] size=1500", "L3: 000002['a'..'z'] size=5000"), LEVELED)).toBe(0);
  });

  it('fifo: L0 scores table bytes / the cap; pending = the intra-L0 merge due (none without allowCompaction)', () => {
    const l0only = shape("L0: 000011['a'..'z'] size=300 000012['a'..'z'] size=300 000013['a'..'z'] size=300 000014['a'..'z'] size=300");
    expect(styleLevelScores(fifo(false), l0only, LEVELED)).toEqual([1.2, 0, 0, 0]);
    expect(pendingCompactionBytes(fifo(false), l0only, LEVELED)).toBe(0);
    expect(pendingCompactionBytes(fifo(true), l0only, LEVELED)).toBe(1200);
  });
});
