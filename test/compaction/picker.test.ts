/**
 * Golden tests of the leveled picker (compaction/picker.ts), in Pebble's testdata style: each case
 * in test/testdata/compaction/picker.txt defines a level shape and asks for a decision; the output
 * is describePlan(plan) (or `no compaction`) plus the level scores, readable by a reviewer.
 * Regenerate with: REWRITE=1 npx vitest run test/compaction/picker.test.ts (then review the diff).
 *
 * Commands (state carries from case to case until the next `define`):
 *   define [trigger=N] [base=N] [multiplier=N] [levels=N] [target=N] [dynamic]
 *     one input line per level: `L1: 000007['a'..'m'] size=1000 000008['n'..'z']`
 *     (`size=` sets the preceding file's size, default 1; a bound may carry a seq: 'a'#9; the
 *     default seq of both bounds is the file number, so higher numbers are newer). Resets the
 *     round-robin pointers. Prints the base level, the per-level targets and the scores.
 *   pick [busy=12,13]      pickCompaction; like an installed edit, moves the level's pointer
 *   pick-manual level=N [lo=KEY] [hi=KEY] [busy=...]
 *   pointer level=N key=KEY   sets a round-robin pointer by hand
 * The plan line is followed by the grandparents, the deeper ranges and the new pointer, so a
 * reviewer sees everything the runner will be told.
 */
import { describe, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import { makeInternalKey, ValueKind, userKeyOf, seqOf } from '../../src/base/internal-key.js';
import { makeFileMetadata, type FileMetadata } from '../../src/manifest/file-metadata.js';
import { compareBySmallest, compareL0NewestFirst, levelsProblem } from '../../src/manifest/version.js';
import {
  baseLevel, levelScores, levelTargets, pickCompaction, pickManual, type PickerInput, type PickerOptions,
} from '../../compaction/picker.js';
import { describePlan, type CompactionPlan } from '../../compaction/plan.js';
import { runGolden, type GoldenCase } from '../support/golden.js';

const FILE = fileURLToPath(new URL('../testdata/compaction/picker.txt', import.meta.url));

interface State {
  levels: FileMetadata[][];
  options: PickerOptions;
  pointers: (Uint8Array | undefined)[];
}

const FILE_RE = /^(\d+)\['([^']*)'(?:#(\d+))?\.\.'([^']*)'(?:#(\d+))?\]$/;

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const quote = (ikey: Uint8Array): string => `'${text(userKeyOf(ikey))}'#${seqOf(ikey)}`;

function num(c: GoldenCase, name: string, dflt: number): number {
  const v = c.kv.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`line ${c.line}: ${name}=${v} is not a number`);
  return n;
}

function parseLevelLine(line: string, lineNo: number): { level: number; files: FileMetadata[] } {
  const m = /^L(\d+):(.*)$/.exec(line.trim());
  if (!m) throw new Error(`line ${lineNo}: expected "Ln: files...", got ${JSON.stringify(line)}`);
  const files: FileMetadata[] = [];
  let pending: { n: number; lo: string; loSeq: number; hi: string; hiSeq: number; size: number } | undefined;
  const flush = (): void => {
    if (!pending) return;
    const p = pending;
    files.push(makeFileMetadata({
      fileNumber: p.n, fileSize: p.size, crc32c: 0,
      smallest: makeInternalKey(Buffer.from(p.lo, 'latin1'), p.loSeq, ValueKind.Put),
      largest: makeInternalKey(Buffer.from(p.hi, 'latin1'), p.hiSeq, ValueKind.Put),
      smallestSeq: Math.min(p.loSeq, p.hiSeq), largestSeq: Math.max(p.loSeq, p.hiSeq),
      numEntries: 2, numDeletions: 0,
    }));
    pending = undefined;
  };
  for (const word of m[2]!.trim().split(/\s+/).filter((w) => w !== '')) {
    if (word.startsWith('size=')) {
      if (!pending) throw new Error(`line ${lineNo}: size= before any file`);
      pending.size = Number(word.slice(5));
      continue;
    }
    const f = FILE_RE.exec(word);
    if (!f) throw new Error(`line ${lineNo}: bad file ${JSON.stringify(word)}`);
    flush();
    const n = Number(f[1]);
    pending = { n, lo: f[2]!, loSeq: f[3] ? Number(f[3]) : n, hi: f[4]!, hiSeq: f[5] ? Number(f[5]) : n, size: 1 };
  }
  flush();
  return { level: Number(m[1]), files };
}

function pad(n: number): string { return String(n).padStart(6, '0'); }

function busySet(c: GoldenCase): Set<number> {
  const v = c.kv.get('busy');
  return new Set(v ? v.split(',').map(Number) : []);
}

function scoresLine(s: State, busy: ReadonlySet<number>): string {
  return 'scores: ' + levelScores(s.levels, s.options, busy).map((x) => `L${x.level}=${x.score.toFixed(2)}`).join(' ');
}

function describeFull(plan: CompactionPlan | undefined): string[] {
  if (!plan) return ['no compaction'];
  const out = [describePlan(plan)];
  if (plan.grandparents.length > 0) {
    const bytes = plan.grandparents.reduce((a, f) => a + f.fileSize, 0);
    out.push(`  grandparents: L${plan.outputLevel + 1}:${plan.grandparents.map((f) => pad(f.fileNumber)).join(',')} (${bytes} B)`);
  }
  if (plan.deeperRanges.length > 0) {
    out.push(`  deeper: ${plan.deeperRanges.map((r) => `['${text(r.smallest)}'..'${text(r.largest)}']`).join(' ')}`);
  }
  if (plan.compactPointer) out.push(`  pointer L${plan.level}: ${quote(plan.compactPointer)}`);
  return out;
}

function define(c: GoldenCase): { state: State; output: string } {
  const options: PickerOptions = {
    numLevels: num(c, 'levels', 7),
    level0CompactionTrigger: num(c, 'trigger', 4),
    maxBytesForLevelBase: num(c, 'base', 1000),
    levelMultiplier: num(c, 'multiplier', 10),
    targetFileSize: num(c, 'target', 100),
    levelCompactionDynamicLevelBytes: c.args.includes('dynamic'),
  };
  const levels: FileMetadata[][] = Array.from({ length: options.numLevels }, () => []);
  c.input.forEach((line, i) => {
    if (line.trim() === '') return;
    const { level, files } = parseLevelLine(line, c.line + 1 + i);
    if (level >= options.numLevels) throw new Error(`line ${c.line + 1 + i}: L${level} >= levels=${options.numLevels}`);
    levels[level]!.push(...files);
  });
  levels[0]!.sort(compareL0NewestFirst);
  for (let l = 1; l < levels.length; l++) levels[l]!.sort(compareBySmallest);
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
