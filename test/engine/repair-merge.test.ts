/**
 * overlapGroups (src/engine/repair-merge.ts): tables chain into one group while each one's smallest user
 * key is at or below the largest user key seen so far in the group (a table reaching far right pulls in
 * later ones it does not touch directly); a shared boundary key joins; disjoint tables stay alone.
 */
import { describe, expect, it } from 'vitest';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { makeFileMetadata, type FileMetadata } from '../../src/manifest/file-metadata.js';
import { overlapGroups } from '../../src/engine/repair-merge.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function file(fileNumber: number, lo: string, hi: string): FileMetadata {
  return makeFileMetadata({
    fileNumber, fileSize: 100, crc32c: 0, smallestSeq: 1, largestSeq: 9, numEntries: 2, numDeletions: 0,
    smallest: makeInternalKey(enc(lo), 9, ValueKind.Put), largest: makeInternalKey(enc(hi), 1, ValueKind.Put),
  });
}

const numbers = (groups: FileMetadata[][]): number[][] => groups.map((g) => g.map((f) => f.fileNumber));

describe('overlapGroups', () => {
  it('groups tables by chained user-key overlap, in key order', () => {
    expect(numbers(overlapGroups([]))).toEqual([]);
    expect(numbers(overlapGroups([file(3, 'm', 'p'), file(1, 'a', 'c'), file(2, 'd', 'f')]))).toEqual([[1], [2], [3]]);
    // 4 reaches to 'z' and so takes 5 and 6, which do not overlap each other.
    expect(numbers(overlapGroups([file(5, 'c', 'd'), file(4, 'a', 'z'), file(6, 'x', 'y'), file(7, 'za', 'zz')])))
      .toEqual([[4, 5, 6], [7]]);
    // A shared boundary user key is an overlap (versions of 'f' live in both).
    expect(numbers(overlapGroups([file(8, 'a', 'f'), file(9, 'f', 'h'), file(10, 'i', 'j')]))).toEqual([[8, 9], [10]]);
  });
});
