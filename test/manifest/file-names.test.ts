import { describe, expect, it } from 'vitest';
import { StrataError } from '../../src/errors.js';
import {
  currentFileName, infoLogFileName, lockFileName, manifestFileName, oldInfoLogFileName, optionsFileName,
  parseFileName, tableFileName, tempFileName, walFileName,
} from '../../src/manifest/file-names.js';

describe('file names', () => {
  it('makes the LevelDB/RocksDB names', () => {
    expect([
      currentFileName('/d'), lockFileName('/d'), infoLogFileName('/d'), oldInfoLogFileName('/d'),
      manifestFileName('/d', 5), walFileName('/d', 7), tableFileName('/d', 8), optionsFileName('/d', 9),
      tempFileName('/d', 10), tableFileName('/d', 1234567),
    ]).toEqual([
      '/d/CURRENT', '/d/LOCK', '/d/LOG', '/d/LOG.old', '/d/MANIFEST-000005', '/d/000007.log', '/d/000008.sst',
      '/d/OPTIONS-000009', '/d/000010.dbtmp', '/d/1234567.sst',
    ]);
    expect(() => tableFileName('/d', -1)).toThrow(StrataError);
    expect(() => tableFileName('/d', 1.5)).toThrow(StrataError);
  });

  it('parses what it makes and nothing else', () => {
    const cases: [string, ReturnType<typeof parseFileName>][] = [
      ['CURRENT', { type: 'current', number: 0 }],
      ['LOCK', { type: 'lock', number: 0 }],
      ['LOG', { type: 'info-log', number: 0 }],
      ['LOG.old', { type: 'info-log-old', number: 0 }],
      ['MANIFEST-000005', { type: 'manifest', number: 5 }],
      ['000007.log', { type: 'wal', number: 7 }],
      ['7.log', { type: 'wal', number: 7 }],
      ['000008.sst', { type: 'table', number: 8 }],
      ['OPTIONS-000009', { type: 'options', number: 9 }],
      ['000010.dbtmp', { type: 'temp', number: 10 }],
      ['9007199254740991.sst', { type: 'table', number: 9007199254740991 }],
    ];
    for (const [name, expected] of cases) expect(parseFileName(name), name).toEqual(expected);
    for (const name of [
      '', 'CURRENT.bak', 'MANIFEST-', 'MANIFEST-x1', 'MANIFEST-1 ', '.log', 'a.log', '-1.sst', '1.5.sst', '000008.sst~',
      '9007199254740993.sst', '12345678901234567.sst', 'OPTIONS', 'LOCK.takeover', 'foo', '0x10.log',
    ]) {
      expect(parseFileName(name), name).toBeUndefined();
    }
  });
});
