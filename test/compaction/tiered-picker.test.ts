/**
 * Golden tests of the tiered picker (compaction/tiered-picker.ts, RocksDB's universal compaction), in
 * the style of picker.test.ts: each case in test/testdata/compaction/tiered-picker.txt defines a level
 * shape and asks for a decision; the output is describePlan(plan) (or `no compaction`) and the deeper
 * ranges. Regenerate with: REWRITE=1 npx vitest run test/compaction/tiered-picker.test.ts (review the diff).
 *
 * Commands (the shape carries from case to case until the next `define`):
 *   define [trigger=N] [levels=N] [ratio=N] [min=N] [max=N] [amp=N]
 *     input lines in test/support/level-shape.ts syntax. Prints the sorted runs, newest first, as
 *     `000012(L0,10)` for an L0 table and `L5(300)` for a level, with their bytes.
 *   pick [busy=12,13]      pickTiered
 *   pick-all [busy=...]    pickTieredAll (compactRange)
 * Defaults: trigger=4 levels=7 ratio=1 min=2 max=0 (no limit) amp=200, RocksDB's.
 *
 * Beside the golden file, a property test: for random run shapes and busy sets, every pick merges
 * consecutive free runs and puts its output where the age order stays true.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { makeFileMetadata, type FileMetadata } from '../../src/manifest/file-metadata.js';
import { levelsProblem } from '../../src/manifest/version.js';
import { pickTiered, pickTieredAll, sortedRuns, type TieredOptions } from '../../compaction/tiered-picker.js';
import { allInputFiles, type CompactionPlan } from '../../compaction/plan.js';
import { runGolden, type GoldenCase } from '../support/golden.js';
import { busySet, describeFull, num, pad, parseLevels } from '../support/level-shape.js';
import { withSeed, type Rng } from '../support/rng.js';

const FILE = fileURLToPath(new URL('../testdata/compaction/tiered-picker.txt', import.meta.url));

function tieredOptions(c: GoldenCase): TieredOptions {
  return {
    numLevels: num(c, 'levels', 7), level0CompactionTrigger: num(c, 'trigger', 4), sizeRatio: num(c, 'ratio', 1),
    minMergeWidth: num(c, 'min', 2), maxMergeWidth: num(c, 'max', 0), maxSizeAmplificationPercent: num(c, 'amp', 200),
  };
}

function runsLine(levels: FileMetadata[][]): string {
  return 'runs: ' + sortedRuns(levels).map((r) => (r.level === 0 ? `${pad(r.files[0]!.fileNumber)}(L0,${r.bytes})` : `L${r.level}(${r.bytes})`)).join(' ');
}

describe('tiered picker (golden)', () => {
  it('matches test/testdata/compaction/tiered-picker.txt', async () => {
    let state: { levels: FileMetadata[][]; options: TieredOptions } | undefined;
    await runGolden(FILE, (c) => {
      if (c.command === 'define') {
        const options = tieredOptions(c);
        const levels = parseLevels(c, options.numLevels);
        const problem = levelsProblem(levels);
        if (problem) return `invalid shape: ${problem}`;
        state = { levels, options };
        return runsLine(levels);
      }
      if (!state) throw new Error(`line ${c.line}: ${c.command} before define`);
      const input = { levels: state.levels, options: state.options, busy: busySet(c) };
      switch (c.command) {
        case 'pick': return describeFull(pickTiered(input)).join('\n');
        case 'pick-all': return describeFull(pickTieredAll(input)).join('\n');
        default: throw new Error(`line ${c.line}: unknown command ${c.command}`);
      }
    });
  });
});

/** A random shape: L0 tables newest first by seq, then levels whose seqs are older the deeper they are. */
function randomShape(rng: Rng, numLevels: number): FileMetadata[][] {
  const levels: FileMetadata[][] = Array.from({ length: numLevels }, () => []);
  let seq = 1_000_000;
  let n = 1;
  const file = (lo: string, hi: string, size: number): FileMetadata => {
    const top = seq; seq -= 10;
    return makeFileMetadata({
      fileNumber: n++, fileSize: size, crc32c: 0,
      smallest: makeInternalKey(Buffer.from(lo), top, ValueKind.Put), largest: makeInternalKey(Buffer.from(hi), top - 5, ValueKind.Put),
      smallestSeq: top - 5, largestSeq: top, numEntries: 2, numDeletions: 0,
    });
  };
  const l0 = rng.int(8);
  for (let i = 0; i < l0; i++) levels[0]!.push(file('a', 'z', 1 + rng.int(100)));
  for (let l = 1; l < numLevels; l++) {
    if (rng.int(3) !== 0) continue;
    const parts = 1 + rng.int(3);
    for (let p = 0; p < parts; p++) levels[l]!.push(file(`k${p}a`, `k${p}z`, 1 + rng.int(2000)));
  }
  return levels;
}

/** Where each file is after `plan` installs: inputs gone, one output per plan at outputLevel. */
function checkAgeOrder(levels: FileMetadata[][], plan: CompactionPlan, busy: ReadonlySet<number>): void {
  const runs = sortedRuns(levels, busy);
  const inputs = new Set(allInputFiles(plan).map((f) => f.fileNumber));
  const picked = runs.map((r, i) => ({ r, i })).filter(({ r }) => r.files.some((f) => inputs.has(f.fileNumber)));
  // Whole runs, consecutive, none busy.
  for (const { r } of picked) {
    expect(r.files.every((f) => inputs.has(f.fileNumber))).toBe(true);
    expect(r.isBusy).toBe(false);
  }
  const first = picked[0]!.i, last = picked[picked.length - 1]!.i;
  expect(last - first + 1).toBe(picked.length);
  expect(inputs.size).toBe(picked.reduce((a, { r }) => a + r.files.length, 0));
  // Output: at or below every newer run's level, above every older run's (L0 ties are ordered by seq).
  const out = plan.outputLevel;
  for (let i = 0; i < first; i++) expect(runs[i]!.level).toBeLessThanOrEqual(out);
  for (let i = last + 1; i < runs.length; i++) {
    const older = runs[i]!;
    if (older.level === 0) expect(out).toBe(0);
    else expect(older.level).toBeGreaterThan(out);
  }
  // The output level holds nothing after the inputs leave it, except L0's other tables.
  if (out > 0) expect(levels[out]!.every((f) => inputs.has(f.fileNumber))).toBe(true);
  // Every older run's files are deeper ranges (tombstones must stay above them).
  const older = runs.slice(last + 1).flatMap((r) => r.files).length;
  expect(plan.deeperRanges.length).toBe(older);
}

describe('tiered picker (property)', () => {
  it('picks consecutive free runs and keeps the age order', async () => {
    await withSeed('tiered picker property', (rng) => {
      let picks = 0;
      for (let round = 0; round < 3000; round++) {
        const numLevels = 2 + rng.int(6);
        const levels = randomShape(rng, numLevels);
        const all = levels.flat();
        const busy = new Set<number>();
        for (const f of all) if (rng.int(6) === 0) busy.add(f.fileNumber);
        const options: TieredOptions = {
          numLevels, level0CompactionTrigger: 1 + rng.int(5), sizeRatio: rng.int(3) === 0 ? 0 : rng.int(200),
          minMergeWidth: 2 + rng.int(3), maxMergeWidth: rng.int(2) === 0 ? 0 : 2 + rng.int(4),
          maxSizeAmplificationPercent: 1 + rng.int(400),
        };
        if (options.maxMergeWidth !== 0 && options.maxMergeWidth < options.minMergeWidth) options.maxMergeWidth = options.minMergeWidth;
        for (const plan of [pickTiered({ levels, options, busy }), pickTieredAll({ levels, options, busy })]) {
          if (!plan) continue;
          picks++;
          checkAgeOrder(levels, plan, busy);
        }
      }
      expect(picks).toBeGreaterThan(500);
    });
  });
});
