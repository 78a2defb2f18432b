/**
 * tableOptionsFor(): the table options of each level come from the database's options (the codec of
 * compressionPerLevel[level], else compression), as plain data a worker can receive; and the engine's
 * table writers take them from there (a backup's memtable dump is an L0 table, so it follows
 * compressionPerLevel[0] like a flush does).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, inspect } from '../../src/index.js';
import { DEFAULT_OPTIONS, KNOWN_OPTIONS, validateOptions } from '../../src/options.js';
import { tableOptionsFor } from '../../src/table/table-options.js';

describe('tableOptionsFor', () => {
  it('defaults: the documented defaults at every level', () => {
    const o = validateOptions({});
    for (let level = 0; level < o.numLevels; level++) {
      expect(tableOptionsFor(o, level)).toEqual({
        blockSize: DEFAULT_OPTIONS.blockSize, blockRestartInterval: DEFAULT_OPTIONS.blockRestartInterval,
        indexBlockRestartInterval: DEFAULT_OPTIONS.indexBlockRestartInterval,
        bloomBitsPerKey: DEFAULT_OPTIONS.bloomBitsPerKey, compression: DEFAULT_OPTIONS.compression,
        zstdLevel: DEFAULT_OPTIONS.zstdLevel, prefixLength: DEFAULT_OPTIONS.prefixLength,
        partitionedMetadata: DEFAULT_OPTIONS.partitionedMetadata, metadataBlockSize: DEFAULT_OPTIONS.metadataBlockSize,
      });
    }
  });

  it('compressionPerLevel picks each level\'s codec; levels past its end use compression', () => {
    const o = validateOptions({ compression: 'zstd', compressionPerLevel: ['none', 'lz4', 'none'], numLevels: 5 });
    expect([0, 1, 2, 3, 4].map((l) => tableOptionsFor(o, l).compression)).toEqual(['none', 'lz4', 'none', 'zstd', 'zstd']);
  });

  it('carries the user\'s values, as plain data that survives a structured clone (worker post)', () => {
    const o = validateOptions({
      blockSize: 256, blockRestartInterval: 4, indexBlockRestartInterval: 8, bloomBitsPerKey: 0, compression: 'zstd', zstdLevel: 9, prefixLength: 3,
      partitionedMetadata: false, metadataBlockSize: 1024,
    });
    const t = tableOptionsFor(o, 3);
    expect(t).toEqual({
      blockSize: 256, blockRestartInterval: 4, indexBlockRestartInterval: 8, bloomBitsPerKey: 0, compression: 'zstd', zstdLevel: 9, prefixLength: 3,
      partitionedMetadata: false, metadataBlockSize: 1024,
    });
    expect(structuredClone(t)).toEqual(t);
  });

  it('every table option is an Options field of the same name (compression stands for compressionPerLevel too)', () => {
    for (const k of Object.keys(tableOptionsFor(validateOptions({}), 0))) expect(KNOWN_OPTIONS.has(k), k).toBe(true);
  });

  it('a backup\'s memtable dump is written with level 0\'s options, like a flush', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs, compression: 'zstd', compressionPerLevel: ['none'], blockSize: 128, blockRestartInterval: 2 });
    try {
      for (let i = 0; i < 100; i++) await db.put(`k${String(i).padStart(3, '0')}`, `value ${i}`.repeat(4));
      await db.backup('/bk'); // nothing flushed yet: the backup's only table is the memtable dump
    } finally {
      await db.close();
    }
    const shared = await fs.list('/bk/shared');
    expect(shared).toHaveLength(1);
    const reader = await inspect.openTable(path.join('/bk/shared', shared[0]!), { fs });
    try {
      expect(reader.properties.compression).toBe('none');
      expect(reader.properties.blockSize).toBe(128);
      expect(reader.properties.blockRestartInterval).toBe(2);
    } finally {
      await reader.close();
    }
  });
});
