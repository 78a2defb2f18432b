/**
 * The text language of the compaction golden tests (test/testdata/compaction/*.txt): level shapes
 * written as `L1: 000007['a'..'m'] size=1000 key=k1 000008['n'..'z']`, parsed into FileMetadata and
 * printed back in the same syntax, plus the plan description both golden files print.
 * Files: a bound may carry a seq ('a'#9); the default seq of both bounds is the file number, so
 * higher numbers are newer. `size=` sets the preceding file's size (default 1), `key=` its
 * encryption key id (default none), `rangedels=` its range-deletion entry count (default none),
 * `time=` its newest write time in ms (FileMetadata.newestWriteTimeMs; default none).
 */
import { Buffer } from 'node:buffer';
import { makeInternalKey, seqOf, userKeyOf, ValueKind } from '../../src/base/internal-key.js';
import { makeFileMetadata, type FileMetadata } from '../../src/manifest/file-metadata.js';
import { compareBySmallest, compareL0NewestFirst, type Levels } from '../../src/manifest/version.js';
import type { PickerOptions } from '../../compaction/picker.js';
import { describePlan, type CompactionPlan } from '../../compaction/plan.js';
import type { GoldenCase } from './golden.js';

const FILE_RE = /^(\d+)\['([^']*)'(?:#(\d+))?\.\.'([^']*)'(?:#(\d+))?\]$/;

export const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
export const quote = (ikey: Uint8Array): string => `'${text(userKeyOf(ikey))}'#${seqOf(ikey)}`;
export function pad(n: number): string { return String(n).padStart(6, '0'); }

/** A numeric `name=` argument of the case, or `dflt`. */
export function num(c: GoldenCase, name: string, dflt: number): number {
  const v = c.kv.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`line ${c.line}: ${name}=${v} is not a number`);
  return n;
}

/** The picker options of a `define` line; the defaults are the ones the golden files state. */
export function pickerOptions(c: GoldenCase): PickerOptions {
  return {
    numLevels: num(c, 'levels', 7),
    level0CompactionTrigger: num(c, 'trigger', 4),
    maxBytesForLevelBase: num(c, 'base', 1000),
    levelMultiplier: num(c, 'multiplier', 10),
    targetFileSize: num(c, 'target', 100),
    levelCompactionDynamicLevelBytes: c.args.includes('dynamic'),
  };
}

/** The `busy=12,13` argument as a set of file numbers. */
export function busySet(c: GoldenCase): Set<number> {
  const v = c.kv.get('busy');
  return new Set(v ? v.split(',').map(Number) : []);
}

/** The files of one line of words (`000007['a'..'m'] size=1000 key=k1 ...`). */
export function parseFiles(words: string, lineNo: number): FileMetadata[] {
  const files: FileMetadata[] = [];
  let pending: { n: number; lo: string; loSeq: number; hi: string; hiSeq: number; size: number; keyId?: string; rangeDels?: number; time?: number } | undefined;
  const flush = (): void => {
    if (!pending) return;
    const p = pending;
    files.push(makeFileMetadata({
      fileNumber: p.n, fileSize: p.size, crc32c: 0,
      smallest: makeInternalKey(Buffer.from(p.lo, 'latin1'), p.loSeq, ValueKind.Put),
      largest: makeInternalKey(Buffer.from(p.hi, 'latin1'), p.hiSeq, ValueKind.Put),
      smallestSeq: Math.min(p.loSeq, p.hiSeq), largestSeq: Math.max(p.loSeq, p.hiSeq),
      numEntries: 2, numDeletions: 0,
      ...(p.keyId !== undefined ? { keyId: p.keyId } : {}),
      ...(p.rangeDels !== undefined ? { numRangeDeletions: p.rangeDels } : {}),
      ...(p.time !== undefined ? { newestWriteTimeMs: p.time } : {}),
    }));
    pending = undefined;
  };
  for (const word of words.trim().split(/\s+/).filter((w) => w !== '')) {
    if (word.startsWith('size=') || word.startsWith('key=') || word.startsWith('rangedels=') || word.startsWith('time=')) {
      if (!pending) throw new Error(`line ${lineNo}: ${word} before any file`);
      if (word.startsWith('size=')) pending.size = Number(word.slice(5));
      else if (word.startsWith('time=')) pending.time = Number(word.slice(5));
      else if (word.startsWith('rangedels=')) pending.rangeDels = Number(word.slice(10));
      else pending.keyId = word.slice(4);
      continue;
    }
    const f = FILE_RE.exec(word);
    if (!f) throw new Error(`line ${lineNo}: bad file ${JSON.stringify(word)}`);
    flush();
    const n = Number(f[1]);
    pending = { n, lo: f[2]!, loSeq: f[3] ? Number(f[3]) : n, hi: f[4]!, hiSeq: f[5] ? Number(f[5]) : n, size: 1 };
  }
  flush();
  return files;
}

/** One `Ln: files...` line. */
export function parseLevelLine(line: string, lineNo: number): { level: number; files: FileMetadata[] } {
  const m = /^L(\d+):(.*)$/.exec(line.trim());
  if (!m) throw new Error(`line ${lineNo}: expected "Ln: files...", got ${JSON.stringify(line)}`);
  return { level: Number(m[1]), files: parseFiles(m[2]!, lineNo) };
}

/** The levels the case's input lines describe, each sorted as a Version keeps it. */
export function parseLevels(c: GoldenCase, numLevels: number): FileMetadata[][] {
  const levels: FileMetadata[][] = Array.from({ length: numLevels }, () => []);
  c.input.forEach((line, i) => {
    if (line.trim() === '') return;
    const { level, files } = parseLevelLine(line, c.line + 1 + i);
    if (level >= numLevels) throw new Error(`line ${c.line + 1 + i}: L${level} >= levels=${numLevels}`);
    levels[level]!.push(...files);
  });
  levels[0]!.sort(compareL0NewestFirst);
  for (let l = 1; l < levels.length; l++) levels[l]!.sort(compareBySmallest);
  return levels;
}

/** A file in the input syntax: seqs, size and key only where they differ from the defaults. */
export function fileText(f: FileMetadata): string {
  const bound = (ikey: Uint8Array): string => {
    const seq = seqOf(ikey);
    return `'${text(userKeyOf(ikey))}'${seq === f.fileNumber ? '' : `#${seq}`}`;
  };
  return `${pad(f.fileNumber)}[${bound(f.smallest)}..${bound(f.largest)}]` +
    (f.fileSize !== 1 ? ` size=${f.fileSize}` : '') + (f.keyId !== undefined ? ` key=${f.keyId}` : '') +
    (f.numRangeDeletions !== undefined ? ` rangedels=${f.numRangeDeletions}` : '') +
    (f.newestWriteTimeMs !== undefined ? ` time=${f.newestWriteTimeMs}` : '');
}

/** Every non-empty level as an input line, or `(no files)`. */
export function levelsText(levels: Levels): string {
  const lines: string[] = [];
  levels.forEach((files, level) => {
    if (files.length > 0) lines.push(`L${level}: ${files.map(fileText).join(' ')}`);
  });
  return lines.length ? lines.join('\n') : '(no files)';
}

/** describePlan(plan) (or `no compaction`), then the grandparents, deeper ranges and new pointer. */
export function describeFull(plan: CompactionPlan | undefined): string[] {
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
