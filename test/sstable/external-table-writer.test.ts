/**
 * external-table-writer.ts: writes the table FORMAT.md "External tables" describes (bytewise
 * comparator, no sequence properties, entries readable back in order), refuses keys out of order
 * (the writer stays usable), an existing path and unknown options; abandon() and a failed run
 * leave no file. Each test has its own MemFileSystem.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { MemFileSystem } from '../../src/index.js';
import { ExternalTableWriter, TableReader, writeExternalTable } from '../../sstable/index.js';
import { bytewiseComparator } from '../../src/base/comparator.js';

async function readBack(fs: MemFileSystem, path: string): Promise<{ entries: [string, string][]; reader: TableReader }> {
  const reader = await TableReader.open(await fs.openReadable(path), { fileName: path, comparator: bytewiseComparator });
  const it = reader.newIterator();
  const entries: [string, string][] = [];
  const s = it.seekToFirst();
  if (s) await s;
  while (it.valid()) {
    entries.push([Buffer.from(it.key()).toString(), Buffer.from(it.value()).toString()]);
    const n = it.next();
    if (n) await n;
  }
  return { entries, reader };
}

describe('ExternalTableWriter', () => {
  it('writes user keys under the bytewise comparator, without sequence properties', async () => {
    const fs = new MemFileSystem();
    const info = await writeExternalTable('/a.sst', [['a', '1'], [Buffer.from('b'), ''], ['c', Buffer.from('3')]], { fs, blockSize: 16 });
    expect(info.entries).toBe(3);
    expect(Buffer.from(info.smallestKey!).toString()).toBe('a');
    expect(Buffer.from(info.largestKey!).toString()).toBe('c');
    const { entries, reader } = await readBack(fs, '/a.sst');
    expect(entries).toEqual([['a', '1'], ['b', ''], ['c', '3']]);
    expect(reader.properties.comparatorName).toBe(bytewiseComparator.name);
    expect(reader.properties.smallestSeq).toBeUndefined();
    expect(reader.properties.compression).toBe('none');
    expect(reader.hasFilter).toBe(false);
    expect(info.fileSize).toBe(reader.fileSize);
    await reader.close();
  });

  it('refuses keys out of order or repeated and stays usable; refuses an existing path and unknown options', async () => {
    const fs = new MemFileSystem();
    const w = await ExternalTableWriter.create('/b.sst', { fs });
    await w.add('b', '1');
    expect(() => w.add('a', '2')).toThrow(/strictly increasing/);
    expect(() => w.add('b', '2')).toThrow(/strictly increasing/);
    await w.add('c', '3');
    await w.finish();
    expect((await readBack(fs, '/b.sst')).entries).toEqual([['b', '1'], ['c', '3']]);
    await expect(ExternalTableWriter.create('/b.sst', { fs })).rejects.toMatchObject({ code: 'ERR_IO' });
    await expect(ExternalTableWriter.create('/c.sst', { fs, comparator: 'x' } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(await fs.exists('/c.sst')).toBe(false);
  });

  it('abandon() and a failed writeExternalTable leave no file', async () => {
    const fs = new MemFileSystem();
    const w = await ExternalTableWriter.create('/d.sst', { fs });
    await w.add('a', '1');
    await w.abandon();
    expect(await fs.exists('/d.sst')).toBe(false);
    await expect(writeExternalTable('/e.sst', [['b', '1'], ['a', '1']], { fs })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(await fs.exists('/e.sst')).toBe(false);
  });
});
