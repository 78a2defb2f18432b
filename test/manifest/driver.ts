/**
 * Drives a VersionSet with random but valid edits, the way the DB will: flushes (a new L0 table
 * and a new log number), compactions (all files of L and L+1 replaced by disjoint outputs at
 * L+1), trivial moves and compaction cursors. stateOf() is the observable state a recovery must
 * reproduce exactly.
 */
import { Buffer } from 'node:buffer';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { makeFileMetadata } from '../../src/manifest/file-metadata.js';
import type { VersionEdit } from '../../src/manifest/version-edit.js';
import type { VersionSet, VersionSetOptions } from '../../src/manifest/version-set.js';
import type { Rng } from '../support/rng.js';

export const DIR = '/db';
export const OPTIONS: VersionSetOptions = { numLevels: 4, maxManifestFileSize: 64 * 1024 };

const enc = new TextEncoder();
const key = (i: number): Uint8Array => enc.encode(`key${String(i).padStart(5, '0')}`);

export interface State {
  levels: string;
  logNumber: number;
  lastSequence: number;
  pointers: string;
}

export function stateOf(vs: VersionSet): State {
  const pointers: string[] = [];
  for (let l = 0; l < OPTIONS.numLevels; l++) {
    const p = vs.compactPointer(l);
    pointers.push(p ? Buffer.from(p).toString('hex') : '-');
  }
  return { levels: vs.current().describe(), logNumber: vs.logNumber, lastSequence: vs.lastSequence, pointers: pointers.join(',') };
}

function table(vs: VersionSet, lo: number, hi: number, seqLo: number, seqHi: number, rng: Rng) {
  return makeFileMetadata({
    fileNumber: vs.newFileNumber(),
    fileSize: 100 + rng.int(5000),
    crc32c: rng.int(0x1_0000_0000),
    smallest: makeInternalKey(key(lo), seqHi, ValueKind.Put),
    largest: makeInternalKey(key(hi), seqLo, rng.int(2) ? ValueKind.Put : ValueKind.Delete),
    smallestSeq: seqLo,
    largestSeq: seqHi,
    numEntries: 1 + rng.int(100),
    numDeletions: 0,
  });
}

/** A random edit valid against vs's current state (file numbers are taken from vs). */
export function randomEdit(vs: VersionSet, rng: Rng): VersionEdit {
  const v = vs.current();
  const kind = rng.int(10);
  if (kind < 5 || v.totalFiles() === 0) {
    // Flush: sequences continue from lastSequence; the WAL that held them is retired.
    const first = vs.lastSequence + 1;
    const last = first + rng.int(50);
    vs.lastSequence = last;
    const lo = rng.int(900);
    const file = table(vs, lo, lo + rng.int(100), first, last, rng);
    return { logNumber: vs.newFileNumber(), newFiles: [{ level: 0, file }] };
  }
  const level = rng.int(OPTIONS.numLevels - 1);
  const inputs = [...v.levels[level]!.map((f) => ({ level, f })), ...v.levels[level + 1]!.map((f) => ({ level: level + 1, f }))];
  if (inputs.length === 0) return { compactPointers: [{ level, key: makeInternalKey(key(rng.int(1000)), 7, ValueKind.Put) }] };
  if (kind === 9 && v.levels[level + 1]!.length === 0 && v.levels[level]!.length === 1 && level > 0) {
    const f = v.levels[level]![0]!;
    return { deletedFiles: [{ level, fileNumber: f.fileNumber }], newFiles: [{ level: level + 1, file: f }] };
  }
  let seqLo = Infinity;
  let seqHi = 0;
  for (const { f } of inputs) { seqLo = Math.min(seqLo, f.smallestSeq); seqHi = Math.max(seqHi, f.largestSeq); }
  const outputs = [];
  let at = rng.int(100);
  for (let i = rng.int(4); i >= 0 && at < 1000; i--) {
    const end = at + rng.int(200);
    outputs.push({ level: level + 1, file: table(vs, at, end, seqLo, seqHi, rng) });
    at = end + 1 + rng.int(50);
  }
  return {
    deletedFiles: inputs.map(({ level: l, f }) => ({ level: l, fileNumber: f.fileNumber })),
    newFiles: outputs,
    compactPointers: [{ level, key: makeInternalKey(key(at % 1000), seqHi, ValueKind.Put) }],
  };
}
