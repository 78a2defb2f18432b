/**
 * table-open.ts: an engine table opens over internal keys (get and scan work, the filter answers
 * for user keys), is checked against the record that lists it (size before the open, unique id
 * after it) and, encrypted, needs its key. Every refusal closes the file it was handed.
 */
import { describe, expect, it } from 'vitest';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import type { ReadableFile } from '../../src/fs/file-system.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { ValueKind, makeInternalKey, MAX_SEQUENCE, KIND_FOR_SEEK } from '../../src/base/internal-key.js';
import { FileKind } from '../../src/encryption/file-cipher.js';
import { KeyRing } from '../../src/encryption/keyring.js';
import { isStrataError } from '../../src/errors.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import { tableFileName } from '../../src/manifest/file-names.js';
import { writeTable } from '../../src/table/table-output.js';
import { openTable, openTableReader } from '../../src/table/table-open.js';
import { PassThroughFileSystem } from '../support/pass-through-fs.js';

const DIR = '/db';
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Counts closes of the files it opens for reading. */
class CountingFs extends PassThroughFileSystem {
  opened = 0;
  closed = 0;
  override async openReadable(p: string): Promise<ReadableFile> {
    const f = await this.inner.openReadable(p);
    this.opened++;
    return {
      path: f.path, size: f.size, read: (o, n) => f.read(o, n), readSync: (o, n) => f.readSync(o, n),
      close: async () => { this.closed++; await f.close(); },
    };
  }
}

async function write(fs: MemFileSystem, fileNumber: number, n: number, keys?: KeyRing): Promise<FileMetadata> {
  const mem = new MemTable();
  for (let i = 0; i < n; i++) mem.add(i + 1, ValueKind.Put, enc.encode(`key${String(i).padStart(4, '0')}`), enc.encode(`value ${i}`));
  const cipher = keys ? await keys.newFileCipher(FileKind.TABLE) : undefined;
  return (await writeTable({
    fs, dir: DIR, fileNumber, creationTimeMs: 1,
    options: { blockSize: 128, blockRestartInterval: 4, indexBlockRestartInterval: 1, bloomBitsPerKey: 10, compression: 'none', zstdLevel: 3 },
    ...(cipher ? { cipher } : {}),
  }, mem.newIterator()))!;
}

async function setup(): Promise<{ mem: MemFileSystem; fs: CountingFs }> {
  const mem = new MemFileSystem();
  await mem.mkdir(DIR, { recursive: true });
  return { mem, fs: new CountingFs(mem) };
}

async function refusal(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

describe('openTable', () => {
  it('opens an engine table: internal-key gets and scans, filter over user keys', async () => {
    const { mem, fs } = await setup();
    const meta = await write(mem, 5, 200);
    const reader = await openTable(fs, DIR, meta, { syncReads: false });
    try {
      let n = 0;
      const it = reader.newIterator();
      for (let p = it.seekToFirst(); ; p = it.next()) {
        if (p) await p;
        if (!it.valid()) break;
        n++;
      }
      await it.close();
      expect(n).toBe(200);
      const seek = (k: string): Uint8Array => makeInternalKey(enc.encode(k), MAX_SEQUENCE, KIND_FOR_SEEK);
      const hit = await reader.getAtOrAfter(seek('key0042'));
      expect(hit && dec.decode(hit.value)).toBe('value 42');
      // The filter is keyed by user key: absent keys inside the range are ruled out without a block read.
      for (let i = 0; i < 20; i++) await reader.getAtOrAfter(seek(`key0042-absent-${i}`));
      expect(reader.filterChecks).toBe(21);
      expect(reader.filterNegatives).toBeGreaterThan(15);
    } finally {
      await reader.close();
    }
    expect(fs.closed).toBe(fs.opened);
  });

  it('refuses a file of another size before reading it, naming the file', async () => {
    const { mem, fs } = await setup();
    const meta = await write(mem, 5, 50);
    const e = await refusal(openTable(fs, DIR, { ...meta, fileSize: meta.fileSize + 1 }, { syncReads: false }));
    expect(isStrataError(e, 'ERR_CORRUPTION')).toBe(true);
    expect(e.message).toContain(tableFileName(DIR, 5));
    expect(fs.closed).toBe(fs.opened);
  });

  it('refuses a table swapped for another of the same size (unique id); unchecked without an expectation', async () => {
    const { mem, fs } = await setup();
    const a = await write(mem, 5, 50);
    const b = await write(mem, 6, 50);
    expect(b.fileSize).toBe(a.fileSize);
    await mem.rename(tableFileName(DIR, 6), tableFileName(DIR, 5));
    const e = await refusal(openTable(fs, DIR, a, { syncReads: false }));
    expect(isStrataError(e, 'ERR_CORRUPTION')).toBe(true);
    expect(e.message).toMatch(/unique id/);
    expect(fs.closed).toBe(fs.opened);
    const path = tableFileName(DIR, 5);
    const reader = await openTableReader(await fs.openReadable(path), path, { syncReads: false });
    expect(reader.properties.uniqueId).toEqual(b.uniqueId);
    await reader.close();
  });

  it('an encrypted table needs its key: refused without (naming the key id), read with', async () => {
    const { mem, fs } = await setup();
    const keys = KeyRing.fromKeys('key-a', new Map([['key-a', new Uint8Array(32).fill(7)]]));
    const meta = await write(mem, 8, 50, keys);
    expect(meta.keyId).toBe('key-a');
    const e = await refusal(openTable(fs, DIR, meta, { syncReads: false }));
    expect(isStrataError(e, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect(e.message).toContain('key-a');
    expect(fs.closed).toBe(fs.opened);
    const reader = await openTable(fs, DIR, meta, { syncReads: true, keys });
    expect(reader.keyId).toBe('key-a');
    await reader.close();
  });
});
