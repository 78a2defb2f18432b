/**
 * ingest-level.ts: the level an ingested table goes to (the deepest with nothing overlapping at it or
 * above, compaction outputs in flight counted at their output level) and the range a plan's outputs
 * can cover. Plain data, no database.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { makeFileMetadata, type FileMetadata } from '../../src/manifest/file-metadata.js';
import { chooseIngestLevel, planOutputRange } from '../../src/engine/ingest-level.js';

let next = 1;
function file(lo: string, hi: string): FileMetadata {
  return makeFileMetadata({
    fileNumber: next++, fileSize: 100, crc32c: 0,
    smallest: makeInternalKey(Buffer.from(lo), 5, ValueKind.Put), largest: makeInternalKey(Buffer.from(hi), 5, ValueKind.Put),
    smallestSeq: 5, largestSeq: 5, numEntries: 2, numDeletions: 0,
  });
}
const range = (lo: string, hi: string): { smallest: Uint8Array; largest: Uint8Array } => ({ smallest: Buffer.from(lo), largest: Buffer.from(hi) });

describe('chooseIngestLevel', () => {
  it('goes to the bottom of an empty tree, above the first overlapping level, to L0 when L0 overlaps', () => {
    expect(chooseIngestLevel([], 7, [], range('a', 'b'))).toBe(6);
    const levels = [[file('x', 'z')], [], [file('a', 'c')], [], [file('a', 'z')]];
    expect(chooseIngestLevel(levels, 7, [], range('b', 'b'))).toBe(1); // L2 holds b
    expect(chooseIngestLevel(levels, 7, [], range('d', 'e'))).toBe(3); // L4 holds everything
    expect(chooseIngestLevel(levels, 7, [], range('y', 'y'))).toBe(0); // L0 overlaps
    expect(chooseIngestLevel(levels, 5, [], range('d', 'e'))).toBe(3);
    // Touching bounds overlap (a user key shared is an overlap); disjoint ones do not.
    expect(chooseIngestLevel([[], [file('a', 'c')]], 3, [], range('c', 'd'))).toBe(0);
    expect(chooseIngestLevel([[], [file('a', 'c')]], 3, [], range('ca', 'd'))).toBe(2);
  });

  it('counts the outputs of compactions in flight at their output level', () => {
    const levels = [[], [], [file('a', 'z')]];
    expect(chooseIngestLevel(levels, 3, [], range('m', 'm'))).toBe(1);
    expect(chooseIngestLevel(levels, 3, [{ level: 1, range: range('a', 'b') }], range('m', 'm'))).toBe(1);
    expect(chooseIngestLevel(levels, 3, [{ level: 1, range: range('k', 'p') }], range('m', 'm'))).toBe(0);
    expect(chooseIngestLevel([], 4, [{ level: 2, range: range('k', 'p') }], range('p', 'q'))).toBe(1);
  });

  it("a plan's output range spans all its inputs, by user key", () => {
    const r = planOutputRange([[file('d', 'f')], [file('a', 'b'), file('g', 'h')]]);
    expect(Buffer.from(r!.smallest).toString()).toBe('a');
    expect(Buffer.from(r!.largest).toString()).toBe('h');
    expect(planOutputRange([[], []])).toBeUndefined();
  });
});
