/**
 * The LSM tree's shape over time, from one MANIFEST's edits (`stratadb lsm`, after Pebble's `pebble
 * lsm`): every edit that changes the file set becomes a step, classified (the MANIFEST records no
 * reason, so it is inferred: see kindOf), with the files and bytes of every level after it and the
 * cumulative bytes flushed and written by compactions. The result (LsmHistory) is plain JSON: what
 * `--json` prints and what the HTML page embeds, so both carry the same data.
 * Contract: pure (inspection in, data out); keys leave here printable (tools/format.ts printable), so
 * the page never sees raw bytes. Not here: reading the files (tools/commands/lsm.ts), the page
 * (lsm-page.ts), the text summary (lsm-summary.ts).
 */
import { Buffer } from 'node:buffer';
import type { inspect } from '../../src/index.js';
import { humanBytes, printable } from '../format.js';

type Inspection = inspect.ManifestInspection;
type FileJson = NonNullable<Inspection['edits'][number]['edit']['newFiles']>[number];

export const LSM_DATA_FORMAT = 'stratadb-lsm';
export const LSM_DATA_VERSION = 1;
/** How many characters of a key the data keeps (the rest is noted by printable()). */
const KEY_CHARS = 48;

export type StepKind = 'snapshot' | 'flush' | 'compaction' | 'trivial-move' | 'ingest' | 'deletion';

/** [level, fileNumber] */
export type LevelFile = [number, number];

export interface LsmFile {
  size: number;
  /** Indexes into LsmHistory.keys: the file's smallest and largest user keys. */
  smallest: number;
  largest: number;
  smallestSeq: number;
  largestSeq: number;
  entries: number;
  deletions: number;
}

export interface LsmStep {
  /** The edit's position in the MANIFEST (0: its first record, the snapshot) and its byte offset. */
  edit: number;
  offset: number;
  kind: StepKind;
  /** Human words for the edit, e.g. `compaction L0 -> L1: 4 files (1.2 MiB) -> 2 files (1.1 MiB)`. */
  reason: string;
  /**
   * The edit itself. Applying a step: remove `deleted`, move `moved` ([file, from, to]), add `added`.
   * Moved files are in neither list.
   */
  deleted: LevelFile[];
  added: LevelFile[];
  moved: [number, number, number][];
  /** Present when earlier edits were left out (--max-steps): their net change, applied first. */
  gap?: { edits: number; deleted: LevelFile[]; added: LevelFile[] };
  /** [files, bytes] of each level after the step (index = level). */
  levels: [number, number][];
  /** Cumulative over this MANIFEST, up to and including this step. */
  flushedBytes: number;
  compactedBytes: number;
  /** (flushed + compacted) / flushed; null before the first flush. */
  writeAmp: number | null;
}

export interface LsmHistory {
  format: typeof LSM_DATA_FORMAT;
  version: typeof LSM_DATA_VERSION;
  manifest: string;
  manifestBytes: number;
  comparator: string | null;
  /** Every edit of the MANIFEST, and how many changed no file (log number or sequence only: no step). */
  edits: number;
  metaEdits: number;
  /** Steps in the history, and how many are shown here (all, unless over --max-steps). */
  totalSteps: number;
  shownSteps: number;
  counts: Record<StepKind, number>;
  /** Sorted distinct boundary keys (smallest and largest of every file shown), printable. */
  keys: string[];
  files: Record<string, LsmFile>;
  steps: LsmStep[];
  final: { levels: { level: number; files: number[]; bytes: number }[]; flushedBytes: number; compactedBytes: number; writeAmp: number | null };
  notes: string[];
  tornTail?: { offset: number; detail: string };
  problem?: { offset: number; detail: string; code: string };
}

/** A user key's hex from an internal key's hex (the 8-byte trailer dropped). */
const userKeyHex = (internalHex: string): string => internalHex.substring(0, Math.max(0, internalHex.length - 16));

const sum = (files: Iterable<number>, meta: Map<number, FileJson>): number => {
  let s = 0;
  for (const f of files) s += meta.get(f)?.fileSize ?? 0;
  return s;
};

interface RawStep {
  edit: number;
  offset: number;
  deleted: LevelFile[];
  added: LevelFile[];
  moved: [number, number, number][];
}

/**
 * The inferred kind: the first record is the snapshot; adds only, all at L0, is a flush; adds only
 * reaching below L0 is an ingest; deletes only is a deletion (a FIFO drop, files deleted in a
 * range, or a compaction whose output was empty: the MANIFEST cannot tell them apart); every change a file keeping its number across levels is a trivial move; anything else
 * (inputs deleted, outputs added) is a compaction.
 */
export function kindOf(s: Pick<RawStep, 'edit' | 'deleted' | 'added' | 'moved'>): StepKind {
  if (s.edit === 0) return 'snapshot';
  if (s.deleted.length === 0 && s.added.length === 0) return 'trivial-move';
  if (s.deleted.length === 0 && s.moved.length === 0) return s.added.every(([l]) => l === 0) ? 'flush' : 'ingest';
  if (s.added.length === 0 && s.moved.length === 0) return 'deletion';
  return 'compaction';
}

function levelsOf(list: LevelFile[]): string {
  const levels = [...new Set(list.map(([l]) => l))].sort((a, b) => a - b);
  return levels.map((l) => `L${l}`).join('+');
}

function describe(kind: StepKind, s: RawStep, meta: Map<number, FileJson>): string {
  const files = (list: LevelFile[]): string => {
    const n = list.length;
    return `${n} file${n === 1 ? '' : 's'} (${humanBytes(sum(list.map(([, f]) => f), meta))})`;
  };
  const moves = s.moved.map(([f, from, to]) => `${String(f).padStart(6, '0')} L${from} -> L${to}`).join(', ');
  switch (kind) {
    case 'snapshot': return `state when this MANIFEST began: ${files(s.added)}`;
    case 'flush': return `flush -> L0: ${files(s.added)}`;
    case 'ingest': return `ingest -> ${levelsOf(s.added)}: ${files(s.added)}`;
    case 'deletion': return `deletion ${levelsOf(s.deleted)}: ${files(s.deleted)}`;
    case 'trivial-move': return `trivial move ${moves}`;
    case 'compaction': {
      const from = levelsOf(s.deleted) || '-';
      const to = levelsOf(s.added) || '(nothing written)';
      return `compaction ${from} -> ${to}: ${files(s.deleted)} -> ${files(s.added)}` + (moves ? `; moved ${moves}` : '');
    }
  }
}

/** Splits an edit into deleted / added / moved (a number deleted and added in one edit moved). */
function rawStep(index: number, offset: number, edit: Inspection['edits'][number]['edit']): RawStep {
  const addedAt = new Map<number, number>();
  for (const f of edit.newFiles ?? []) addedAt.set(f.fileNumber, f.level);
  const deleted: LevelFile[] = [];
  const moved: [number, number, number][] = [];
  const movedNumbers = new Set<number>();
  for (const d of edit.deletedFiles ?? []) {
    const to = addedAt.get(d.fileNumber);
    if (to !== undefined) {
      moved.push([d.fileNumber, d.level, to]);
      movedNumbers.add(d.fileNumber);
    } else {
      deleted.push([d.level, d.fileNumber]);
    }
  }
  const added: LevelFile[] = (edit.newFiles ?? []).filter((f) => !movedNumbers.has(f.fileNumber)).map((f) => [f.level, f.fileNumber]);
  return { edit: index, offset, deleted, added, moved };
}

/** Net change from state `a` to state `b` (fileNumber -> level). */
function diff(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): { deleted: LevelFile[]; added: LevelFile[] } {
  const deleted: LevelFile[] = [];
  const added: LevelFile[] = [];
  for (const [f, l] of a) if (b.get(f) !== l) deleted.push([l, f]);
  for (const [f, l] of b) if (a.get(f) !== l) added.push([l, f]);
  return { deleted, added };
}

/** Which of `total` steps to show: all within `max`, else evenly spread, always the first and the last. */
export function sampleSteps(total: number, max: number): Set<number> {
  const shown = new Set<number>();
  if (total <= max) {
    for (let i = 0; i < total; i++) shown.add(i);
    return shown;
  }
  for (let k = 0; k < max; k++) shown.add(Math.round((k * (total - 1)) / Math.max(1, max - 1)));
  shown.add(total - 1);
  return shown;
}

/** Builds the history of `m`, showing at most `maxSteps` steps (at least 2). */
export function buildLsmHistory(m: Inspection, options: { maxSteps: number }): LsmHistory {
  const meta = new Map<number, FileJson>();
  const raws: RawStep[] = [];
  let metaEdits = 0;
  m.edits.forEach((e, i) => {
    for (const f of e.edit.newFiles ?? []) meta.set(f.fileNumber, f);
    const r = rawStep(i, e.offset, e.edit);
    if (i > 0 && r.deleted.length === 0 && r.added.length === 0 && r.moved.length === 0) metaEdits++;
    else raws.push(r);
  });
  const shown = sampleSteps(raws.length, Math.max(2, options.maxSteps));
  const counts: Record<StepKind, number> = { snapshot: 0, flush: 0, compaction: 0, 'trivial-move': 0, ingest: 0, deletion: 0 };
  const state = new Map<number, number>(); // fileNumber -> level
  let shownState = new Map<number, number>();
  let skipped = 0;
  let flushed = 0;
  let compacted = 0;
  const steps: LsmStep[] = [];
  const used = new Set<number>();
  const writeAmp = (): number | null => (flushed > 0 ? (flushed + compacted) / flushed : null);
  raws.forEach((r, i) => {
    const kind = kindOf(r);
    counts[kind]++;
    const isShown = shown.has(i);
    const gap = isShown && skipped > 0 ? { edits: skipped, ...diff(shownState, state) } : undefined;
    for (const [, f] of r.deleted) state.delete(f);
    for (const [f, , to] of r.moved) state.set(f, to);
    for (const [l, f] of r.added) state.set(f, l);
    const addedBytes = sum(r.added.map(([, f]) => f), meta);
    if (kind === 'flush') flushed += addedBytes;
    if (kind === 'compaction') compacted += addedBytes;
    if (!isShown) { skipped++; return; }
    skipped = 0;
    shownState = new Map(state);
    const levels: [number, number][] = [];
    for (const [f, l] of state) {
      while (levels.length <= l) levels.push([0, 0]);
      const cell = levels[l]!;
      cell[0]++;
      cell[1] += meta.get(f)?.fileSize ?? 0;
    }
    const step: LsmStep = {
      edit: r.edit, offset: r.offset, kind, reason: describe(kind, r, meta),
      deleted: r.deleted, added: r.added, moved: r.moved,
      ...(gap ? { gap } : {}),
      levels, flushedBytes: flushed, compactedBytes: compacted, writeAmp: writeAmp(),
    };
    for (const list of [r.deleted, r.added, gap?.deleted ?? [], gap?.added ?? []]) for (const [, f] of list) used.add(f);
    for (const [f] of r.moved) used.add(f);
    steps.push(step);
  });

  const keyHex = new Set<string>();
  for (const f of used) {
    const j = meta.get(f);
    if (j) { keyHex.add(userKeyHex(j.smallestHex)); keyHex.add(userKeyHex(j.largestHex)); }
  }
  // Hex strings of lowercase digits order exactly as their bytes do (bytewise comparator).
  const sortedHex = [...keyHex].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const keyIndex = new Map(sortedHex.map((h, i) => [h, i]));
  const files: Record<string, LsmFile> = {};
  for (const f of [...used].sort((a, b) => a - b)) {
    const j = meta.get(f);
    if (!j) continue;
    files[String(f)] = {
      size: j.fileSize, smallest: keyIndex.get(userKeyHex(j.smallestHex))!, largest: keyIndex.get(userKeyHex(j.largestHex))!,
      smallestSeq: j.smallestSeq, largestSeq: j.largestSeq, entries: j.numEntries, deletions: j.numDeletions,
    };
  }
  const finalLevels: { level: number; files: number[]; bytes: number }[] = [];
  for (const [f, l] of [...state].sort((a, b) => a[0] - b[0])) {
    while (finalLevels.length <= l) finalLevels.push({ level: finalLevels.length, files: [], bytes: 0 });
    finalLevels[l]!.files.push(f);
    finalLevels[l]!.bytes += meta.get(f)?.fileSize ?? 0;
  }

  const notes = [
    `The history starts at the state when ${m.manifest} began (its first record, a snapshot of every live table): ` +
      'a MANIFEST rolls over to a new one that starts with such a snapshot, and older MANIFESTs are not read. ' +
      'Bytes flushed and compacted count only the edits after that snapshot.',
    'The MANIFEST records no reason for an edit: each step\'s kind is inferred (new files at L0 only: flush; ' +
      'files deleted and others added: compaction; the same file at another level: trivial move; deletes only: deletion, which includes a compaction whose output was empty; ' +
      'new files below L0 only: ingest).',
  ];
  if (steps.length < raws.length) {
    notes.push(`${raws.length} steps, ${steps.length} shown (--max-steps ${options.maxSteps}): sampled evenly, the first and the last ` +
      'always; a step after left-out edits first applies their net change (marked "gap").');
  }
  if (m.comparatorName !== undefined && m.comparatorName !== 'strata.BytewiseComparator') {
    notes.push(`The comparator is ${m.comparatorName}: the key axis is in bytewise order, which may differ from it.`);
  }

  return {
    format: LSM_DATA_FORMAT, version: LSM_DATA_VERSION,
    manifest: m.manifest, manifestBytes: m.bytes, comparator: m.comparatorName ?? null,
    edits: m.edits.length, metaEdits, totalSteps: raws.length, shownSteps: steps.length, counts,
    keys: sortedHex.map((h) => printable(Buffer.from(h, 'hex'), KEY_CHARS)),
    files, steps,
    final: { levels: finalLevels, flushedBytes: flushed, compactedBytes: compacted, writeAmp: writeAmp() },
    notes,
    ...(m.tornTail ? { tornTail: m.tornTail } : {}),
    ...(m.problem ? { problem: m.problem } : {}),
  };
}
