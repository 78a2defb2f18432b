import { describe, expect, it } from 'vitest';
import { CorruptionError } from '../../src/errors.js';
import { FaultFileSystem, failKind } from '../../src/fs/fault-fs.js';
import { isNotFound } from '../../src/fs/file-system.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { readCurrentFile, setCurrentFile } from '../../src/manifest/current-file.js';

const enc = new TextEncoder();

async function fsWithDir(): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  await fs.mkdir('/db');
  return fs;
}

describe('CURRENT', () => {
  it('switches durably through a synced temp file and a directory sync', async () => {
    const fs = await fsWithDir();
    await setCurrentFile(fs, '/db', 5);
    expect(await fs.list('/db')).toEqual(['CURRENT']);
    expect(await readCurrentFile(fs.crashClone(), '/db')).toBe(5);
    await setCurrentFile(fs, '/db', 12);
    expect(await readCurrentFile(fs.crashClone(), '/db')).toBe(12);
  });

  it('leaves the old CURRENT in place when the rename fails, and removes the temp file', async () => {
    const fs = await fsWithDir();
    await setCurrentFile(fs, '/db', 5);
    const faulty = new FaultFileSystem(fs, { injector: failKind('rename') });
    await expect(setCurrentFile(faulty, '/db', 6)).rejects.toThrow(/injected/);
    expect(await readCurrentFile(fs, '/db')).toBe(5);
    expect(await fs.list('/db')).toEqual(['CURRENT']);
  });

  it('a missing CURRENT is not-found; malformed content is corruption naming CURRENT', async () => {
    const fs = await fsWithDir();
    const missing = await readCurrentFile(fs, '/db').catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    for (const bad of ['', '\n', 'MANIFEST-000005', 'MANIFEST-000005\n\n', 'MANIFEST-5 \n', 'CURRENT\n', 'MANIFEST-000005\r\n', 'M'.repeat(70) + '\n']) {
      (await fs.openWritable('/db/CURRENT')).append(enc.encode(bad));
      const e = await readCurrentFile(fs, '/db').catch((x: unknown) => x);
      expect(e, JSON.stringify(bad)).toBeInstanceOf(CorruptionError);
      expect((e as CorruptionError).file).toBe('/db/CURRENT');
    }
    (await fs.openWritable('/db/CURRENT')).append(enc.encode('MANIFEST-7\n'));
    expect(await readCurrentFile(fs, '/db')).toBe(7);
  });
});
