/**
 * WriteTimeBound (compaction/write-time.ts): the bound for a seq is the smallest newest-write-time of
 * the inputs whose largestSeq reaches it; past every input there is none.
 */
import { describe, expect, it } from 'vitest';
import { WriteTimeBound } from '../../compaction/write-time.js';

describe('WriteTimeBound', () => {
  it('takes the earliest time among inputs holding seqs at or above the entry', () => {
    const b = new WriteTimeBound([
      { largestSeq: 100, newestWriteTimeMs: 5000 }, // newer writes, flushed at 5000
      { largestSeq: 40, newestWriteTimeMs: 1000 },
      { largestSeq: 70, newestWriteTimeMs: 7000 }, // an output whose creation came late
    ]);
    expect(b.boundFor(1)).toBe(1000);
    expect(b.boundFor(40)).toBe(1000);
    expect(b.boundFor(41)).toBe(5000);
    expect(b.boundFor(70)).toBe(5000);
    expect(b.boundFor(100)).toBe(5000);
    expect(b.boundFor(101)).toBeUndefined();
    expect(new WriteTimeBound([]).boundFor(1)).toBeUndefined();
  });
});
