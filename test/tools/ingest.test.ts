/**
 * `stratadb ingest DIR FILE...`: loads external tables into a database (the keys readable after),
 * prints JSON, removes the sources with --move, and refuses overlapping files (exit 2, both named,
 * no stack trace) and a missing database.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DB } from '../../src/index.js';
import { writeExternalTable } from '../../sstable/index.js';
import { tempDir } from '../support/tmpdir.js';
import { hasStackTrace, runCli } from './cli-helpers.js';

describe('stratadb ingest', () => {
  it('ingests, prints JSON, moves with --move, and refuses overlaps and a missing database', async () => {
    const root = await tempDir();
    const dir = path.join(root, 'db');
    const db = await DB.open(dir);
    await db.put('b1', 'old');
    await db.close();
    const a = path.join(root, 'a.sst');
    const b = path.join(root, 'b.sst');
    await writeExternalTable(a, [['a1', 'x'], ['b1', 'new']]);
    await writeExternalTable(b, [['c1', 'y']]);
    const r = await runCli(['ingest', dir, a, b, '--move', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { sequence: number; entries: number; files: { path: string; level: number }[] };
    expect(out.sequence).toBe(2);
    expect(out.entries).toBe(3);
    expect(out.files.map((f) => f.path)).toEqual([a, b]);
    expect(existsSync(a) || existsSync(b)).toBe(false);
    const check = await DB.open(dir, { readOnly: true });
    expect((await check.get('b1'))?.toString()).toBe('new');
    expect((await check.get('c1'))?.toString()).toBe('y');
    await check.close();

    await writeExternalTable(a, [['k1', '1'], ['k5', '1']]);
    await writeExternalTable(b, [['k3', '2']]);
    const overlap = await runCli(['ingest', dir, a, b]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toMatch(/ERR_INVALID_ARGUMENT.*a\.sst.*b\.sst.*overlap/);
    expect(hasStackTrace(overlap.stderr)).toBe(false);
    const text = await runCli(['ingest', dir, a]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ingested 2 entries at sequence 3 in \d+ ms\n {2}.*a\.sst: 2 entries -> L\d \(1 table\(s\)\)\n$/);
    const missing = await runCli(['ingest', path.join(root, 'nope'), b]);
    expect(missing.code).toBe(2);
    expect(hasStackTrace(missing.stderr)).toBe(false);
  });
});
