/**
 * Read-only inspection of a database's MANIFEST for tools (`stratadb manifest DIR`, `check`):
 * every edit decoded into readable text and JSON-friendly data, the final levels, and the first
 * problem found (reported, not thrown, so a damaged MANIFEST can still be examined).
 * Format: src/manifest/FORMAT.md. Shares replayManifest() with recovery, so the tool reads
 * exactly what an open would.
 * Contract: writes nothing, takes no lock (safe beside a live process: it reads CURRENT and the
 * MANIFEST it names once; a concurrent roll-over may make that MANIFEST obsolete, which then shows
 * as a missing file). Output holds no Uint8Array: keys are printed (`'key'@seq:kind`) and hex.
 */
import { Buffer } from 'node:buffer';
import { CorruptionError } from '../errors.js';
import { type FileSystem, isNotFound } from '../fs/file-system.js';
import { readCurrentFile } from './current-file.js';
import { describeFile, describeInternalKey, type FileMetadata } from './file-metadata.js';
import { manifestBaseName, manifestFileName } from './file-names.js';
import { replayManifest } from './manifest-replay.js';
import type { VersionEdit } from './version-edit.js';
import { FileKind, type KeyResolver } from '../encryption/file-cipher.js';
import { recordCipherFor } from '../record/record-cipher.js';

export interface FileJson {
  level: number;
  fileNumber: number;
  fileSize: number;
  crc32c: string;
  smallest: string;
  largest: string;
  smallestHex: string;
  largestHex: string;
  smallestSeq: number;
  largestSeq: number;
  numEntries: number;
  numDeletions: number;
  /** Range-deletion entries in the table (absent: none recorded). */
  numRangeDeletions?: number;
  /** The encryption key id of an encrypted table (absent for a plain one). */
  keyId?: string;
  /** The table's unique id in hex (absent for tables written before ids). */
  uniqueId?: string;
  /** The newest write time, ms since the epoch (FIFO's TTL reads it; absent when not recorded). */
  newestWriteTimeMs?: number;
}

export interface VersionEditJson {
  formatVersion?: number;
  comparatorName?: string;
  logNumber?: number;
  nextFileNumber?: number;
  lastSequence?: number;
  compactPointers?: { level: number; key: string; keyHex: string }[];
  deletedFiles?: { level: number; fileNumber: number }[];
  newFiles?: FileJson[];
}

export interface ManifestInspection {
  /** The MANIFEST inspected (a bare name such as MANIFEST-000005). */
  manifest: string;
  bytes: number;
  records: number;
  formatVersion?: number;
  comparatorName?: string;
  logNumber?: number;
  nextFileNumber?: number;
  lastSequence?: number;
  edits: { offset: number; text: string[]; edit: VersionEditJson }[];
  /** Every level up to the deepest non-empty one. */
  levels: { level: number; files: FileJson[]; bytes: number }[];
  tornTail?: { offset: number; detail: string };
  problem?: { offset: number; detail: string; code: string };
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function fileToJson(level: number, f: FileMetadata): FileJson {
  return {
    level, fileNumber: f.fileNumber, fileSize: f.fileSize, crc32c: f.crc32c.toString(16).padStart(8, '0'),
    smallest: describeInternalKey(f.smallest), largest: describeInternalKey(f.largest),
    smallestHex: hex(f.smallest), largestHex: hex(f.largest),
    smallestSeq: f.smallestSeq, largestSeq: f.largestSeq, numEntries: f.numEntries, numDeletions: f.numDeletions,
    ...(f.numRangeDeletions !== undefined ? { numRangeDeletions: f.numRangeDeletions } : {}),
    ...(f.keyId !== undefined ? { keyId: f.keyId } : {}),
    ...(f.uniqueId !== undefined ? { uniqueId: hex(f.uniqueId) } : {}),
    ...(f.newestWriteTimeMs !== undefined ? { newestWriteTimeMs: f.newestWriteTimeMs } : {}),
  };
}

export function versionEditToJson(edit: VersionEdit): VersionEditJson {
  const out: VersionEditJson = {};
  if (edit.formatVersion !== undefined) out.formatVersion = edit.formatVersion;
  if (edit.comparatorName !== undefined) out.comparatorName = edit.comparatorName;
  if (edit.logNumber !== undefined) out.logNumber = edit.logNumber;
  if (edit.nextFileNumber !== undefined) out.nextFileNumber = edit.nextFileNumber;
  if (edit.lastSequence !== undefined) out.lastSequence = edit.lastSequence;
  if (edit.compactPointers?.length) {
    out.compactPointers = edit.compactPointers.map((p) => ({ level: p.level, key: describeInternalKey(p.key), keyHex: hex(p.key) }));
  }
  if (edit.deletedFiles?.length) out.deletedFiles = edit.deletedFiles.map((d) => ({ level: d.level, fileNumber: d.fileNumber }));
  if (edit.newFiles?.length) out.newFiles = edit.newFiles.map((n) => fileToJson(n.level, n.file));
  return out;
}

/** One line per field, in encoding order: `log 7`, `add L0 000012 ...`, `delete L1 000009`. */
export function describeVersionEdit(edit: VersionEdit): string[] {
  const lines: string[] = [];
  if (edit.formatVersion !== undefined) lines.push(`format version ${edit.formatVersion}`);
  if (edit.comparatorName !== undefined) lines.push(`comparator ${edit.comparatorName}`);
  if (edit.logNumber !== undefined) lines.push(`log number ${edit.logNumber}`);
  if (edit.nextFileNumber !== undefined) lines.push(`next file number ${edit.nextFileNumber}`);
  if (edit.lastSequence !== undefined) lines.push(`last sequence ${edit.lastSequence}`);
  for (const p of edit.compactPointers ?? []) lines.push(`compact pointer L${p.level} ${describeInternalKey(p.key)}`);
  for (const d of edit.deletedFiles ?? []) lines.push(`delete L${d.level} ${String(d.fileNumber).padStart(6, '0')}`);
  for (const n of edit.newFiles ?? []) lines.push(`add L${n.level} ${describeFile(n.file)}`);
  return lines;
}

/**
 * Inspects the MANIFEST that CURRENT names in `dir`, or `options.manifestNumber`. Rejects only
 * when there is nothing to read (no CURRENT, a malformed CURRENT, a missing MANIFEST, an fs
 * error); damage inside the MANIFEST is reported in `problem`.
 */
export async function inspectManifest(fs: FileSystem, dir: string, options: { manifestNumber?: number; keys?: KeyResolver } = {}): Promise<ManifestInspection> {
  const number = options.manifestNumber ?? await readCurrentFile(fs, dir);
  const path = manifestFileName(dir, number);
  let data: Uint8Array;
  try {
    data = await fs.readFile(path);
  } catch (e) {
    if (!isNotFound(e) || options.manifestNumber !== undefined) throw e;
    throw new CorruptionError(path, 0, `CURRENT names ${manifestBaseName(number)}, which does not exist`, { cause: e });
  }
  // An encrypted MANIFEST without keys is refused here, naming its key id (ERR_INVALID_ARGUMENT).
  const cipher = await recordCipherFor(data, path, FileKind.MANIFEST, options.keys);
  const r = replayManifest(data, path, { mode: 'report', collectEdits: true, ...(cipher ? { cipher } : {}) });
  let deepest = -1;
  r.levels.forEach((files, level) => { if (files.length) deepest = level; });
  const out: ManifestInspection = {
    manifest: manifestBaseName(number),
    bytes: data.length,
    records: r.records,
    edits: (r.edits ?? []).map(({ offset, edit }) => ({ offset, text: describeVersionEdit(edit), edit: versionEditToJson(edit) })),
    levels: r.levels.slice(0, deepest + 1).map((files, level) => ({
      level, files: files.map((f) => fileToJson(level, f)), bytes: files.reduce((s, f) => s + f.fileSize, 0),
    })),
  };
  if (r.formatVersion !== undefined) out.formatVersion = r.formatVersion;
  if (r.comparatorName !== undefined) out.comparatorName = r.comparatorName;
  if (r.logNumber !== undefined) out.logNumber = r.logNumber;
  if (r.nextFileNumber !== undefined) out.nextFileNumber = r.nextFileNumber;
  if (r.lastSequence !== undefined) out.lastSequence = r.lastSequence;
  if (r.tornTail) out.tornTail = r.tornTail;
  if (r.problem) {
    const code = (r.problem.error as { code?: string }).code ?? 'ERR_CORRUPTION';
    out.problem = { offset: r.problem.offset, detail: r.problem.detail, code };
  }
  return out;
}
