/**
 * StrataLevel.destroy(location) and StrataLevel.repair(location), the static calls leveldown and
 * classic-level users know: DB.destroy / DB.repair underneath, refusals as Level errors
 * (LEVEL_LOCKED while the database is open) with the StrataError as cause.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StrataLevel } from '../../src/level-adapter/index.js';
import { tempDir } from '../support/tmpdir.js';

async function filled(dir: string): Promise<StrataLevel<string, string>> {
  const db = new StrataLevel<string, string>(dir, { idleCompactionDelayMs: 0 });
  await db.open();
  for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
  await db.strata.flush();
  await db.put('tail', 'in the WAL');
  return db;
}

describe('StrataLevel.destroy and StrataLevel.repair', () => {
  it('are refused with LEVEL_LOCKED while open; repair brings back a database whose MANIFEST is gone; destroy removes it', async () => {
    const dir = path.join(await tempDir(), 'db');
    const db = await filled(dir);
    await expect(StrataLevel.destroy(dir)).rejects.toMatchObject({ code: 'LEVEL_LOCKED', cause: { code: 'ERR_LOCKED' } });
    await expect(StrataLevel.repair(dir)).rejects.toMatchObject({ code: 'LEVEL_LOCKED' });
    await db.close();
    for (const name of fs.readdirSync(dir)) if (name.startsWith('MANIFEST-') || name === 'CURRENT') fs.rmSync(path.join(dir, name));
    const report = await StrataLevel.repair(dir);
    // close() flushed the WAL, so the two tables are all there is; nothing was damaged, nothing set aside.
    expect(report).toMatchObject({ tablesKept: 2, tablesDropped: [], movedToLost: [], lastSequence: 201 });
    const again = new StrataLevel<string, string>(dir);
    await again.open();
    expect(await again.get('k123')).toBe('v123');
    expect(await again.get('tail')).toBe('in the WAL');
    expect((await again.keys().all()).length).toBe(201);
    await again.close();
    const gone = await StrataLevel.destroy(dir);
    expect(gone).toMatchObject({ removedDir: true });
    expect(gone.removed).toEqual(expect.arrayContaining(['CURRENT', 'LOCK']));
    expect(fs.existsSync(dir)).toBe(false);
  });
});
