/**
 * Golden tests of the leveled picker (compaction/picker.ts), in Pebble's testdata style: each case
 * in test/testdata/compaction/picker.txt defines a level shape and asks for a decision; the output
 * is describePlan(plan) (or `no compaction`) plus the level scores, readable by a reviewer.
 * Regenerate with: REWRITE=1 npx vitest run test/compaction/picker.test.ts (then review the diff).
 *
 * Commands (state carries from case to case until the next `define`):
 *   define [trigger=N] [base=N] [multiplier=N] [levels=N] [target=N] [dynamic]
 *     one input line per level: `L1: 000007['a'..'m'] size=1000 000008['n'..'z']` (the syntax of
 *     test/support/level-shape.ts). Resets the round-robin pointers. Prints the base level, the
 *     per-level targets and the scores.
 *   pick [busy=12,13]      pickCompaction; like an installed edit, moves the level's pointer
 *   pick-manual level=N [lo=KEY] [hi=KEY] [busy=...]
 *   pick-idle [min=N] [busy=...]   pickIdle (writes went quiet) with at least min L0 files (default 2)
 *   pointer level=N key=KEY   sets a round-robin pointer by hand
 * The plan line is followed by the grandparents, the deeper ranges and the new pointer, so a
 * reviewer sees everything the runner will be told.
 */
import { describe, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import { levelsProblem } from '../../src/manifest/version.js';
import {
  baseLevel, levelScores, levelTargets, pickCompaction, pickIdle, pickManual, type PickerInput, type PickerOptions,
} from '../../compaction/picker.js';
import { runGolden, type GoldenCase } from '../support/golden.js';
import { busySet, describeFull, num, parseLevels, pickerOptions } from '../support/level-shape.js';

const FILE = fileURLToPath(new URL('../testdata/compaction/picker.txt', import.meta.url));

interface State {
  levels: FileMetadata[][];
  options: PickerOptions;
  pointers: (Uint8Array | undefined)[];
}

function scoresLine(s: State, busy: ReadonlySet<number>): string {
  return 'scores: ' + levelScores(s.levels, s.options, busy).map((x) => `L${x.level}=${x.score.toFixed(2)}`).join(' ');
}

function define(c: GoldenCase): { state: State; output: string } {
  const options = pickerOptions(c);
  const levels = parseLevels(c, options.numLevels);
  const problem = levelsProblem(levels);
  if (problem) return { state: { levels, options, pointers: [] }, output: `invalid shape: ${problem}` };
  const state: State = { levels, options, pointers: new Array(options.numLevels).fill(undefined) };
  const targets = levelTargets(levels, options);
  const t = targets.slice(1).map((v, i) => `L${i + 1}=${v > 0 ? Math.round(v) : '-'}`).join(' ');
  return { state, output: [`base=L${baseLevel(levels, options)}  targets: ${t}`, scoresLine(state, new Set())].join('\n') };
}

function input(s: State, busy: ReadonlySet<number>): PickerInput {
  return { levels: s.levels, options: s.options, compactPointers: s.pointers, busy };
}

describe('compaction picker (golden)', () => {
  it('matches test/testdata/compaction/picker.txt', async () => {
    let state: State | undefined;
    await runGolden(FILE, (c) => {
      if (c.command === 'define') {
        const r = define(c);
        state = r.state;
        return r.output;
      }
      if (!state) throw new Error(`line ${c.line}: ${c.command} before define`);
      const s = state;
      const busy = busySet(c);
      switch (c.command) {
        case 'pick': {
          const plan = pickCompaction(input(s, busy));
          if (plan?.compactPointer) s.pointers[plan.level] = plan.compactPointer;
          return [...describeFull(plan), scoresLine(s, busy)].join('\n');
        }
        case 'pick-manual': {
          const lo = c.kv.get('lo');
          const hi = c.kv.get('hi');
          const plan = pickManual(input(s, busy), num(c, 'level', 0),
            lo === undefined ? undefined : Buffer.from(lo, 'latin1'), hi === undefined ? undefined : Buffer.from(hi, 'latin1'));
          return describeFull(plan).join('\n');
        }
        case 'pick-idle': {
          const plan = pickIdle(input(s, busy), num(c, 'min', 2));
          if (plan?.compactPointer) s.pointers[plan.level] = plan.compactPointer;
          return describeFull(plan).join('\n');
        }
        case 'pointer': {
          const level = num(c, 'level', 1);
          s.pointers[level] = makeInternalKey(Buffer.from(c.kv.get('key') ?? '', 'latin1'), 0, ValueKind.Put);
          return `pointer L${level}: '${c.kv.get('key') ?? ''}'`;
        }
        default:
          throw new Error(`line ${c.line}: unknown command ${c.command}`);
      }
    });
  });
});
