import { describe, expect, it } from 'vitest';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { manifestFileName } from '../../src/manifest/file-names.js';
import { inspectManifest } from '../../src/manifest/manifest-inspect.js';
import { VersionSet } from '../../src/manifest/version-set.js';
import { meta } from './fixtures.js';

const OPTIONS = { numLevels: 3, maxManifestFileSize: 1 << 20 };

describe('inspectManifest', () => {
  it('lists every edit as text and JSON, and the final levels', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir('/db');
    const vs = await VersionSet.create(fs, '/db', OPTIONS);
    const a = meta(vs.newFileNumber(), 'apple', 'cherry', 1, 5, 4096);
    vs.lastSequence = 5;
    await vs.logAndApply({ logNumber: vs.newFileNumber(), newFiles: [{ level: 0, file: a }] });
    await vs.logAndApply({ deletedFiles: [{ level: 0, fileNumber: a.fileNumber }], newFiles: [{ level: 1, file: a }] });
    const info = await inspectManifest(fs, '/db');
    expect(info.manifest).toBe('MANIFEST-000001');
    expect(info.records).toBe(3);
    expect(info.edits.map((e) => e.text)).toEqual([
      ['format version 1', 'comparator strata.BytewiseComparator', 'log number 0', 'next file number 2', 'last sequence 0'],
      ['log number 3', 'next file number 4', 'last sequence 5',
        "add L0 000002 4096B ['apple'@5:put .. 'cherry'@1:put] seq 1..5 entries 10 (1 del) crc 3c6ef362"],
      ['log number 3', 'next file number 4', 'last sequence 5', 'delete L0 000002',
        "add L1 000002 4096B ['apple'@5:put .. 'cherry'@1:put] seq 1..5 entries 10 (1 del) crc 3c6ef362"],
    ]);
    expect(info.levels.map((l) => [l.level, l.files.map((f) => f.fileNumber), l.bytes])).toEqual([[0, [], 0], [1, [2], 4096]]);
    expect(info.edits[1]!.edit.newFiles![0]!.smallest).toBe("'apple'@5:put");
    expect(JSON.parse(JSON.stringify(info))).toEqual(info);
    expect(info.problem).toBeUndefined();
  });

  it('reports damage instead of throwing', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir('/db');
    const vs = await VersionSet.create(fs, '/db', OPTIONS);
    await vs.logAndApply({ logNumber: vs.newFileNumber() });
    await vs.logAndApply({ logNumber: vs.newFileNumber() });
    await vs.close();
    const path = manifestFileName('/db', 1);
    const data = await fs.readFile(path);
    data[data.length - 1]! ^= 0xff; // the last record is whole but its checksum fails: not a torn tail
    (await fs.openWritable(path)).append(data);
    const info = await inspectManifest(fs, '/db');
    expect(info.problem?.code).toBe('ERR_CORRUPTION');
    expect(info.records).toBe(2);
  });
});
