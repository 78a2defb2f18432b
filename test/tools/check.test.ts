/**
 * `stratadb check`: a healthy database (exit 0), one whose newest WAL ends in a torn record (still
 * healthy, with a note), a damaged table block and a missing table (exit 1, each problem named),
 * and a directory without a database (exit 2); three damaged tables are three problems, each named
 * (check verifies every table, it does not stop at the first); ERR_BUSY maps to exit 75 (try again).
 * The CLI runs as a child process.
 */
import { cp, readFile, rm, truncate } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { BusyError, DB } from '../../src/index.js';
import { reportError } from '../../tools/program.js';
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

  it('lists every damaged table, not only the first', async () => {
    const dir = await tempDir('strata-check-many-');
    const db = await DB.open(dir, { level0CompactionTrigger: 100, level0SlowdownTrigger: 100, level0StopTrigger: 100, compression: 'none' });
    for (let t = 0; t < 4; t++) {
      for (let i = 0; i < 20; i++) await db.put(`t${t}-k${i}`, `value-${t}-${i}`);
      await db.flush();
    }
    await db.close();
    const tables = readdirSync(dir).filter((n) => n.endsWith('.sst')).sort().map((n) => path.join(dir, n));
    expect(tables).toHaveLength(4);
    const damaged = tables.slice(0, 3);
    for (const t of damaged) await flipByte(t, 10);
    const [json, text] = await Promise.all([runCli(['check', dir, '--json']), runCli(['check', dir])]);
    expect(json.code).toBe(1);
    const r = JSON.parse(json.stdout);
    expect(r.healthy).toBe(false);
    const checksumProblems = r.problems.filter((p: { check: string }) => p.check === 'checksums');
    expect(checksumProblems.map((p: { file: string }) => p.file).sort()).toEqual(damaged);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^DAMAGED: 3 problems$/m);
    for (const t of damaged) expect(text.stdout).toContain(t);
  });

  it('a writer changing the files underneath is exit 75 (try again), not a usage mistake', () => {
    const write = process.stderr.write;
    let err = '';
    process.stderr.write = ((chunk: string) => { err += chunk; return true; }) as typeof process.stderr.write;
    try {
      expect(reportError(new BusyError('changed underneath'))).toBe(75);
    } finally {
      process.stderr.write = write;
    }
    expect(err).toContain('error ERR_BUSY: changed underneath');
    expect(err).toContain('run the command again');
  });
});
