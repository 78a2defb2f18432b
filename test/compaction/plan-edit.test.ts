/**
 * Golden tests of the plan -> VersionEdit step (compaction/plan-edit.ts), next to the picker's:
 * each case in test/testdata/compaction/plan-edit.txt picks a plan from a level shape, hands
 * editForPlan() the outputs a runner would have written, and prints the edit and the levels after
 * the VersionBuilder applied it, so a reviewer sees what one compaction changes in the MANIFEST.
 * Regenerate with: REWRITE=1 npx vitest run test/compaction/plan-edit.test.ts (then review the diff).
 *
 * Commands (state carries from case to case until the next `define`):
 *   define [levels=N] [trigger=N] [base=N] [multiplier=N] [target=N] [dynamic]
 *     one input line per level, in the syntax of test/support/level-shape.ts. Prints the shape.
 *   pick [busy=...] | pick-manual level=N [lo=KEY] [hi=KEY] | pick-rewrite key=K
 *     picks the plan the next `edit` installs (pick-rewrite: every file not under key K is stale)
 *   edit
 *     one input line: the outputs (same file syntax; none for a trivial move). Prints the edit,
 *     then the levels after it; the new levels and pointer stay for the next case.
 */
import { describe, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import type { VersionEdit } from '../../src/manifest/version-edit.js';
import { levelsProblem, Version } from '../../src/manifest/version.js';
import { VersionBuilder } from '../../src/manifest/version-builder.js';
import { pickCompaction, pickManual, pickRewrite, type PickerInput, type PickerOptions } from '../../compaction/picker.js';
import { editForPlan } from '../../compaction/plan-edit.js';
import type { CompactionPlan } from '../../compaction/plan.js';
import { runGolden, type GoldenCase } from '../support/golden.js';
import {
  busySet, describeFull, fileText, levelsText, num, parseFiles, parseLevels, pickerOptions, quote,
} from '../support/level-shape.js';

const FILE = fileURLToPath(new URL('../testdata/compaction/plan-edit.txt', import.meta.url));

interface State {
  levels: readonly (readonly FileMetadata[])[];
  options: PickerOptions;
  pointers: (Uint8Array | undefined)[];
  plan: CompactionPlan | undefined;
}

function input(s: State, busy: ReadonlySet<number>): PickerInput {
  return { levels: s.levels, options: s.options, compactPointers: s.pointers, busy };
}

/** The edit in the shape language: `delete L1:000007`, `add L2:000007['a'..'m']`, `pointer L1: 'm'#7`. */
function editText(edit: VersionEdit): string[] {
  return [
    ...(edit.deletedFiles ?? []).map((d) => `delete L${d.level}:${String(d.fileNumber).padStart(6, '0')}`),
    ...(edit.newFiles ?? []).map((n) => `add L${n.level}:${fileText(n.file)}`),
    ...(edit.compactPointers ?? []).map((p) => `pointer L${p.level}: ${quote(p.key)}`),
  ];
}

function runEdit(s: State, c: GoldenCase): string {
  if (!s.plan) throw new Error(`line ${c.line}: edit without a plan`);
  const outputs = parseFiles(c.input.join(' '), c.line + 1);
  const edit = editForPlan(s.plan, outputs);
  const builder = new VersionBuilder(new Version(s.levels));
  builder.apply(edit);
  s.levels = builder.finishLevels();
  for (const p of edit.compactPointers ?? []) s.pointers[p.level] = p.key;
  s.plan = undefined;
  return [...editText(edit), 'after:', levelsText(s.levels)].join('\n');
}

describe('compaction plan -> VersionEdit (golden)', () => {
  it('matches test/testdata/compaction/plan-edit.txt', async () => {
    let state: State | undefined;
    await runGolden(FILE, (c) => {
      if (c.command === 'define') {
        const options = pickerOptions(c);
        const levels = parseLevels(c, options.numLevels);
        const problem = levelsProblem(levels);
        if (problem) throw new Error(`line ${c.line}: invalid shape: ${problem}`);
        state = { levels, options, pointers: new Array(options.numLevels).fill(undefined), plan: undefined };
        return levelsText(levels);
      }
      if (!state) throw new Error(`line ${c.line}: ${c.command} before define`);
      const s = state;
      switch (c.command) {
        case 'pick':
          s.plan = pickCompaction(input(s, busySet(c)));
          return describeFull(s.plan).join('\n');
        case 'pick-manual': {
          const lo = c.kv.get('lo');
          const hi = c.kv.get('hi');
          s.plan = pickManual(input(s, busySet(c)), num(c, 'level', 0),
            lo === undefined ? undefined : Buffer.from(lo, 'latin1'), hi === undefined ? undefined : Buffer.from(hi, 'latin1'));
          return describeFull(s.plan).join('\n');
        }
        case 'pick-rewrite': {
          const key = c.kv.get('key');
          s.plan = pickRewrite(input(s, busySet(c)), (f) => f.keyId !== key);
          return describeFull(s.plan).join('\n');
        }
        case 'edit':
          return runEdit(s, c);
        default:
          throw new Error(`line ${c.line}: unknown command ${c.command}`);
      }
    });
  });
});
