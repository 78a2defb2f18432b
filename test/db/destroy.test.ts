/**
 * DB.destroy(dir) (src/engine/destroy.ts) and `stratadb destroy DIR`: removes only the database's
 * own files, then the directory if nothing else is left; refuses, touching nothing, a database open
 * in this process or another (ERR_LOCKED, like a second open) and a directory that holds no database.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DB, MemFileSystem } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { rejectsWith } from '../support/db-check.js';
import { runCli, hasStackTrace } from '../tools/cli-helpers.js';

/** A database with a table, a WAL, OPTIONS and LOG files, closed. */
async function makeDb(dir: string): Promise<void> {
  const db = await DB.open(dir);
  for (let i = 0; i < 50; i++) await db.put(`k${i}`, `v${i}`);
  await db.flush();
  await db.put('tail', 'in the WAL');
  await db.close();
}

const listing = (dir: string): string[] => fs.readdirSync(dir).sort();

/**
 * An open database whose files hold still while a test compares listings: no idle compaction of the
 * two L0 tables makeDb leaves (it would replace them a second after open, on a slow machine mid-test).
 */
const STILL = { idleCompactionDelayMs: 0 };

describe('DB.destroy', () => {
  it('removes every file of the database and the emptied directory', async () => {
    const dir = path.join(await tempDir(), 'db');
    await makeDb(dir);
    const names = listing(dir);
    expect(names).toEqual(expect.arrayContaining(['CURRENT', 'LOCK', 'LOG']));
    expect(names.some((n) => n.endsWith('.sst'))).toBe(true);
    const r = await DB.destroy(dir);
    expect(r.removed.sort()).toEqual(names);
    expect(r.removedDir).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('leaves foreign files and subdirectories alone, and then the directory', async () => {
    const dir = await tempDir();
    await makeDb(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    fs.writeFileSync(path.join(dir, '000123.sst.bak'), 'mine too');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', '000001.sst'), 'not at the top level');
    const r = await DB.destroy(dir);
    expect(r.removedDir).toBe(false);
    expect(listing(dir)).toEqual(['000123.sst.bak', 'notes.txt', 'sub']);
    expect(fs.readFileSync(path.join(dir, 'sub', '000001.sst'), 'utf8')).toBe('not at the top level');
  });

  it('refuses a database open in this process (ERR_LOCKED) and removes nothing', async () => {
    const dir = await tempDir();
    await makeDb(dir);
    const db = await DB.open(dir, STILL);
    const before = listing(dir);
    await rejectsWith(() => DB.destroy(dir), 'ERR_LOCKED', 'destroy while open');
    expect(listing(dir)).toEqual(before);
    expect((await db.get('tail'))?.toString()).toBe('in the WAL');
    await db.close();
    await DB.destroy(dir);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('stratadb destroy in another process is refused while this one holds the database, then removes it', async () => {
    const dir = await tempDir();
    await makeDb(dir);
    const db = await DB.open(dir, STILL);
    const before = listing(dir);
    const refused = await runCli(['destroy', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error ERR_LOCKED: .*process \d+ on /);
    expect(hasStackTrace(refused.stderr)).toBe(false);
    expect(listing(dir)).toEqual(before);
    await db.close();
    const done = await runCli(['destroy', dir, '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ removedDir: true });
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('refuses a directory that holds no database, touching nothing (no LOCK made)', async () => {
    const dir = await tempDir();
    fs.writeFileSync(path.join(dir, 'photo.jpg'), 'x');
    fs.writeFileSync(path.join(dir, '000007.log'), 'a WAL-like name alone is no database');
    fs.writeFileSync(path.join(dir, 'LOG'), 'y');
    const before = listing(dir);
    await rejectsWith(() => DB.destroy(dir), 'ERR_INVALID_ARGUMENT', 'destroy of a non-database');
    expect(listing(dir)).toEqual(before);
    const cli = await runCli(['destroy', dir]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: .*holds no StrataDB database/);
    expect(listing(dir)).toEqual(before);
    await rejectsWith(() => DB.destroy(path.join(dir, 'missing')), 'ERR_INVALID_ARGUMENT', 'destroy of a missing dir');
    await rejectsWith(() => DB.destroy(''), 'ERR_INVALID_ARGUMENT', 'destroy("")');
    await rejectsWith(() => DB.destroy(dir, { bogus: 1 } as never), 'ERR_INVALID_ARGUMENT', 'unknown option');
  });

  it('works on an injected file system (MemFileSystem), lock included', async () => {
    const mem = new MemFileSystem();
    const db = await DB.open('/db', { fs: mem });
    await db.put('a', 'b');
    await db.flush();
    await rejectsWith(() => DB.destroy('/db', { fs: mem }), 'ERR_LOCKED', 'mem destroy while open');
    await db.close();
    const r = await DB.destroy('/db', { fs: mem });
    expect(r.removedDir).toBe(true);
    expect(await mem.exists('/db')).toBe(false);
  });
});
