/**
 * The snapshot MANIFEST: a new MANIFEST-<n> holding one edit that lists the whole state (format
 * version, comparator, counters, compaction cursors, every file at its level), synced with its
 * directory entry, then CURRENT switched to it (src/manifest/FORMAT.md section 8). The one writer of
 * it: the VersionSet at every open and roll-over (it keeps appending to the returned writer), and
 * checkpoints and restores, which build a database from scratch (they close it).
 * Contract: `manifestNumber` is a fresh number (the file is created exclusively: an existing one means
 * a bug or a stranger's file). With `keys` the MANIFEST is sealed under the current key id
 * (src/record/FORMAT.md section 8); the cipher comes first, so a missing current key leaves no empty
 * MANIFEST behind. On failure the file is closed and may remain, never named by CURRENT (obsolete).
 * Main thread only. Not here: the edit encoding (version-edit.ts), CURRENT's own dance (current-file.ts).
 */
import type { ByteWriter } from '../base/coding.js';
import { bytewiseComparator } from '../base/comparator.js';
import { FileKind } from '../encryption/file-cipher.js';
import type { KeyRing } from '../encryption/keyring.js';
import type { FileSystem } from '../fs/file-system.js';
import { RecordWriter } from '../record/record-writer.js';
import { setCurrentFile } from './current-file.js';
import { manifestFileName } from './file-names.js';
import { encodeVersionEdit, MANIFEST_FORMAT_VERSION, type CompactPointer, type NewFile } from './version-edit.js';

export interface ManifestSnapshot {
  manifestNumber: number;
  files: readonly NewFile[];
  nextFileNumber: number;
  logNumber: number;
  lastSequence: number;
  /** The compaction cursors to carry over (a checkpoint or restore starts without). */
  compactPointers?: readonly CompactPointer[];
  /** Default: the bytewise comparator's name. */
  comparatorName?: string;
}

export interface ManifestSnapshotOptions {
  keys?: KeyRing;
  /** A reusable encode buffer (the VersionSet's). */
  encodeBuf?: ByteWriter;
}

/**
 * Writes the snapshot MANIFEST and points CURRENT at it; returns its writer, open for the edits that
 * follow, and the key id it is sealed under. The caller closes the writer.
 */
export async function openManifestSnapshot(fs: FileSystem, dir: string, s: ManifestSnapshot,
  options: ManifestSnapshotOptions = {}): Promise<{ writer: RecordWriter; keyId: string | undefined }> {
  const record = encodeVersionEdit({
    formatVersion: MANIFEST_FORMAT_VERSION,
    comparatorName: s.comparatorName ?? bytewiseComparator.name,
    logNumber: s.logNumber,
    nextFileNumber: s.nextFileNumber,
    lastSequence: s.lastSequence,
    compactPointers: s.compactPointers ? [...s.compactPointers] : undefined,
    newFiles: [...s.files],
  }, options.encodeBuf);
  const cipher = await options.keys?.newFileCipher(FileKind.MANIFEST);
  const file = await fs.openWritable(manifestFileName(dir, s.manifestNumber), { exclusive: true });
  let writer: RecordWriter;
  try {
    writer = new RecordWriter(file, cipher);
  } catch (e) {
    await file.close().catch(() => undefined);
    throw e;
  }
  try {
    writer.addRecord(record);
    await writer.sync();
    await fs.syncDir(dir);
    await setCurrentFile(fs, dir, s.manifestNumber);
  } catch (e) {
    await writer.close().catch(() => undefined);
    throw e;
  }
  return { writer, keyId: cipher?.keyId };
}

/** Writes the snapshot MANIFEST, points CURRENT at it and closes it: a database skeleton's last step. */
export async function writeManifestSnapshot(fs: FileSystem, dir: string, s: ManifestSnapshot, keys?: KeyRing): Promise<void> {
  const { writer } = await openManifestSnapshot(fs, dir, s, { keys });
  await writer.close();
}
