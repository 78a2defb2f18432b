/**
 * A database directory that lost its CURRENT (MANIFEST, tables and WALs still there) is refused with
 * ERR_CORRUPTION and repair advice, by default and read-only opens alike, and nothing in it is
 * deleted; following the advice (the newest MANIFEST's name into CURRENT) brings every key back.
 * A directory holding only what a failed first open leaves (LOCK, LOG) is still created.
 */
import { readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';

async function populated(): Promise<string> {
  const dir = await tempDir();
  const db = await DB.open(dir, { writeBufferSize: 4096 });
  for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(4, '0')}`, `value-${i}-${'x'.repeat(40)}`);
  await db.flush();
  await db.put('tail', 'in the WAL only');
  await db.close();
  return dir;
}

const dataFiles = (dir: string): string[] => readdirSync(dir).filter((n) => /^(MANIFEST-\d+|\d+\.(sst|log))$/.test(n)).sort();

describe('open without CURRENT', () => {
  it('refuses a directory holding MANIFEST, tables and WALs, deletes nothing, and the advice repairs it', async () => {
    const dir = await populated();
    rmSync(path.join(dir, 'CURRENT'));
    const before = dataFiles(dir);
    expect(before.some((n) => n.endsWith('.sst'))).toBe(true);
    const manifests = before.filter((n) => n.startsWith('MANIFEST-'));
    const newest = manifests[manifests.length - 1]!;
    const err = await DB.open(dir).then(() => undefined, (e: unknown) => e) as { code?: string; message?: string };
    expect(err?.code).toBe('ERR_CORRUPTION');
    expect(err.message).toContain(newest);
    expect(err.message).toMatch(/CURRENT/);
    expect(dataFiles(dir)).toEqual(before);
    expect(existsSync(path.join(dir, 'CURRENT'))).toBe(false);

    writeFileSync(path.join(dir, 'CURRENT'), `${newest}\n`);
    const db = await DB.open(dir);
    expect((await db.get('k0007'))?.toString()).toBe(`value-7-${'x'.repeat(40)}`);
    expect((await db.get('tail'))?.toString()).toBe('in the WAL only');
    await db.close();
  });

  it('refuses a read-only open the same way and writes nothing', async () => {
    const dir = await populated();
    rmSync(path.join(dir, 'CURRENT'));
    const before = readdirSync(dir).sort();
    await expect(DB.open(dir, { readOnly: true })).rejects.toMatchObject({ code: 'ERR_CORRUPTION', message: expect.stringMatching(/MANIFEST-\d+/) });
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('refuses with tables alone (no MANIFEST left) and says to restore', async () => {
    const dir = await populated();
    for (const n of readdirSync(dir)) if (n === 'CURRENT' || n.startsWith('MANIFEST-')) rmSync(path.join(dir, n));
    const before = dataFiles(dir);
    await expect(DB.open(dir)).rejects.toMatchObject({ code: 'ERR_CORRUPTION', message: expect.stringMatching(/restore/) });
    expect(dataFiles(dir)).toEqual(before);
  });

  it('still creates a database where a failed first open left only LOCK and LOG', async () => {
    const dir = await tempDir();
    writeFileSync(path.join(dir, 'LOCK'), '');
    writeFileSync(path.join(dir, 'LOG'), 'open failed: no space left on device\n');
    const db = await DB.open(dir);
    await db.put('a', 'b');
    expect((await db.get('a'))?.toString()).toBe('b');
    await db.close();
  });
});
