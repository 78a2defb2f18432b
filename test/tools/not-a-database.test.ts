/**
 * What the command line says when DIR or FILE is not what the command needs: a missing path, a plain
 * file, an empty directory, a directory of other things, a file that is not a table. Each answer
 * names what the path is, in the CLI's words (no engine option names, no raw ENOENT/ENOTDIR), exits
 * 2, shows no stack, and creates nothing.
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmpdir.js';
import { flipByte, hasStackTrace, runCli, writeLibraryTable } from './cli-helpers.js';

/** Engine option names a CLI user never typed, and OS error names the CLI should have translated. */
const INTERNAL_WORDS = /createIfMissing|readOnly|errorIfExists|allowPlaintext|ENOENT|ENOTDIR|EISDIR|LOCK\.tmp/;

function expectUsageError(r: { code: number; stdout: string; stderr: string }, message: RegExp, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(2);
  expect(r.stderr, what).toMatch(message);
  expect(r.stderr, what).not.toMatch(INTERNAL_WORDS);
  expect(hasStackTrace(r.stderr), what).toBe(false);
  expect(r.stdout, what).toBe('');
}

describe('stratadb with a DIR that holds no database', () => {
  it('names an empty directory, a file, a missing path and a directory of other things, for every kind of command', async () => {
    const root = await tempDir('strata-notdb-');
    const empty = path.join(root, 'empty');
    const file = path.join(root, 'notes.txt');
    const other = path.join(root, 'photos');
    const missing = path.join(root, 'missing');
    mkdirSync(empty);
    mkdirSync(other);
    writeFileSync(path.join(other, 'cat.jpg'), 'meow');
    writeFileSync(file, 'not a database\n');
    const cases: Array<[string[], RegExp]> = [];
    // Read-only opens, read-write opens, the MANIFEST reader and backup create all say the same.
    // (One command per way in: the other read-only and read-write commands share these paths.)
    for (const cmd of [['get', 'DIR', 'k'], ['manifest', 'DIR'], ['put', 'DIR', 'k', 'v'], ['backup', 'create', 'DIR', path.join(root, 'bk')]]) {
      const at = (d: string): string[] => cmd.map((a) => (a === 'DIR' ? d : a));
      cases.push([at(empty), /^error ERR_INVALID_ARGUMENT: \S*empty is an empty directory, not a database\n$/]);
      cases.push([at(file), /^error ERR_INVALID_ARGUMENT: \S*notes\.txt is a file, not a database directory\n$/]);
      cases.push([at(missing), /^error ERR_INVALID_ARGUMENT: \S*missing does not exist\n$/]);
      cases.push([at(other), /^error ERR_INVALID_ARGUMENT: \S*photos holds no StrataDB database \(no CURRENT file\)\n$/]);
    }
    // put --create-if-missing creates in a missing or empty directory, never over a file.
    cases.push([['put', file, 'k', 'v', '--create-if-missing'], /^error ERR_INVALID_ARGUMENT: \S*notes\.txt is a file, not a database directory\n$/]);
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((r, i) => expectUsageError(r, cases[i]![1], cases[i]![0].join(' ')));
    // Nothing was created: no LOCK in the empty directory, no backup directory, no database.
    expect(readdirSync(root).sort()).toEqual(['empty', 'notes.txt', 'photos']);
    expect(readdirSync(empty)).toEqual([]);
    expect(readdirSync(other)).toEqual(['cat.jpg']);
  });

  it('puts plain words where the engine names its options', async () => {
    const { plainMessage } = await import('../../tools/db-dir.js');
    expect(plainMessage('database /d does not exist (createIfMissing is true, readOnly)'))
      .toBe('database /d does not exist (a read-only command never creates one)');
    expect(plainMessage('database /d does not exist (readOnly open)'))
      .toBe('database /d does not exist (a read-only command never creates one)');
    expect(plainMessage('database /d does not exist (createIfMissing is false)'))
      .toBe('database /d does not exist (put --create-if-missing creates one)');
    expect(plainMessage('x: file is not encrypted, but the database is (set encryption.allowPlaintext to read files written before encryption was turned on)'))
      .toBe('x: file is not encrypted, but the database is (give --allow-plaintext to read files written before encryption was turned on)');
    expect(plainMessage('KEY is not hex')).toBe('KEY is not hex');
  });
});

describe('stratadb sst-dump of a file that is not a table', () => {
  it('exits 2 for a file too short or without the table magic; a real table with a bad block still exits 1', async () => {
    const root = await tempDir('strata-notsst-');
    const short = path.join(root, 'short.sst');
    const wrongMagic = path.join(root, 'notes.sst');
    const table = path.join(root, 'real.sst');
    writeFileSync(short, 'abc');
    writeFileSync(wrongMagic, Buffer.alloc(4096, 0x41));
    await writeLibraryTable(table);
    const [a, b, c, d] = await Promise.all([
      runCli(['sst-dump', short]),
      runCli(['sst-dump', wrongMagic, '--verify']),
      runCli(['sst-dump', root]), // a directory
      runCli(['sst-dump', table, '--verify']),
    ]);
    expectUsageError(a, /^error ERR_INVALID_ARGUMENT: \S*short\.sst is not a StrataDB table: file of 3 bytes is too short for a table\n$/, 'short');
    expectUsageError(b, /^error ERR_INVALID_ARGUMENT: \S*notes\.sst is not a StrataDB table: bad table magic/, 'wrong magic');
    expect(c.code, c.stderr).toBe(2);
    expect(d.code, d.stderr).toBe(0);
    await flipByte(table, 1); // inside the first data block: a table, damaged
    const damaged = await runCli(['sst-dump', table, '--verify']);
    expect(damaged.code, damaged.stderr).toBe(1);
    expect(damaged.stderr).toMatch(/^error ERR_CORRUPTION: \S*real\.sst: corruption at offset 0/);
  });
});
