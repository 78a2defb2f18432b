/**
 * `stratadb manifest`: the version history and levels of the fixture database (text and --json),
 * a torn tail (exit 0 with a note), damage before the end (exit 1, reported after what was
 * readable), and a directory without a database (exit 2). The CLI runs as a child process.
 */
import { readdirSync } from 'node:fs';
import { cp, truncate, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmpdir.js';
import { flipByte, hasStackTrace, makeFixtureDb, onlyFile, runCli } from './cli-helpers.js';

describe('stratadb manifest', () => {
  it('prints the edits and the levels, as text and as JSON', async () => {
    const dir = await tempDir('strata-manifest-');
    await makeFixtureDb(dir);
    const [text, json] = await Promise.all([runCli(['manifest', dir]), runCli(['manifest', dir, '--json'])]);
    expect(text.code).toBe(0);
    expect(json.code).toBe(0);
    const m = JSON.parse(json.stdout);
    const table = path.basename(onlyFile(dir, '.sst'));
    const tableNumber = Number.parseInt(table, 10);
    expect(m.manifest).toMatch(/^MANIFEST-\d{6}$/);
    expect(m.lastSequence).toBe(21);
    expect(m.problem).toBeUndefined();
    expect(m.levels).toHaveLength(1);
    expect(m.levels[0].files).toMatchObject([{
      level: 0, fileNumber: tableNumber, numEntries: 20, numDeletions: 1, // key005's put shadowed by its delete smallest: "'key000'@1:put", largest: "'key019'@20:put",
    }]);
    const added = m.edits.flatMap((e: { edit: { newFiles?: unknown[] } }) => e.edit.newFiles ?? []);
    expect(added).toHaveLength(1);
    expect(text.stdout).toContain(`add L0 ${table.replace('.sst', '')} `);
    expect(text.stdout).toMatch(new RegExp(`^  L0 +1 +${m.levels[0].bytes}$`, 'm'));
    expect(text.stdout).toContain(`  ${table.replace('.sst', '')}  ${m.levels[0].bytes} bytes  ['key000'@1:put .. 'key019'@20:put]  seq 1..21`);
    expect(text.stderr).toBe('');
    // The table's unique id: in the JSON, in the file line and in the edit that added it, the same.
    const id = m.levels[0].files[0].uniqueId as string;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(text.stdout).toContain(`  id ${id}`);
    expect(text.stdout).toContain(` id ${id}\n`);
  });

  it('a torn tail exits 0 with a note; damage before the end exits 1; no database exits 2', async () => {
    const base = await tempDir('strata-manifest-');
    const good = path.join(base, 'good');
    await makeFixtureDb(good);
    const torn = path.join(base, 'torn');
    const damaged = path.join(base, 'damaged');
    await cp(good, torn, { recursive: true });
    await cp(good, damaged, { recursive: true });
    const manifestName = readdirSync(good).find((n) => n.startsWith('MANIFEST-'))!;
    const size = (await stat(path.join(good, manifestName))).size;
    await truncate(path.join(torn, manifestName), size - 3);
    await flipByte(path.join(damaged, manifestName), 12);

    const [t, d, none] = await Promise.all([
      runCli(['manifest', torn]), runCli(['manifest', damaged, '--json']), runCli(['manifest', path.join(base, 'nothing-here')]),
    ]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/torn tail at offset \d+/);
    expect(t.stdout).not.toContain('DAMAGED');

    expect(d.code).toBe(1);
    const dj = JSON.parse(d.stdout);
    expect(dj.problem).toMatchObject({ offset: 0, code: 'ERR_CORRUPTION' });

    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: .*nothing-here does not exist\n$/);
    expect(hasStackTrace(none.stderr)).toBe(false);
  });
});

