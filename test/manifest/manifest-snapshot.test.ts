/**
 * The snapshot MANIFEST writer shared by the VersionSet and checkpoints/restores: its file is the
 * worked example of src/manifest/FORMAT.md byte for byte, CURRENT names it, it carries what it is
 * given (cursors, comparator), and a missing key leaves no file behind.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { KeyRing } from '../../src/encryption/keyring.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { readCurrentFile } from '../../src/manifest/current-file.js';
import { makeFileMetadata } from '../../src/manifest/file-metadata.js';
import { openManifestSnapshot, writeManifestSnapshot } from '../../src/manifest/manifest-snapshot.js';
import { decodeVersionEdit } from '../../src/manifest/version-edit.js';
import { RecordReader } from '../../src/record/record-reader.js';

const enc = new TextEncoder();

/** The state of FORMAT.md "Worked example": one L0 table 000005. */
const file5 = makeFileMetadata({
  fileNumber: 5, fileSize: 1234, crc32c: 0xdeadbeef,
  smallest: makeInternalKey(enc.encode('a'), 41, ValueKind.Put),
  largest: makeInternalKey(enc.encode('c'), 42, ValueKind.Delete),
  smallestSeq: 1, largestSeq: 42, numEntries: 42, numDeletions: 1,
});

/** The bytes under "# MANIFEST file" in the golden of test/manifest/version-edit.test.ts. */
function goldenManifestFile(): Buffer {
  const text = readFileSync(fileURLToPath(new URL('../testdata/manifest/worked-example.hex', import.meta.url)), 'utf8');
  const section = text.slice(text.indexOf('# MANIFEST file'));
  return Buffer.from(section.split('\n').slice(1).join(' ').replace(/\s+/g, ''), 'hex');
}

async function memDir(): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  await fs.mkdir('/db', { recursive: true });
  return fs;
}

describe('writeManifestSnapshot', () => {
  it('writes the worked example of FORMAT.md byte for byte and points CURRENT at it', async () => {
    const fs = await memDir();
    await writeManifestSnapshot(fs, '/db', { manifestNumber: 4, files: [{ level: 0, file: file5 }], nextFileNumber: 6, logNumber: 3, lastSequence: 42 });
    expect(Buffer.from(await fs.readFile('/db/MANIFEST-000004')).equals(goldenManifestFile())).toBe(true);
    expect(await readCurrentFile(fs, '/db')).toBe(4);
    // Durable: a power cut right after keeps the MANIFEST, its directory entry and CURRENT.
    const after = fs.crashClone();
    expect(await readCurrentFile(after, '/db')).toBe(4);
    expect(Buffer.from(await after.readFile('/db/MANIFEST-000004')).equals(goldenManifestFile())).toBe(true);
  });

  it('carries compaction cursors and the comparator name, and stays open for edits when asked', async () => {
    const fs = await memDir();
    const cursor = makeInternalKey(enc.encode('m'), 7, ValueKind.Put);
    const { writer, keyId } = await openManifestSnapshot(fs, '/db', {
      manifestNumber: 9, files: [{ level: 2, file: file5 }], nextFileNumber: 10, logNumber: 8, lastSequence: 50,
      compactPointers: [{ level: 2, key: cursor }], comparatorName: 'test.Reverse',
    });
    expect(keyId).toBeUndefined();
    writer.addRecord(Uint8Array.of()); // an empty edit appended after the snapshot
    await writer.sync();
    await writer.close();
    const reader = new RecordReader(await fs.readFile('/db/MANIFEST-000009'), 'MANIFEST-000009');
    const snapshot = decodeVersionEdit(reader.read()!);
    expect(snapshot).toMatchObject({ formatVersion: 1, comparatorName: 'test.Reverse', logNumber: 8, nextFileNumber: 10, lastSequence: 50 });
    expect(snapshot.compactPointers).toEqual([{ level: 2, key: cursor }]);
    expect(snapshot.newFiles?.map((f) => [f.level, f.file.fileNumber])).toEqual([[2, 5]]);
    expect(decodeVersionEdit(reader.read()!)).toEqual({});
  });

  it('refuses an existing MANIFEST number and leaves CURRENT alone', async () => {
    const fs = await memDir();
    await writeManifestSnapshot(fs, '/db', { manifestNumber: 4, files: [], nextFileNumber: 5, logNumber: 5, lastSequence: 0 });
    await expect(writeManifestSnapshot(fs, '/db', { manifestNumber: 4, files: [], nextFileNumber: 6, logNumber: 6, lastSequence: 0 }))
      .rejects.toMatchObject({ code: 'ERR_IO' });
    expect(await readCurrentFile(fs, '/db')).toBe(4);
  });

  it('leaves no MANIFEST behind when the current key cannot be had', async () => {
    const fs = await memDir();
    const keys = new KeyRing({ currentKeyId: () => 'k1', getKey: () => { throw new Error('no such key'); } });
    await expect(writeManifestSnapshot(fs, '/db', { manifestNumber: 4, files: [], nextFileNumber: 5, logNumber: 5, lastSequence: 0 }, keys)).rejects.toThrow();
    expect(await fs.list('/db')).toEqual([]);
  });
});
