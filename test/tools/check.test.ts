/**
 * `stratadb check`: a healthy database (exit 0), one whose newest WAL ends in a torn record (still
 * healthy, with a note), a damaged table block and a missing table (exit 1, each problem named),
 * and a directory without a database (exit 2). The CLI runs as a child process.
 */
import { cp, readFile, rm, truncate } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmpdir.js';
import { flipByte, hasStackTrace, makeFixtureDb, onlyFile, runCli } from './cli-helpers.js';

describe('stratadb check', () => {
  it('tells healthy from damaged databases, and names each problem', async () => {
    const base = await tempDir('strata-check-');
    const good = path.join(base, 'good');
    await makeFixtureDb(good);
    const copies = ['torn', 'rot', 'lost'].map((n) => path.join(base, n));
    for (const c of copies) await cp(good, c, { recursive: true });
    const [torn, rot, lost] = copies as [string, string, string];
    const wal = onlyFile(torn, '.log');
    await truncate(wal, (await readFile(wal)).length - 2);
    const rotTable = onlyFile(rot, '.sst');
    await flipByte(rotTable, 10);
    const lostTable = onlyFile(lost, '.sst');
    await rm(lostTable);

    const [ok, tornR, rotR, lostR, none] = await Promise.all([
      runCli(['check', good]),
      runCli(['check', torn, '--json']),
      runCli(['check', rot, '--json']),
      runCli(['check', lost]),
      runCli(['check', base]),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trimEnd().split('\n').at(-1)).toBe('healthy');
    expect(ok.stdout).toContain('checksums every block and every table file verified');

    expect(tornR.code).toBe(0);
    const t = JSON.parse(tornR.stdout);
    expect(t).toMatchObject({ healthy: true, checksumsVerified: true, problems: [] });
    expect(t.wals).toEqual([{ file: path.basename(wal), records: 1, status: 'torn-tail' }]);
    expect(t.notes.join('\n')).toMatch(/ends in a torn record/);

    expect(rotR.code).toBe(1);
    const r = JSON.parse(rotR.stdout);
    expect(r.healthy).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'ERR_CORRUPTION', file: rotTable, offset: 0 })]);

    expect(lostR.code).toBe(1);
    expect(lostR.stdout).toContain(`${path.basename(lostTable)} is missing (the MANIFEST lists it in L0`);
    expect(lostR.stdout).toMatch(/^DAMAGED: \d+ problems?$/m);

    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`error ERR_INVALID_ARGUMENT: ${base} holds no StrataDB database (no CURRENT file)\n`);
    for (const x of [ok, tornR, rotR, lostR, none]) expect(hasStackTrace(x.stderr)).toBe(false);
  });
});
