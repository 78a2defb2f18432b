/**
 * Replays one MANIFEST file's bytes into the state it describes: the levels, the log number, next
 * file number, last sequence, compaction cursors and comparator name. Pure (no I/O), so recovery
 * (version-set.ts) and the inspection tool (manifest-inspect.ts) share one reading of the format.
 * Format: src/manifest/FORMAT.md "Reading a MANIFEST" (the torn-tail rule and its justification).
 * Contract: the bytes are untrusted. Every problem is a CorruptionError naming the MANIFEST and the
 * record's offset (NotSupportedError for a newer format version), except an interrupted final
 * append, which is tolerated and reported in `tornTail`; with `mode: 'report'` the first problem
 * is returned in `problem` instead of thrown, with the state replayed up to it.
 */
import { getFixed32 } from '../base/coding.js';
import { CorruptionError, NotSupportedError } from '../errors.js';
import { BLOCK_SIZE, HEADER_SIZE, RecordType, recordChecksum } from '../record/format.js';
import { RecordReader } from '../record/record-reader.js';
import type { FileCipher } from '../encryption/file-cipher.js';
import { decodeVersionEdit, MAX_LEVELS, type VersionEdit } from './version-edit.js';
import { VersionBuilder } from './version-builder.js';
import { type Levels, Version } from './version.js';

export interface ManifestReplay {
  /** MAX_LEVELS levels; the caller trims them to its numLevels. */
  levels: Levels;
  formatVersion: number | undefined;
  comparatorName: string | undefined;
  logNumber: number | undefined;
  nextFileNumber: number | undefined;
  lastSequence: number | undefined;
  /** level -> the last compact pointer recorded for it. */
  compactPointers: Map<number, Uint8Array>;
  /** Records applied. */
  records: number;
  /** Bytes of the file holding those records (where a torn tail starts). */
  validBytes: number;
  /** Set when an interrupted final append was ignored. */
  tornTail?: { offset: number; detail: string };
  /** With mode 'report': the first problem; state is as of the records before it. */
  problem?: { offset: number; detail: string; error: Error };
  /** With collectEdits: every decoded edit with its record offset. */
  edits?: { offset: number; edit: VersionEdit }[];
}

export interface ReplayOptions {
  mode?: 'throw' | 'report';
  collectEdits?: boolean;
  /** The MANIFEST is encrypted (record-cipher.ts recordCipherFor finds this cipher). */
  cipher?: FileCipher;
}

function allZero(data: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (data[i] !== 0) return false;
  return true;
}

/**
 * True when the damage at `offset` (the start of the logical record the reader could not read) is
 * what an interrupted append leaves: the file ends inside the record (in a header, a payload or a
 * block trailer, after zero or more intact fragments), or a zero-filled run starts at a record
 * header and reaches the end of the file (size extended, pages never written). A complete fragment
 * with a wrong checksum is NOT a torn append: bit rot in a synced, acknowledged edit must fail the
 * open rather than silently roll the database back (LevelDB's log reader draws the same line).
 */
export function isInterruptedAppend(data: Uint8Array, offset: number): boolean {
  const end = data.length;
  let pos = offset;
  for (;;) {
    if (pos >= end) return true;
    const leftover = BLOCK_SIZE - (pos % BLOCK_SIZE);
    if (leftover < HEADER_SIZE) {
      if (!allZero(data, pos, Math.min(end, pos + leftover))) return false;
      pos += leftover;
      continue;
    }
    if (end - pos < HEADER_SIZE) return true;
    const length = data[pos + 4]! | (data[pos + 5]! << 8);
    const type = data[pos + 6]!;
    const stored = getFixed32(data, pos);
    if (stored === 0 && length === 0 && type === RecordType.Zero) return allZero(data, pos, end);
    if (type === RecordType.Zero || type > RecordType.Last || HEADER_SIZE + length > leftover) return false; // a MANIFEST is never recyclable
    const payloadEnd = pos + HEADER_SIZE + length;
    if (payloadEnd > end) return true;
    if (recordChecksum(type, data, pos + HEADER_SIZE, payloadEnd) !== stored) return false;
    pos = payloadEnd;
  }
}

/** Replays `data`, the contents of the MANIFEST at `fileName`. See the header for the error contract. */
export function replayManifest(data: Uint8Array, fileName: string, options: ReplayOptions = {}): ManifestReplay {
  const out: ManifestReplay = {
    levels: [],
    formatVersion: undefined,
    comparatorName: undefined,
    logNumber: undefined,
    nextFileNumber: undefined,
    lastSequence: undefined,
    compactPointers: new Map(),
    records: 0,
    validBytes: 0,
  };
  if (options.collectEdits) out.edits = [];
  const builder = new VersionBuilder(Version.empty(MAX_LEVELS));
  const reader = new RecordReader(data, fileName, options.cipher);
  let lastOffset = 0;
  try {
    for (;;) {
      const r = reader.readReporting();
      if (r.kind === 'eof') break;
      if (r.kind === 'corrupt') {
        if (r.atTail && isInterruptedAppend(data, r.offset)) {
          out.tornTail = { offset: r.offset, detail: r.detail };
          break;
        }
        throw new CorruptionError(fileName, r.offset, r.detail);
      }
      const offset = r.offset;
      const fail = (detail: string): never => { throw new CorruptionError(fileName, offset, detail); };
      const edit = decodeVersionEdit(r.data, fileName, offset);
      if (out.records === 0 && edit.formatVersion === undefined) {
        fail('the first record carries no format version: not a StrataDB MANIFEST');
      }
      if (edit.formatVersion !== undefined && out.formatVersion !== undefined && edit.formatVersion !== out.formatVersion) {
        fail(`format version changes from ${out.formatVersion} to ${edit.formatVersion}`);
      }
      if (edit.comparatorName !== undefined && out.comparatorName !== undefined && edit.comparatorName !== out.comparatorName) {
        fail(`comparator changes from '${out.comparatorName}' to '${edit.comparatorName}'`);
      }
      builder.apply(edit, fail);
      out.formatVersion ??= edit.formatVersion;
      out.comparatorName ??= edit.comparatorName;
      if (edit.logNumber !== undefined) out.logNumber = edit.logNumber;
      if (edit.nextFileNumber !== undefined) out.nextFileNumber = edit.nextFileNumber;
      if (edit.lastSequence !== undefined) out.lastSequence = edit.lastSequence;
      for (const p of edit.compactPointers ?? []) out.compactPointers.set(p.level, p.key);
      out.edits?.push({ offset, edit });
      out.records++;
      out.validBytes = reader.position;
      lastOffset = offset;
    }
    out.levels = builder.finishLevels((detail) => { throw new CorruptionError(fileName, lastOffset, detail); });
    if (out.records === 0) throw new CorruptionError(fileName, 0, 'the MANIFEST holds no complete record');
    const missing = (['logNumber', 'nextFileNumber', 'lastSequence', 'comparatorName'] as const)
      .filter((k) => out[k] === undefined);
    if (missing.length) throw new CorruptionError(fileName, 0, `no record sets ${missing.join(', ')}`);
  } catch (e) {
    if (options.mode !== 'report' || !(e instanceof CorruptionError || e instanceof NotSupportedError)) throw e;
    const offset = e instanceof CorruptionError ? e.offset : 0;
    out.problem = { offset, detail: e.message, error: e };
    // For tools: the levels as far as replay got (they may include part of a bad edit), if consistent.
    try { out.levels = builder.finishLevels(); } catch { out.levels = []; }
  }
  return out;
}
