/**
 * VersionEdit: one change to the set of live files (files added and removed per level, plus the
 * log number, next file number, last sequence and compaction cursors), and its encoding as one
 * MANIFEST record: a sequence of tagged fields, LevelDB's VersionEdit with RocksDB's
 * "safe to ignore" tag bit for forward-compatible additions.
 * Format: src/manifest/FORMAT.md "VersionEdit" (tags, field layouts, versioning, worked example).
 * Contract: a VersionEdit is plain data (structured-cloneable). encodeVersionEdit() copies nothing
 * it does not own; decodeVersionEdit() treats its input as untrusted: every failure is a
 * CorruptionError naming the file and the record's offset (a newer format version is a
 * NotSupportedError), never a RangeError; decoded keys are copies, so the record buffer (often the
 * whole MANIFEST file) is not pinned by the Version built from it.
 * Not here: applying edits (version.ts VersionBuilder), record framing (src/record/).
 */
import { ByteReader, ByteWriter } from '../base/coding.js';
import { invariant } from '../base/invariant.js';
import { CorruptionError, NotSupportedError } from '../errors.js';
import { type FileMetadata, fileMetadataProblem } from './file-metadata.js';
import { copyBytes } from '../base/bytes.js';

/** The MANIFEST format this code writes and the newest it reads. FORMAT.md "Versioning". */
export const MANIFEST_FORMAT_VERSION = 1;

/** Levels a MANIFEST may name; the VersionSet further limits them to its numLevels. */
export const MAX_LEVELS = 64;

/** Field tags. FORMAT.md "Tags". 8 and 9 are LevelDB's retired/prev-log tags, left unused. */
export const Tag = {
  COMPARATOR: 1,
  LOG_NUMBER: 2,
  NEXT_FILE_NUMBER: 3,
  LAST_SEQUENCE: 4,
  COMPACT_POINTER: 5,
  DELETED_FILE: 6,
  NEW_FILE: 7,
  FORMAT_VERSION: 10,
} as const;

/**
 * A tag with this bit set is followed by a varint length and that many payload bytes; a reader
 * that does not know the tag skips it (RocksDB's kTagSafeIgnoreMask). Lets a later writer add
 * optional hints without a format-version bump.
 */
export const TAG_SAFE_TO_IGNORE = 1 << 13;

/**
 * The encryption key id of the table added by the NEW_FILE field just before it (FORMAT.md "Tags"):
 * safe-to-ignore, so a plain database's MANIFEST is byte for byte what it was.
 */
export const TAG_FILE_KEY_ID = TAG_SAFE_TO_IGNORE | 1;

/**
 * The unique id of the table added by the NEW_FILE field before it (FORMAT.md "Tags"), which the
 * table's own properties repeat: safe-to-ignore, so older builds still read the MANIFEST (they drop
 * the id when they rewrite it, and the table then opens on its size check alone).
 */
export const TAG_FILE_UNIQUE_ID = TAG_SAFE_TO_IGNORE | 2;

/**
 * The range-deletion entry count of the table added by the NEW_FILE field before it (FORMAT.md
 * "Tags"), written only when it is not zero: safe-to-ignore, so a MANIFEST without range deletes is
 * unchanged and older builds still read one with them (they drop the count when they rewrite it,
 * and the table then only looks tombstone-free to the picker and compactRange).
 */
export const TAG_FILE_RANGE_DELS = TAG_SAFE_TO_IGNORE | 3;

/**
 * The newest write time (ms since the epoch) of the table added by the NEW_FILE field before it
 * (FORMAT.md "Tags"): safe-to-ignore, so older builds still read the MANIFEST (they drop the time
 * when they rewrite it, and FIFO's TTL then leaves that table to the size cap).
 */
export const TAG_FILE_WRITE_TIME = TAG_SAFE_TO_IGNORE | 4;

export interface DeletedFile { readonly level: number; readonly fileNumber: number }
export interface NewFile { readonly level: number; readonly file: FileMetadata }
/** The internal key where the last compaction of `level` ended; the next one starts after it. */
export interface CompactPointer { readonly level: number; readonly key: Uint8Array }

export interface VersionEdit {
  /** Present in the first edit of every MANIFEST (the snapshot). */
  formatVersion?: number;
  comparatorName?: string;
  /** WALs numbered below this are fully reflected in tables and no longer needed. */
  logNumber?: number;
  nextFileNumber?: number;
  lastSequence?: number;
  compactPointers?: CompactPointer[];
  /** Applied before newFiles: a trivial move deletes (L, n) and adds (L+1, n) in one edit. */
  deletedFiles?: DeletedFile[];
  newFiles?: NewFile[];
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function checkLevel(level: number): void {
  invariant(Number.isInteger(level) && level >= 0 && level < MAX_LEVELS, `level ${level} out of range`);
}

function checkCount(name: string, v: number): void {
  invariant(Number.isSafeInteger(v) && v >= 0, `${name} ${v} is not a non-negative integer`);
}

/**
 * Encodes an edit as one record payload (a new array the caller owns). Fields are written in a
 * fixed order (FORMAT.md), so equal edits encode to equal bytes. Throws InternalError for values
 * the format cannot hold (a bug in the caller, not bad input).
 */
export function encodeVersionEdit(edit: VersionEdit, w: ByteWriter = new ByteWriter(256)): Uint8Array {
  w.reset();
  if (edit.formatVersion !== undefined) {
    checkCount('formatVersion', edit.formatVersion);
    w.varint(Tag.FORMAT_VERSION).varint(edit.formatVersion);
  }
  if (edit.comparatorName !== undefined) {
    w.varint(Tag.COMPARATOR).lengthPrefixed(utf8Encoder.encode(edit.comparatorName));
  }
  if (edit.logNumber !== undefined) {
    checkCount('logNumber', edit.logNumber);
    w.varint(Tag.LOG_NUMBER).varint(edit.logNumber);
  }
  if (edit.nextFileNumber !== undefined) {
    checkCount('nextFileNumber', edit.nextFileNumber);
    w.varint(Tag.NEXT_FILE_NUMBER).varint(edit.nextFileNumber);
  }
  if (edit.lastSequence !== undefined) {
    checkCount('lastSequence', edit.lastSequence);
    w.varint(Tag.LAST_SEQUENCE).varint(edit.lastSequence);
  }
  for (const p of edit.compactPointers ?? []) {
    checkLevel(p.level);
    w.varint(Tag.COMPACT_POINTER).varint(p.level).lengthPrefixed(p.key);
  }
  for (const d of edit.deletedFiles ?? []) {
    checkLevel(d.level);
    checkCount('fileNumber', d.fileNumber);
    w.varint(Tag.DELETED_FILE).varint(d.level).varint(d.fileNumber);
  }
  for (const { level, file: f } of edit.newFiles ?? []) {
    checkLevel(level);
    const problem = fileMetadataProblem(f);
    invariant(problem === undefined, `new file ${f.fileNumber}: ${problem}`);
    w.varint(Tag.NEW_FILE).varint(level).varint(f.fileNumber).varint(f.fileSize).fixed32(f.crc32c)
      .lengthPrefixed(f.smallest).lengthPrefixed(f.largest)
      .varint(f.smallestSeq).varint(f.largestSeq).varint(f.numEntries).varint(f.numDeletions);
    if (f.keyId !== undefined) {
      const id = utf8Encoder.encode(f.keyId);
      const payload = new ByteWriter(id.length + 16).varint(f.fileNumber).lengthPrefixed(id).toBytes();
      w.varint(TAG_FILE_KEY_ID).lengthPrefixed(payload);
    }
    if (f.uniqueId !== undefined) {
      const payload = new ByteWriter(f.uniqueId.length + 16).varint(f.fileNumber).lengthPrefixed(f.uniqueId).toBytes();
      w.varint(TAG_FILE_UNIQUE_ID).lengthPrefixed(payload);
    }
    if (f.numRangeDeletions !== undefined && f.numRangeDeletions > 0) {
      const payload = new ByteWriter(16).varint(f.fileNumber).varint(f.numRangeDeletions).toBytes();
      w.varint(TAG_FILE_RANGE_DELS).lengthPrefixed(payload);
    }
    if (f.newestWriteTimeMs !== undefined) {
      const payload = new ByteWriter(24).varint(f.fileNumber).varint(f.newestWriteTimeMs).toBytes();
      w.varint(TAG_FILE_WRITE_TIME).lengthPrefixed(payload);
    }
  }
  return w.toBytes();
}

/**
 * Decodes one edit. `fileName` and `recordOffset` name the MANIFEST record for error messages
 * (the detail adds the byte position inside the edit). Throws CorruptionError for malformed
 * bytes, NotSupportedError for a format version newer than MANIFEST_FORMAT_VERSION.
 */
export function decodeVersionEdit(data: Uint8Array, fileName = '<version edit>', recordOffset = 0): VersionEdit {
  const fail = (pos: number, detail: string): never => {
    throw new CorruptionError(fileName, recordOffset, `version edit byte ${pos}: ${detail}`);
  };
  const r = new ByteReader(data, 0, data.length, fail);
  const edit: VersionEdit = {};
  const level = (): number => {
    const at = r.offset;
    const v = r.varint();
    if (v >= MAX_LEVELS) fail(at, `level ${v} is not below ${MAX_LEVELS}`);
    return v;
  };
  const key = (what: string): Uint8Array => {
    const at = r.offset;
    const k = r.lengthPrefixed();
    if (k.length < 8) fail(at, `${what} key of ${k.length} bytes is shorter than an internal-key trailer`);
    return copyBytes(k);
  };
  const once = (at: number, present: boolean, name: string): void => {
    if (present) fail(at, `${name} appears twice`);
  };
  while (!r.atEnd()) {
    const at = r.offset;
    const tag = r.varint();
    switch (tag) {
      case Tag.FORMAT_VERSION: {
        once(at, edit.formatVersion !== undefined, 'format version');
        const v = r.varint();
        if (v === 0) fail(at, 'format version 0');
        if (v > MANIFEST_FORMAT_VERSION) {
          throw new NotSupportedError(
            `${fileName}: MANIFEST format version ${v} is newer than this build reads (${MANIFEST_FORMAT_VERSION})`);
        }
        edit.formatVersion = v;
        break;
      }
      case Tag.COMPARATOR: {
        once(at, edit.comparatorName !== undefined, 'comparator name');
        const bytes = r.lengthPrefixed();
        try {
          edit.comparatorName = utf8Decoder.decode(bytes);
        } catch {
          fail(at, 'comparator name is not valid UTF-8');
        }
        break;
      }
      case Tag.LOG_NUMBER:
        once(at, edit.logNumber !== undefined, 'log number');
        edit.logNumber = r.varint();
        break;
      case Tag.NEXT_FILE_NUMBER:
        once(at, edit.nextFileNumber !== undefined, 'next file number');
        edit.nextFileNumber = r.varint();
        break;
      case Tag.LAST_SEQUENCE:
        once(at, edit.lastSequence !== undefined, 'last sequence');
        edit.lastSequence = r.varint();
        break;
      case Tag.COMPACT_POINTER: {
        const lv = level();
        (edit.compactPointers ??= []).push({ level: lv, key: key('compact pointer') });
        break;
      }
      case Tag.DELETED_FILE: {
        const lv = level();
        (edit.deletedFiles ??= []).push({ level: lv, fileNumber: r.varint() });
        break;
      }
      case Tag.NEW_FILE: {
        const lv = level();
        const file: FileMetadata = {
          fileNumber: r.varint(),
          fileSize: r.varint(),
          crc32c: r.fixed32(),
          smallest: key('smallest'),
          largest: key('largest'),
          smallestSeq: r.varint(),
          largestSeq: r.varint(),
          numEntries: r.varint(),
          numDeletions: r.varint(),
        };
        const problem = fileMetadataProblem(file);
        if (problem !== undefined) fail(at, `new file ${file.fileNumber}: ${problem}`);
        (edit.newFiles ??= []).push({ level: lv, file: Object.freeze(file) });
        break;
      }
      case TAG_FILE_KEY_ID: {
        const len = r.varint();
        const end = r.offset + len;
        if (end > r.limit) fail(at, 'file key id field runs past the record');
        const pr = new ByteReader(data, r.offset, end, fail);
        const number = pr.varint();
        let id = '';
        try {
          id = utf8Decoder.decode(pr.lengthPrefixed());
        } catch (e) {
          if (e instanceof CorruptionError) throw e;
          fail(at, 'file key id is not utf-8');
        }
        r.offset = end;
        const files = edit.newFiles;
        const last = files?.[files.length - 1];
        if (!files || !last || last.file.fileNumber !== number || last.file.keyId !== undefined || id.length === 0) {
          fail(at, `file key id field for ${number} does not follow that file's NEW_FILE field`);
        }
        files![files!.length - 1] = { level: last!.level, file: Object.freeze({ ...last!.file, keyId: id }) };
        break;
      }
      case TAG_FILE_UNIQUE_ID: {
        const len = r.varint();
        const end = r.offset + len;
        if (end > r.limit) fail(at, 'file unique id field runs past the record');
        const pr = new ByteReader(data, r.offset, end, fail);
        const number = pr.varint();
        const id = new Uint8Array(pr.lengthPrefixed()); // a copy, and a plain Uint8Array even when data is a Buffer
        r.offset = end;
        const files = edit.newFiles;
        const last = files?.[files.length - 1];
        if (!files || !last || last.file.fileNumber !== number || last.file.uniqueId !== undefined) {
          fail(at, `file unique id field for ${number} does not follow that file's NEW_FILE field`);
        }
        const file = { ...last!.file, uniqueId: id };
        const problem = fileMetadataProblem(file);
        if (problem !== undefined) fail(at, `new file ${number}: ${problem}`);
        files![files!.length - 1] = { level: last!.level, file: Object.freeze(file) };
        break;
      }
      case TAG_FILE_RANGE_DELS: {
        const len = r.varint();
        const end = r.offset + len;
        if (end > r.limit) fail(at, 'file range deletions field runs past the record');
        const pr = new ByteReader(data, r.offset, end, fail);
        const number = pr.varint();
        const count = pr.varint();
        r.offset = end;
        const files = edit.newFiles;
        const last = files?.[files.length - 1];
        if (!files || !last || last.file.fileNumber !== number || last.file.numRangeDeletions !== undefined) {
          fail(at, `file range deletions field for ${number} does not follow that file's NEW_FILE field`);
        }
        files![files!.length - 1] = { level: last!.level, file: Object.freeze({ ...last!.file, numRangeDeletions: count }) };
        break;
      }
      case TAG_FILE_WRITE_TIME: {
        const len = r.varint();
        const end = r.offset + len;
        if (end > r.limit) fail(at, 'file write time field runs past the record');
        const pr = new ByteReader(data, r.offset, end, fail);
        const number = pr.varint();
        const time = pr.varint();
        r.offset = end;
        const files = edit.newFiles;
        const last = files?.[files.length - 1];
        if (!files || !last || last.file.fileNumber !== number || last.file.newestWriteTimeMs !== undefined) {
          fail(at, `file write time field for ${number} does not follow that file's NEW_FILE field`);
        }
        files![files!.length - 1] = { level: last!.level, file: Object.freeze({ ...last!.file, newestWriteTimeMs: time }) };
        break;
      }
      default:
        // NB: bitwise operators truncate to 32 bits, so bound the tag before testing the bit.
        if (tag < 2 * TAG_SAFE_TO_IGNORE && (tag & TAG_SAFE_TO_IGNORE) !== 0) {
          r.lengthPrefixed();
          break;
        }
        fail(at, `unknown tag ${tag}`);
    }
  }
  return edit;
}
