/**
 * Writes a complete database skeleton's MANIFEST: one snapshot VersionEdit listing every file, then
 * CURRENT pointing at it (write-temp, fsync, rename, fsync-directory). Used by checkpoints and
 * restores, which produce a database from scratch rather than through a VersionSet.
 * With `keys` (an encrypted database or backup) the MANIFEST is sealed under the current key id
 * (src/record/FORMAT.md §8), as the VersionSet seals its own.
 */
import type { FileSystem } from '../fs/file-system.js';
import type { FileMetadata } from '../manifest/file-metadata.js';
import { RecordWriter } from '../record/record-writer.js';
import { encodeVersionEdit, MANIFEST_FORMAT_VERSION, type NewFile } from '../manifest/version-edit.js';
import { manifestFileName } from '../manifest/file-names.js';
import { setCurrentFile } from '../manifest/current-file.js';
import { bytewiseComparator } from '../base/comparator.js';
import { FileKind } from '../base/file-cipher.js';
import type { KeyRing } from '../base/keyring.js';

export interface ManifestSnapshot {
  manifestNumber: number;
  files: { level: number; file: FileMetadata }[];
  nextFileNumber: number;
  logNumber: number;
  lastSequence: number;
}

export async function writeManifestSnapshot(fs: FileSystem, dir: string, s: ManifestSnapshot, keys?: KeyRing): Promise<void> {
  const newFiles: NewFile[] = s.files.map(({ level, file }) => ({ level, file }));
  const record = encodeVersionEdit({
    formatVersion: MANIFEST_FORMAT_VERSION,
    comparatorName: bytewiseComparator.name,
    logNumber: s.logNumber,
    nextFileNumber: s.nextFileNumber,
    lastSequence: s.lastSequence,
    newFiles,
  });
  // The cipher first: a missing current key must not leave an empty MANIFEST behind.
  const cipher = await keys?.newFileCipher(FileKind.MANIFEST);
  const file = await fs.openWritable(manifestFileName(dir, s.manifestNumber), { exclusive: true });
  const writer = new RecordWriter(file, cipher);
  try {
    writer.addRecord(record);
    await writer.sync();
  } finally {
    await writer.close();
  }
  await fs.syncDir(dir);
  await setCurrentFile(fs, dir, s.manifestNumber);
}
