/**
 * `stratadb stats`: db.stats() of the fixture database from a read-only open, as a level table
 * (text) and as the DBStats object (--json). The CLI runs as a child process.
 */
import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmpdir.js';
import { makeFixtureDb, onlyFile, runCli } from './cli-helpers.js';

describe('stratadb stats', () => {
  it('prints the levels and counters, as text and as JSON', async () => {
    const dir = await tempDir('strata-stats-');
    await makeFixtureDb(dir);
    const tableBytes = (await stat(onlyFile(dir, '.sst'))).size;
    const [text, json] = await Promise.all([runCli(['stats', dir]), runCli(['stats', dir, '--json'])]);
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout);
    expect(s.sequence).toBe(25);
    expect(s.levels[0]).toEqual({ level: 0, files: 1, bytes: tableBytes, score: expect.any(Number) });
    expect(s.levels.slice(1).every((l: { files: number }) => l.files === 0)).toBe(true);
    for (const k of ['memtable', 'memory', 'flushes', 'compactions', 'stalls', 'cache', 'filter']) expect(s).toHaveProperty(k);
    expect(typeof s.writeAmplification).toBe('number');

    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines).toContain('sequence 25');
    // The Size and Bytes columns are as wide as their widest figures.
    expect(lines.some((l) => /^Level  Files +Size +Bytes  Score$/.test(l))).toBe(true);
    expect(lines.find((l) => l.startsWith('L0 '))).toMatch(new RegExp(`^L0 +1 +\\S+ \\S+ +${tableBytes} +${s.levels[0].score.toFixed(2)}$`));
    expect(lines.find((l) => l.startsWith('Sum '))).toMatch(new RegExp(`^Sum +1 +\\S+ \\S+ +${tableBytes}$`));
    expect(lines.some((l) => /^write amplification +\d+\.\d\d$/.test(l))).toBe(true);
  });

  it('--property prints one db.getProperty() value; an unknown name is a usage mistake', async () => {
    const dir = await tempDir('strata-stats-');
    await makeFixtureDb(dir);
    const tableBytes = (await stat(onlyFile(dir, '.sst'))).size;
    const [files, size, json, unknown] = await Promise.all([
      runCli(['stats', dir, '--property', 'stratadb.num-files-at-level0']),
      runCli(['stats', dir, '--property', 'stratadb.total-sst-files-size']),
      runCli(['stats', dir, '--property', 'stratadb.estimate-num-keys', '--json']),
      runCli(['stats', dir, '--property', 'stratadb.nope']),
    ]);
    expect(files.stdout).toBe('1\n');
    expect(size.stdout).toBe(`${tableBytes}\n`);
    expect(JSON.parse(json.stdout)).toMatchObject({ property: 'stratadb.estimate-num-keys', value: expect.stringMatching(/^\d+$/) });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: --property: "stratadb.nope" is not a property/);
  });
});
