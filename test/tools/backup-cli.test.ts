/**
 * `stratadb backup create|list|verify|restore|purge` against real temp databases, each command a
 * child process (dist/tools/cli.js): output and exit codes, --json parsed, damage (exit 1 with
 * ERR_CORRUPTION naming the file), point-in-time restore through --to-sequence and --to-time, and
 * the user mistakes (exit 2 with the code, never a stack trace).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB, type BackupInfo } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { FIXED_CLOCK_MS, hasStackTrace, makeFixtureDb, runCli } from './cli-helpers.js';

/** A value read in-process (read-only open): cheaper than one more child process. */
async function getText(dir: string, key: string): Promise<string | undefined> {
  const db = await DB.open(dir, { readOnly: true });
  try {
    return (await db.get(key))?.toString();
  } finally {
    await db.close();
  }
}

describe('stratadb backup', () => {
  it('create, list, verify, restore and purge, as text and as JSON', async () => {
    const root = await tempDir('strata-bkcli-');
    const db = path.join(root, 'db');
    const bk = path.join(root, 'bk');
    await makeFixtureDb(db);
    const first = await runCli(['backup', 'create', db, bk]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/^backup 1 at sequence 25, .*: \d+ tables, .* copied\)\n$/);
    const second = await runCli(['backup', 'create', db, bk, '--json']);
    expect(second.code).toBe(0);
    const info = JSON.parse(second.stdout) as BackupInfo & { bytesCopied: number };
    expect(info).toMatchObject({ id: 2, sequence: 25 });
    expect(info.bytesCopied).toBeLessThan(info.bytes); // the flushed table is shared with backup 1

    const [listText, listJson, verifyAll, verifyOne] = await Promise.all([
      runCli(['backup', 'list', bk]),
      runCli(['backup', 'list', bk, '--json']),
      runCli(['backup', 'verify', bk]),
      runCli(['backup', 'verify', bk, 'latest', '--json']),
    ]);
    expect(listText.code).toBe(0);
    expect(listText.stdout.split('\n')[0]).toMatch(/^ID\s+Sequence\s+Time\s+Tables\s+Size$/);
    const list = JSON.parse(listJson.stdout) as BackupInfo[];
    expect(list.map((b) => [b.id, b.sequence, b.files])).toEqual([[1, 25, info.files], [2, 25, info.files]]);
    expect(Object.keys(list[0]!).sort()).toEqual(['bytes', 'files', 'id', 'sequence', 'timestamp']);
    expect([verifyAll.code, verifyAll.stdout.match(/: ok$/gm)?.length]).toEqual([0, 2]);
    expect(JSON.parse(verifyOne.stdout)).toMatchObject([{ id: 2, ok: true }]);

    const target = path.join(root, 'restored');
    const restore = await runCli(['backup', 'restore', bk, '1', target, '--json']);
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ id: 1, sequence: 25, restoredSequence: 25 });
    expect(await getText(target, 'apple')).toBe('red');
    const again = await runCli(['backup', 'restore', bk, 'latest', target]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: restore target .* is not empty\n$/);

    const purge = await runCli(['backup', 'purge', bk, '--keep', '1', '--json']);
    expect(JSON.parse(purge.stdout)).toEqual({ deleted: [1], kept: [2] });
    const listed = readdirSync(path.join(bk, 'meta'));
    expect(listed).toEqual(['2']);
  });

  it('damage: verify exits 1 naming the file, restore exits 1 with ERR_CORRUPTION', async () => {
    const root = await tempDir('strata-bkcli-');
    const db = path.join(root, 'db');
    const bk = path.join(root, 'bk');
    await makeFixtureDb(db);
    const created = await runCli(['backup', 'create', db, bk]);
    expect(created.code, created.stderr).toBe(0);
    const [table] = readdirSync(path.join(bk, 'shared'));
    const file = path.join(bk, 'shared', table!);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    writeFileSync(file, bytes);
    const [verify, verifyJson, restore] = await Promise.all([
      runCli(['backup', 'verify', bk]),
      runCli(['backup', 'verify', bk, '1', '--json']),
      runCli(['backup', 'restore', bk, 'latest', path.join(root, 'r')]),
    ]);
    expect(verify.code).toBe(1);
    // verify reads every block first, so the damaged block's offset is named (the CRC32C would name 0)
    expect(verify.stdout).toMatch(/^backup 1: DAMAGED: ERR_CORRUPTION: .*corruption at offset \d+: .*(checksum|CRC32C)/);
    expect(verifyJson.code).toBe(1);
    expect(JSON.parse(verifyJson.stdout)).toMatchObject([{ id: 1, ok: false, error: { code: 'ERR_CORRUPTION', file } }]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/^error ERR_CORRUPTION: .*shared/);
    for (const r of [verify, verifyJson, restore]) expect(hasStackTrace(r.stderr)).toBe(false);
    // The half-restored target does not open.
    await expect(DB.open(path.join(root, 'r'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/RESTORE-IN-PROGRESS/) });
  });

  it('restores to a sequence or a time from the WAL archive', async () => {
    const root = await tempDir('strata-bkcli-');
    const dbDir = path.join(root, 'db');
    const bk = path.join(root, 'bk');
    let now = FIXED_CLOCK_MS;
    const db = await DB.open(dbDir, { walArchiveDir: path.join(bk, 'wal-archive'), clock: () => now, writeBufferSize: 16 * 1024 });
    for (let i = 0; i < 10; i++) await db.put(`base${i}`, 'x');
    await db.backup(bk);
    for (let i = 0; i < 10; i++) {
      now += 1000;
      await db.put(`late${i}`, 'y'.repeat(3000)); // 16 KiB memtables: several WAL rollovers
    }
    await db.close();
    const at = (s: number): string => path.join(root, `at-${s}`);
    const fifth = new Date(FIXED_CLOCK_MS + 5000).toISOString();
    const [toSeq, toTime, beyond, both, badTime] = await Promise.all([
      runCli(['backup', 'restore', bk, 'latest', at(13), '--to-sequence', '13', '--json']),
      runCli(['backup', 'restore', bk, '1', at(15), '--to-time', fifth]),
      runCli(['backup', 'restore', bk, '1', at(99), '--to-sequence', '99']),
      runCli(['backup', 'restore', bk, '1', at(0), '--to-sequence', '12', '--to-time', fifth]),
      runCli(['backup', 'restore', bk, '1', at(1), '--to-time', 'yesterday-ish']),
    ]);
    expect(JSON.parse(toSeq.stdout)).toMatchObject({ id: 1, sequence: 10, restoredSequence: 13 });
    expect(toTime).toMatchObject({ code: 0, stdout: expect.stringContaining('at sequence 15') });
    for (const r of [beyond, both, badTime]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: /);
    }
    expect([await getText(at(13), 'late2'), await getText(at(13), 'late3')]).toEqual(['y'.repeat(3000), undefined]);
    expect([await getText(at(15), 'late4'), await getText(at(15), 'late5')]).toEqual(['y'.repeat(3000), undefined]);
  });

  it('user mistakes exit 2 with the code and no stack trace', async () => {
    const root = await tempDir('strata-bkcli-');
    const db = path.join(root, 'db');
    const bk = path.join(root, 'bk');
    await makeFixtureDb(db);
    const owner = await DB.open(db); // a live owner changes none of these answers
    try {
      const results = await Promise.all([
        runCli(['backup', 'create', path.join(db, 'CURRENT'), bk]), // a file, not a database
        runCli(['backup', 'create', path.join(root, 'no-db'), bk]),
        runCli(['backup', 'list', path.join(root, 'no-backups')]),
        runCli(['backup', 'purge', bk]),
        runCli(['backup', 'purge', bk, '--keep', '-1']),
        runCli(['backup', 'restore', bk, 'first', path.join(root, 'r')]),
        runCli(['backup', 'restore', bk, '1', path.join(root, 'r'), '--to-sequence', 'ten']),
        runCli(['backup', 'frobnicate']),
      ]);
      expect(results[0]!.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: .*CURRENT is a file, not a database directory\n$/);
      expect(results[1]!.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: .*no-db does not exist\n$/);
      expect(results[2]!.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: backup directory .*no-backups does not exist/);
      expect(results[5]!.stderr).toMatch(/ID must be a backup id/);
      results.forEach((r, i) => {
        expect(r.code, `case ${i}: ${r.stderr}`).toBe(2);
        expect(r.stderr, `case ${i}`).toMatch(/^error ERR_/);
        expect(hasStackTrace(r.stderr), `case ${i}`).toBe(false);
      });
      expect(readdirSync(root).sort()).toEqual(['db']); // nothing created by the mistakes
    } finally {
      await owner.close();
    }
  });
});
