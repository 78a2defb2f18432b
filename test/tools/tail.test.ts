/**
 * `stratadb tail`: the fixture database's batches left in its WAL (text and --json, --from, --hex),
 * beside a live writer (read-only open, ending at what the writer had published), the archive for a
 * flushed WAL (--archive), and a sequence no WAL holds (ERR_INVALID_ARGUMENT, exit 2, no stack).
 * The CLI runs as a child process.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB, WriteBatch } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { FIXED_CLOCK_MS, hasStackTrace, makeFixtureDb, runCli } from './cli-helpers.js';

const TIME = new Date(FIXED_CLOCK_MS).toISOString();

describe('stratadb tail', () => {
  it('prints the batches in the WAL (text, --json, --from, --hex) and refuses a flushed sequence', async () => {
    const dir = path.join(await tempDir('strata-tail-'), 'db');
    await makeFixtureDb(dir);
    const [text, json, hex, gone] = await Promise.all([
      runCli(['tail', dir, '--from', '22']),
      runCli(['tail', dir, '--from', '25', '--json', '--hex']),
      runCli(['tail', dir, '--from', '25', '--hex']),
      runCli(['tail', dir, '--from', '3']),
    ]);
    expect(text.code).toBe(0);
    // The last batch's key and value are binary: --hex shows them below.
    expect(text.stdout.split('\n')).toHaveLength(7);
    expect(text.stdout.split('\n').slice(0, 5)).toEqual([`#22 ${TIME}`, 'put apple red', 'put banana yellow', 'del key010', `#25 ${TIME}`]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([{ sequence: 25, commitTime: FIXED_CLOCK_MS, ops: [{ type: 'put', key: '00ff01', value: '0909' }] }]);
    expect(hex.stdout).toBe(`#25 ${TIME}\nput 00ff01 0909\n`);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/ERR_INVALID_ARGUMENT.*sequence 3 is not in the log/);
    expect(hasStackTrace(gone.stderr)).toBe(false);
  });

  it('runs beside a live writer and reads flushed WALs from --archive', async () => {
    const root = await tempDir('strata-tail-live-');
    const dir = path.join(root, 'db');
    const archive = path.join(root, 'archive');
    const db = await DB.open(dir, { walArchiveDir: archive, clock: () => FIXED_CLOCK_MS });
    try {
      await db.put('a', '1');
      await db.flush();
      await db.write(new WriteBatch().put('b', '2').deleteRange('c', 'd'));
      const [live, withArchive] = await Promise.all([
        runCli(['tail', dir, '--json']),
        runCli(['tail', dir, '--json', '--archive', archive]),
      ]);
      expect(live.code).toBe(2);
      expect(live.stderr).toMatch(/ERR_INVALID_ARGUMENT/);
      expect(withArchive.code).toBe(0);
      expect(JSON.parse(withArchive.stdout)).toEqual([
        { sequence: 1, commitTime: FIXED_CLOCK_MS, ops: [{ type: 'put', key: 'a', value: '1' }] },
        { sequence: 2, commitTime: FIXED_CLOCK_MS, ops: [{ type: 'put', key: 'b', value: '2' }, { type: 'deleteRange', key: 'c', end: 'd' }] },
      ]);
      const fromTwo = await runCli(['tail', dir, '--from', '2']);
      expect(fromTwo.stdout).toBe(`#2 ${TIME}\nput b 2\ndelete-range c d\n`);
    } finally {
      await db.close();
    }
  });
});
