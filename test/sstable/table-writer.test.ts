/**
 * TableWriter behaviour: key order errors, buffer ownership, block cutting, the properties it
 * records, the async zstd pipeline, sticky I/O errors, abandon, option validation, and the
 * range-deletion block (written apart from the data, named in the metaindex, counted in the properties).
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { isStrataError, IOError, InvalidArgumentError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import type { WritableFile } from '../../src/fs/file-system.js';
import { TableWriter } from '../../sstable/table-writer.js';
import { readTableLayout } from '../../sstable/layout.js';
import { b, dec, defaultWriterOptions, openTable, scanForward, writeTable, type Entry } from './table-helpers.js';

const opts = { ...defaultWriterOptions, bloomBitsPerKey: 0 };

describe('TableWriter', () => {
  it('refuses keys out of order, naming both, and stays usable', async () => {
    const fs = new MemFileSystem();
    const w = new TableWriter(await fs.openWritable('/t.sst'), opts);
    w.add(b('b'), b('1'));
    expect(() => w.add(b('a'), b('2'))).toThrow(InvalidArgumentError);
    expect(() => w.add(b('b'), b('2'))).toThrow(/strictly increasing order: b after b/);
    try { w.add(b('a'), b('2')); } catch (e) { expect((e as Error).message).toMatch(/a after b/); }
    w.add(b('c'), b('3'));
    const res = await w.finish();
    expect(res.properties.numEntries).toBe(2);
  });

  it('keeps no reference to the caller key and value arrays', async () => {
    const fs = new MemFileSystem();
    const w = new TableWriter(await fs.openWritable('/t.sst'), { ...opts, blockSize: 64, compression: 'zstd' });
    const key = new Uint8Array(8);
    const value = new Uint8Array(40);
    for (let i = 0; i < 100; i++) {
      key[6] = 0x30 + Math.floor(i / 10);
      key[7] = 0x30 + (i % 10);
      value.fill(i);
      const p = w.add(key, value);
      if (p) await p;
    }
    key.fill(0xff);
    value.fill(0xff);
    await w.finish();
    const got = await scanForward((await openTable(fs, '/t.sst')).newIterator());
    expect(got.length).toBe(100);
    got.forEach(([k, v], i) => {
      expect(k[7]).toBe(0x30 + (i % 10));
      expect(v.every((x) => x === i)).toBe(true);
    });
  });

  it('keeps no reference to a reused Buffer key (Buffer#slice is a view), smallest key included', async () => {
    const fs = new MemFileSystem();
    const w = new TableWriter(await fs.openWritable('/t.sst'), opts);
    const key = Buffer.alloc(2);
    for (let i = 0; i < 20; i++) {
      key.write(`k${String.fromCharCode(0x61 + i)}`);
      w.add(key, b('v'));
    }
    key.write('zz');
    const res = await w.finish();
    expect(dec.decode(res.properties.smallestKey)).toBe('ka');
    expect(dec.decode(res.properties.largestKey)).toBe('kt');
  });

  it('cuts blocks before they exceed blockSize; a big entry gets its own block', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 50; i++) entries.push([b(`k${String(i).padStart(3, '0')}`), new Uint8Array(i === 25 ? 1000 : 20)]);
    const fs = new MemFileSystem();
    await writeTable(fs, '/t.sst', entries, { ...opts, blockSize: 128, blockRestartInterval: 1 });
    const layout = await readTableLayout(await openTable(fs, '/t.sst'));
    const data = layout.blocks.filter((x) => x.kind === 'data');
    for (const blk of data) {
      if (blk.entries === 1 && blk.firstKey && dec.decode(blk.firstKey) === 'k025') expect(blk.rawSize).toBeGreaterThan(1000);
      else expect(blk.rawSize).toBeLessThanOrEqual(128);
    }
    expect(data.some((x) => x.entries === 1 && dec.decode(x.firstKey!) === 'k025')).toBe(true);
    expect(data.reduce((n, x) => n + x.entries!, 0)).toBe(50);
  });

  it('records what it wrote in the properties', async () => {
    const entries: Entry[] = [[b('apple'), b('red')], [b('kiwi'), b('')], [b('plum'), b('purple')]];
    const fs = new MemFileSystem();
    const res = await writeTable(fs, '/t.sst', entries, { blockSize: 16, compression: 'lz4', bloomBitsPerKey: 8, creationTimeMs: 42 });
    const p = res.properties;
    expect(p).toMatchObject({
      numEntries: 3, numDeletions: 0, rawKeyBytes: 13, rawValueBytes: 9, numDataBlocks: 3, compression: 'lz4',
      filterPolicy: 'strata.bloom.v1', bloomBitsPerKey: 8, creationTimeMs: 42, blockSize: 16, blockRestartInterval: 16,
      smallestSeq: undefined, largestSeq: undefined,
    });
    expect(dec.decode(p.smallestKey)).toBe('apple');
    expect(dec.decode(p.largestKey)).toBe('plum');
    const layout = await readTableLayout(await openTable(fs, '/t.sst'));
    const sum = (kind: string): number => layout.blocks.filter((x) => x.kind === kind).reduce((n, x) => n + x.storedSize + 5, 0);
    expect(p.dataSize).toBe(sum('data'));
    expect(p.indexSize).toBe(sum('index'));
    expect(p.filterSize).toBe(sum('filter'));
    expect(res.fileSize).toBe(layout.fileSize);
    expect((await openTable(fs, '/t.sst')).properties).toEqual(p);
  });

  it('estimatedFileSize grows with the data and ends near the real size', async () => {
    const fs = new MemFileSystem();
    const w = new TableWriter(await fs.openWritable('/t.sst'), { ...opts, compression: 'none' });
    let last = w.estimatedFileSize;
    for (let i = 0; i < 1000; i++) {
      w.add(b(`key${String(i).padStart(6, '0')}`), new Uint8Array(100));
      expect(w.estimatedFileSize).toBeGreaterThanOrEqual(last);
      last = w.estimatedFileSize;
    }
    const res = await w.finish();
    expect(last).toBeGreaterThan(res.properties.dataSize * 0.95);
    expect(last).toBeLessThanOrEqual(res.fileSize);
  });

  it('an I/O error is sticky', async () => {
    const inner = await new MemFileSystem().openWritable('/t.sst');
    let fail = false;
    const file: WritableFile = {
      get path() { return inner.path; }, get size() { return inner.size; },
      append: (d) => { if (fail) throw new IOError('injected ENOSPC'); inner.append(d); },
      sync: () => inner.sync(), close: () => inner.close(),
    };
    const w = new TableWriter(file, { ...opts, blockSize: 64 });
    fail = true;
    let err: unknown;
    try {
      for (let i = 0; i < 10_000; i++) w.add(b(`k${String(i).padStart(6, '0')}`), new Uint8Array(100));
    } catch (e) { err = e; }
    expect(isStrataError(err, 'ERR_IO')).toBe(true);
    expect(() => w.add(b('z'), b(''))).toThrow(/injected/);
    await expect(w.finish()).rejects.toThrow(/injected/);
  });

  it('abandon stops the writer and drops pending zstd work', async () => {
    const fs = new MemFileSystem();
    const w = new TableWriter(await fs.openWritable('/t.sst'), { ...opts, compression: 'zstd', blockSize: 64 });
    for (let i = 0; i < 3; i++) w.add(b(`k${i}`), new Uint8Array(100));
    w.abandon();
    w.abandon();
    expect(() => w.add(b('z'), b(''))).toThrow(/abandoned/);
    await expect(w.finish()).rejects.toThrow(/abandoned/);
  });

  it('finish twice is an error; the writer does not close the file', async () => {
    const fs = new MemFileSystem();
    const file = await fs.openWritable('/t.sst');
    const w = new TableWriter(file, opts);
    w.add(b('a'), b('1'));
    await w.finish();
    await expect(w.finish()).rejects.toThrow(/finished/);
    file.append(new Uint8Array(0)); // still open
    await file.sync();
  });

  it('validates its options and needs an empty file', async () => {
    const fs = new MemFileSystem();
    const f = await fs.openWritable('/t.sst');
    expect(() => new TableWriter(f, { ...opts, blockSize: 0 })).toThrow(/blockSize/);
    expect(() => new TableWriter(f, { ...opts, blockRestartInterval: 0 })).toThrow(/blockRestartInterval/);
    expect(() => new TableWriter(f, { ...opts, compression: 'snappy' as 'none' })).toThrow(/compression/);
    expect(() => new TableWriter(f, { ...opts, compression: 'zstd', zstdLevel: 22 })).toThrow(/zstdLevel/);
    expect(() => new TableWriter(f, { ...opts, bloomBitsPerKey: -1 })).toThrow(InvalidArgumentError);
    f.append(b('x'));
    expect(() => new TableWriter(f, opts)).toThrow(/must be empty/);
    const k = await fs.openWritable('/k.sst');
    const w = new TableWriter(k, { ...opts, keysAreInternal: true });
    expect(() => w.add(b('short'), b(''))).toThrow(/no trailer/);
  });
});

describe('TableWriter range-deletion block', () => {
  it('writes the entries into strata.range_del, counts them, and reads them back in order', async () => {
    const fs = new MemFileSystem();
    const w = new TableWriter(await fs.openWritable('/t.sst'), opts);
    w.addRangeDeletion(b('c'), b('f'));
    w.add(b('a'), b('1'));
    w.addRangeDeletion(b('m'), b('p'));
    w.add(b('z'), b('2'));
    expect(() => w.addRangeDeletion(b('d'), b('e'))).toThrow(/range-deletion keys must be added in strictly increasing order: d after m/);
    const res = await w.finish();
    expect(res.properties.numRangeDeletions).toBe(2);
    expect(res.properties.numEntries).toBe(2);
    expect(dec.decode(res.properties.smallestKey)).toBe('a');
    const t = await openTable(fs, '/t.sst');
    expect(t.properties.numRangeDeletions).toBe(2);
    expect([...t.metaHandles.keys()]).toEqual(['strata.properties', 'strata.range_del']);
    const it = t.newRangeDelIterator()!;
    expect((await scanForward(it)).map(([k, v]) => `${dec.decode(k)}-${dec.decode(v)}`)).toEqual(['c-f', 'm-p']);
    expect((await scanForward(t.newIterator())).length).toBe(2);
    const layout = await readTableLayout(t);
    expect(layout.blocks.map((x) => x.kind)).toContain('range_del');
  });

  it('a table of range deletions only has no data keys and still opens', async () => {
    const fs = new MemFileSystem();
    const w = new TableWriter(await fs.openWritable('/t.sst'), opts);
    w.addRangeDeletion(b('a'), b('b'));
    const res = await w.finish();
    expect(res.properties.numEntries).toBe(0);
    expect(res.properties.smallestKey).toBeUndefined();
    const t = await openTable(fs, '/t.sst');
    expect(await scanForward(t.newIterator())).toEqual([]);
    expect((await scanForward(t.newRangeDelIterator()!)).length).toBe(1);
  });
});

