/**
 * tools/lsm/lsm-history.ts on hand-made MANIFEST inspections (no database): how each kind of edit
 * is classified and described, edits that change no file, the key axis (sorted bytewise, binary keys
 * as hex), the cumulative bytes and write amplification, and sampling under --max-steps (first and
 * last kept, gaps carrying the net change of the edits left out).
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { inspect } from '../../src/index.js';
import { buildLsmHistory, kindOf, sampleSteps, type LsmHistory } from '../../tools/lsm/lsm-history.js';
import { replaySteps } from '../support/lsm-replay.js';

type Inspection = inspect.ManifestInspection;
type Edit = Inspection['edits'][number]['edit'];
type FileJson = NonNullable<Edit['newFiles']>[number];

const TRAILER = '0100000000000000';
const hexOf = (k: string | Uint8Array): string => Buffer.from(typeof k === 'string' ? Buffer.from(k) : k).toString('hex');

function file(level: number, fileNumber: number, fileSize: number, smallest: string | Uint8Array, largest: string | Uint8Array, seq = fileNumber): FileJson {
  return {
    level, fileNumber, fileSize, crc32c: '00000000', smallest: '-', largest: '-',
    smallestHex: hexOf(smallest) + TRAILER, largestHex: hexOf(largest) + TRAILER,
    smallestSeq: seq, largestSeq: seq, numEntries: 10, numDeletions: 0,
  };
}

function inspection(edits: Edit[]): Inspection {
  return {
    manifest: 'MANIFEST-000001', bytes: 100, records: edits.length, comparatorName: 'strata.BytewiseComparator',
    edits: edits.map((edit, i) => ({ offset: i * 10, text: [], edit })), levels: [],
  };
}

/** snapshot (one L1 file), flush, flush, compaction L0+L1 -> L1, trivial move L1 -> L2, meta, ingest, deletion. */
const HISTORY: Edit[] = [
  { formatVersion: 1, newFiles: [file(1, 3, 1000, 'm', 'p')] },
  { logNumber: 5, newFiles: [file(0, 6, 100, 'a', 'k')] },
  { newFiles: [file(0, 7, 200, 'b', 'z')] },
  { deletedFiles: [{ level: 0, fileNumber: 6 }, { level: 0, fileNumber: 7 }, { level: 1, fileNumber: 3 }], newFiles: [file(1, 8, 600, 'a', 'n'), file(1, 9, 500, 'o', 'z')] },
  { deletedFiles: [{ level: 1, fileNumber: 8 }], newFiles: [{ ...file(2, 8, 600, 'a', 'n') }] },
  { lastSequence: 99 },
  { newFiles: [file(3, 10, 50, new Uint8Array([0x00, 0xff]), new Uint8Array([0x01]))] },
  { deletedFiles: [{ level: 3, fileNumber: 10 }] },
];

describe('lsm history', () => {
  it('classifies and describes each edit; skips edits that change no file', () => {
    const h = buildLsmHistory(inspection(HISTORY), { maxSteps: 100 });
    expect(h.steps.map((s) => [s.edit, s.kind, s.reason])).toEqual([
      [0, 'snapshot', 'state when this MANIFEST began: 1 file (1000 B)'],
      [1, 'flush', 'flush -> L0: 1 file (100 B)'],
      [2, 'flush', 'flush -> L0: 1 file (200 B)'],
      [3, 'compaction', 'compaction L0+L1 -> L1: 3 files (1.3 KiB) -> 2 files (1.1 KiB)'],
      [4, 'trivial-move', 'trivial move 000008 L1 -> L2'],
      [6, 'ingest', 'ingest -> L3: 1 file (50 B)'],
      [7, 'deletion', 'deletion L3: 1 file (50 B)'],
    ]);
    expect(h).toMatchObject({ edits: 8, metaEdits: 1, totalSteps: 7, shownSteps: 7 });
    expect(h.counts).toEqual({ snapshot: 1, flush: 2, compaction: 1, 'trivial-move': 1, ingest: 1, deletion: 1 });
    expect(h.steps[4]).toMatchObject({ deleted: [], added: [], moved: [[8, 1, 2]] });
    expect(h.steps.map((s) => s.levels)).toEqual([
      [[0, 0], [1, 1000]],
      [[1, 100], [1, 1000]],
      [[2, 300], [1, 1000]],
      [[0, 0], [2, 1100]],
      [[0, 0], [1, 500], [1, 600]],
      [[0, 0], [1, 500], [1, 600], [1, 50]],
      [[0, 0], [1, 500], [1, 600]],
    ]);
    expect(h.final.levels).toEqual([
      { level: 0, files: [], bytes: 0 }, { level: 1, files: [9], bytes: 500 }, { level: 2, files: [8], bytes: 600 },
    ]);
  });

  it('counts flushed and compacted bytes; write amp is null before the first flush', () => {
    const h = buildLsmHistory(inspection(HISTORY), { maxSteps: 100 });
    expect(h.steps.map((s) => [s.flushedBytes, s.compactedBytes, s.writeAmp])).toEqual([
      [0, 0, null], [100, 0, 1], [300, 0, 1], [300, 1100, 1400 / 300], [300, 1100, 1400 / 300],
      [300, 1100, 1400 / 300], [300, 1100, 1400 / 300],
    ]);
    expect(h.final).toMatchObject({ flushedBytes: 300, compactedBytes: 1100, writeAmp: 1400 / 300 });
  });

  it('puts keys on one sorted axis, binary ones as hex, and files point into it', () => {
    const h = buildLsmHistory(inspection(HISTORY), { maxSteps: 100 });
    expect(h.keys).toEqual(['0x00ff', '0x01', 'a', 'b', 'k', 'm', 'n', 'o', 'p', 'z']);
    expect(h.files['8']).toMatchObject({ size: 600, smallest: h.keys.indexOf('a'), largest: h.keys.indexOf('n') });
    expect(h.files['10']).toMatchObject({ smallest: 0, largest: 1 });
  });

  it('samples evenly under --max-steps, keeping the first and the last, with gaps that add up', () => {
    expect([...sampleSteps(10, 20)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...sampleSteps(10, 2)]).toEqual([0, 9]);
    expect([...sampleSteps(101, 5)]).toEqual([0, 25, 50, 75, 100]);
    const full = buildLsmHistory(inspection(HISTORY), { maxSteps: 100 });
    const few = buildLsmHistory(inspection(HISTORY), { maxSteps: 3 });
    expect(few.steps.map((s) => s.edit)).toEqual([0, 3, 7]);
    expect(few.steps[1]!.gap).toEqual({ edits: 2, deleted: [], added: [[0, 6], [0, 7]] });
    expect(few.steps[2]!.gap).toEqual({ edits: 2, deleted: [[1, 8]], added: [[2, 8], [3, 10]] });
    expect(few.steps.map((s) => s.levels)).toEqual([full.steps[0]!.levels, full.steps[3]!.levels, full.steps[6]!.levels]);
    expect(few.notes.some((n) => n.includes('7 steps, 3 shown (--max-steps 3)'))).toBe(true);
    const replay = (h: LsmHistory): number[][] => [...replaySteps(h)].sort((a, b) => a[0] - b[0]);
    expect(replay(few)).toEqual(replay(full));
  });

  it('a compaction that also moves a file is a compaction; deletes and adds at one level too', () => {
    expect(kindOf({ edit: 2, deleted: [[0, 4]], added: [[1, 9]], moved: [[5, 0, 1]] })).toBe('compaction');
    expect(kindOf({ edit: 2, deleted: [[1, 4]], added: [[1, 9]], moved: [] })).toBe('compaction');
    expect(kindOf({ edit: 2, deleted: [], added: [[0, 9], [0, 10]], moved: [] })).toBe('flush');
    expect(kindOf({ edit: 2, deleted: [], added: [[0, 9], [2, 10]], moved: [] })).toBe('ingest');
    expect(kindOf({ edit: 0, deleted: [], added: [[0, 9]], moved: [] })).toBe('snapshot');
  });
});
