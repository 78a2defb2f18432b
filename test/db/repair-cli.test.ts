/**
 * `stratadb repair DIR [--json]` (tools/commands/repair.ts): repairs a database that lost CURRENT or its
 * MANIFEST so that `stratadb check` passes again, prints the report as text or JSON, and is refused
 * (exit 2, no stack, nothing changed) beside a live process and for a directory with no database.
 */
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { hasStackTrace, makeFixtureDb, runCli } from '../tools/cli-helpers.js';

const listing = (dir: string): string[] => readdirSync(dir).sort();

describe('stratadb repair', () => {
  it('repairs a database without CURRENT (text), then without MANIFEST (--json); check passes after each', async () => {
    const dir = await tempDir();
    await makeFixtureDb(dir);
    rmSync(path.join(dir, 'CURRENT'));
    expect((await runCli(['check', dir])).code).not.toBe(0);

    const text = await runCli(['repair', dir]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^kept 1 table, dropped 0; replayed 1 WAL \(\d+ entries recovered\)\n/);
    expect(text.stdout).toMatch(/last sequence \d+\n/);
    expect(text.stdout).toMatch(/moved to lost\/: .*MANIFEST-\d+/);
    expect((await runCli(['check', dir])).code).toBe(0);
    expect((await runCli(['get', dir, 'apple'])).stdout).toBe('red\n');

    for (const n of listing(dir)) if (n.startsWith('MANIFEST-')) rmSync(path.join(dir, n));
    const json = await runCli(['repair', dir, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { tablesKept: number; tablesDropped: unknown[]; lastSequence: number; movedToLost: string[] };
    expect(report.tablesKept).toBeGreaterThan(0);
    expect(report.tablesDropped).toEqual([]);
    expect(report.lastSequence).toBeGreaterThan(20);
    expect((await runCli(['check', dir])).code).toBe(0);
    expect((await runCli(['get', dir, 'banana'])).stdout).toBe('yellow\n');
    expect((await runCli(['get', dir, 'key010'])).code).toBe(1);
  });

  it('is refused beside a live process (ERR_LOCKED) and for a directory without a database, changing nothing', async () => {
    const dir = await tempDir();
    const made = await DB.open(dir); // closed with a flush: the open below has nothing to recover in the background
    await made.put('a', '1');
    await made.close();
    const db = await DB.open(dir);
    const before = listing(dir);
    const locked = await runCli(['repair', dir]);
    expect(locked.code).toBe(2);
    expect(locked.stderr).toMatch(/^error ERR_LOCKED: /);
    expect(hasStackTrace(locked.stderr)).toBe(false);
    expect(listing(dir)).toEqual(before);
    await db.close();

    const empty = await tempDir();
    const refused = await runCli(['repair', empty]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: .*nothing to repair/);
    expect(listing(empty)).toEqual([]);
  });
});
