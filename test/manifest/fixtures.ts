/**
 * Test fixtures for src/manifest: FileMetadata built from readable keys, and a fast-check
 * arbitrary for whole VersionEdits.
 */
import fc from 'fast-check';
import { compareInternalKeys, makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import { makeFileMetadata } from '../../src/manifest/file-metadata.js';
import type { VersionEdit } from '../../src/manifest/version-edit.js';

const enc = new TextEncoder();

/** A table holding user keys [lo, hi] with sequences [seqLo, seqHi]. */
export function meta(fileNumber: number, lo: string, hi: string, seqLo = 1, seqHi = seqLo, size = 1000): FileMetadata {
  return makeFileMetadata({
    fileNumber,
    fileSize: size,
    crc32c: (fileNumber * 2654435761) >>> 0,
    smallest: makeInternalKey(enc.encode(lo), seqHi, ValueKind.Put),
    largest: makeInternalKey(enc.encode(hi), seqLo, ValueKind.Put),
    smallestSeq: seqLo,
    largestSeq: seqHi,
    numEntries: 10,
    numDeletions: 1,
  });
}

const seqArb = fc.integer({ min: 0, max: 2 ** 53 - 1 });
const keyArb = fc.uint8Array({ maxLength: 24 });
const internalKeyArb = fc.tuple(keyArb, seqArb, fc.constantFrom(0, 1, 0x0f))
  .map(([k, s, kind]) => makeInternalKey(k, s, kind));

export const fileMetadataArb: fc.Arbitrary<FileMetadata> = fc.record({
  fileNumber: fc.integer({ min: 0, max: 2 ** 53 - 1 }),
  fileSize: fc.integer({ min: 0, max: 2 ** 40 }),
  crc32c: fc.integer({ min: 0, max: 0xffff_ffff }),
  a: internalKeyArb,
  b: internalKeyArb,
  s1: seqArb,
  s2: seqArb,
  e1: fc.integer({ min: 0, max: 1e9 }),
  e2: fc.integer({ min: 0, max: 1e9 }),
  id: fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: undefined }),
}).map((r) => {
  const pair = compareInternalKeys(r.a, r.b) <= 0 ? [r.a, r.b] as const : [r.b, r.a] as const;
  return makeFileMetadata({
    fileNumber: r.fileNumber, fileSize: r.fileSize, crc32c: r.crc32c,
    smallest: pair[0], largest: pair[1],
    smallestSeq: Math.min(r.s1, r.s2), largestSeq: Math.max(r.s1, r.s2),
    numEntries: Math.max(r.e1, r.e2), numDeletions: Math.min(r.e1, r.e2),
    ...(r.id !== undefined ? { uniqueId: r.id } : {}),
  });
});

const levelArb = fc.integer({ min: 0, max: 63 });
const countArb = fc.integer({ min: 0, max: 2 ** 53 - 1 });

export const versionEditArb: fc.Arbitrary<VersionEdit> = fc.record({
  formatVersion: fc.constant(1),
  comparatorName: fc.string({ unit: 'grapheme', maxLength: 20 }),
  logNumber: countArb,
  nextFileNumber: countArb,
  lastSequence: countArb,
  compactPointers: fc.array(fc.record({ level: levelArb, key: internalKeyArb }), { maxLength: 3 }),
  deletedFiles: fc.array(fc.record({ level: levelArb, fileNumber: countArb }), { maxLength: 4 }),
  newFiles: fc.array(fc.record({ level: levelArb, file: fileMetadataArb }), { maxLength: 4 }),
}, { requiredKeys: [] });
