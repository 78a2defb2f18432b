/**
 * `stratadb get / put / delete / scan` on the fixture database: text and hex keys, range bounds, --prefix,
 * reverse and limit, --json, writes seen by later reads, and the user mistakes (bad hex, a bad
 * --limit, a DIR with no database, a database locked by another process: exit 2 with the code,
 * no stack trace). Each command runs as a child process.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { hasStackTrace, makeFixtureDb, runCli } from './cli-helpers.js';

/** The fixture's live user keys in order (key005 and key010 are deleted). */
const LIVE = ['apple', 'banana', ...Array.from({ length: 20 }, (_, i) => `key${String(i).padStart(3, '0')}`)
  .filter((k) => k !== 'key005' && k !== 'key010')];

describe('stratadb get / put / delete / scan', () => {
  it('reads: get, not found, scan with bounds, reverse, limit, hex and JSON', async () => {
    const dir = await tempDir('strata-kv-');
    await makeFixtureDb(dir);
    const [get, missing, range, reverse, hex, all, prefix] = await Promise.all([
      runCli(['get', dir, 'apple']),
      runCli(['get', dir, 'key005']),
      runCli(['scan', dir, '--gt', 'key000', '--lte', 'key004']),
      runCli(['scan', dir, '--reverse', '--limit', '2', '--json']),
      runCli(['scan', dir, '--lt', '61', '--hex']),
      runCli(['scan', dir, '--json']),
      runCli(['scan', dir, '--prefix', 'key01', '--lt', 'key013']),
    ]);
    expect([get.code, get.stdout]).toEqual([0, 'red\n']);
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, '', 'not found: key005\n']);
    expect(range.stdout).toBe('key001\tvalue-1\nkey002\tvalue-2\nkey003\tvalue-3\nkey004\tvalue-4\n');
    expect(JSON.parse(reverse.stdout)).toEqual([{ key: 'key019', value: 'value-19' }, { key: 'key018', value: 'value-18' }]);
    expect(hex.stdout).toBe('00ff01\t0909\n');
    const entries = JSON.parse(all.stdout) as Array<{ key: string; value: string }>;
    expect(entries.filter((e) => e.key !== '\u0000\ufffd\u0001').map((e) => e.key)).toEqual(LIVE);
    expect(entries).toHaveLength(LIVE.length + 1);
    expect(prefix.stdout).toBe('key011\tvalue-11\nkey012\tvalue-12\n'); // key010 is deleted
    for (const r of [get, range, reverse, hex, all, prefix]) expect([r.code, r.stderr]).toEqual([0, '']);
  });

  it('writes: put and delete are durable and seen by the next read; a missing database is refused', async () => {
    const dir = await tempDir('strata-kv-');
    await makeFixtureDb(dir);
    expect((await runCli(['put', dir, 'cherry', 'dark red'])).code).toBe(0);
    expect((await runCli(['delete', dir, 'apple'])).code).toBe(0);
    const fresh = path.join(dir, 'fresh');
    const [scan, noDb, created] = await Promise.all([
      runCli(['scan', dir, '--gte', 'a', '--lt', 'key', '--json']),
      runCli(['put', path.join(dir, 'nothing-here'), 'k', 'v']),
      runCli(['put', fresh, '6b', '0x76', '--hex', '--create-if-missing']),
    ]);
    expect(JSON.parse(scan.stdout)).toEqual([{ key: 'banana', value: 'yellow' }, { key: 'cherry', value: 'dark red' }]);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: .*nothing-here does not exist\n$/);
    expect(created.code).toBe(0);
    expect(await runCli(['get', fresh, '6b', '--hex'])).toMatchObject({ code: 0, stdout: '76\n' });
  });

  it('has: yes/no per key in order, --json, --hex; exit 1 when any key is missing', async () => {
    const dir = await tempDir('strata-kv-has-');
    await makeFixtureDb(dir);
    const [all, some, json, hex, noKey] = await Promise.all([
      runCli(['has', dir, 'apple', 'banana']),
      runCli(['has', dir, 'key005', 'apple', 'nope']),
      runCli(['has', dir, 'key004', 'key010', '--json']),
      runCli(['has', dir, '00ff01', '6170706c65', '--hex']),
      runCli(['has', dir]),
    ]);
    expect([all.code, all.stdout, all.stderr]).toEqual([0, 'apple\tyes\nbanana\tyes\n', '']);
    expect([some.code, some.stdout]).toEqual([1, 'key005\tno\napple\tyes\nnope\tno\n']);
    expect([json.code, JSON.parse(json.stdout)]).toEqual([1, [{ key: 'key004', exists: true }, { key: 'key010', exists: false }]]);
    expect([hex.code, hex.stdout]).toEqual([0, '00ff01\tyes\n6170706c65\tyes\n']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/ERR_INVALID_ARGUMENT/);
  });

  it('user mistakes exit 2 with the error code and no stack trace; a locked database refuses put, not get', async () => {
    const dir = await tempDir('strata-kv-');
    await makeFixtureDb(dir);
    const owner = await DB.open(dir);
    try {
      const [locked, readBeside, badHex, badLimit] = await Promise.all([
        runCli(['put', dir, 'k', 'v']),
        runCli(['get', dir, 'banana']),
        runCli(['get', dir, 'xyz', '--hex']),
        runCli(['scan', dir, '--limit', 'ten']),
      ]);
      expect(locked.code).toBe(2);
      expect(locked.stderr).toMatch(/^error ERR_LOCKED: .*LOCK is locked by process \d+/);
      expect(readBeside).toMatchObject({ code: 0, stdout: 'yellow\n' });
      expect(badHex.code).toBe(2);
      expect(badHex.stderr).toBe("error ERR_INVALID_ARGUMENT: KEY 'xyz' is not hex (pairs of digits 0-9a-f, --hex was given)\n");
      expect(badLimit.code).toBe(2);
      expect(badLimit.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: option '--limit <n>' argument 'ten' is invalid/);
      for (const r of [locked, badHex, badLimit]) expect(hasStackTrace(r.stderr)).toBe(false);
    } finally {
      await owner.close();
    }
  });
});
