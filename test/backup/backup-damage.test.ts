/**
 * Damage in a backup directory: a flipped byte or a truncation in ANY backup file (every shared
 * table, the metadata) is found by verify() as ERR_CORRUPTION naming that file. A restore of the
 * damaged backup fails cleanly with ERR_CORRUPTION and leaves nothing that opens as a database:
 * damage in a table is found while copying, after RESTORE-IN-PROGRESS was written, so the target
 * keeps the marker and DB.open refuses it (ERR_INVALID_ARGUMENT); damage in the metadata is found
 * before the target is touched.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackupEngine, DB, MemFileSystem } from '../../src/index.js';
import { overwrite, readAll, rejectsWith } from '../support/db-check.js';
import { withSeed } from '../support/rng.js';

describe('backup damage', () => {
  it('verify names the damaged file, and restore fails cleanly, for a flipped byte or a truncation anywhere', async () => {
    await withSeed('backup-damage', async (rng) => {
      const fs = new MemFileSystem();
      // No compaction: several flushed tables stay, each one more file to damage.
      const db = await DB.open('/db', { fs, writeBufferSize: 16 * 1024, level0CompactionTrigger: 100, level0SlowdownTrigger: 200, level0StopTrigger: 300 });
      for (let i = 0; i < 400; i++) await db.put(`k${String(rng.int(300)).padStart(4, '0')}`, rng.bytes(20 + rng.int(200)));
      await db.flush();
      for (let i = 0; i < 30; i++) await db.put(`m${i}`, `in the memtable ${i}`);
      await db.backup('/bk');
      const want = await readAll(db);
      await db.close();
      const engine = await BackupEngine.open('/bk', { fs });
      const files = [...(await fs.list('/bk/shared')).map((n) => `/bk/shared/${n}`), '/bk/meta/1'];
      expect(files.length, 'flushed tables + the memtable dump + the metadata').toBeGreaterThanOrEqual(4);
      let attempt = 0;
      for (const file of files) {
        const original = await fs.readFile(file);
        const isMeta = file.endsWith('meta/1');
        const damages: [string, Uint8Array][] = [];
        for (let k = 0; k < 2; k++) {
          const flipped = original.slice();
          const at = rng.int(flipped.length);
          flipped[at]! ^= 1 << rng.int(8);
          damages.push([`bit flip at ${at}`, flipped]);
        }
        // The metadata's final newline is optional (FORMAT.md), so cut at least two bytes there.
        const cut = rng.int(original.length - (isMeta ? 1 : 0));
        damages.push([`truncated to ${cut}`, original.slice(0, cut)], ['truncated to 0', new Uint8Array(0)]);
        for (const [what, bytes] of damages) {
          await overwrite(fs, file, bytes);
          const e = await rejectsWith(() => engine.verify(1), 'ERR_CORRUPTION', `verify, ${file} ${what}`);
          expect((e as { file?: string }).file, `${file} ${what}: ${e.message}`).toBe(file);
          const target = `/r${attempt++}`;
          await rejectsWith(() => engine.restore(1, target), 'ERR_CORRUPTION', `restore, ${file} ${what}`);
          if (isMeta) {
            expect(await fs.exists(target), 'metadata damage must be found before the target is created').toBe(false);
          } else {
            expect(await fs.list(target)).toContain('RESTORE-IN-PROGRESS');
            // No half-copied table under its final name... only verified copies and the marker.
            expect((await fs.list(target)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
            await rejectsWith(() => DB.open(target, { fs }), 'ERR_INVALID_ARGUMENT', `open of ${target}`);
          }
        }
        await overwrite(fs, file, original);
      }
      // Undamaged again: verify and restore work, and the restored target opens with the data.
      await engine.verify(1);
      await engine.restore(1, '/good');
      expect(await fs.exists(path.join('/good', 'RESTORE-IN-PROGRESS'))).toBe(false);
      const r = await DB.open('/good', { fs });
      expect(await readAll(r)).toEqual(want);
      await r.close();
    });
  });

  it('a missing shared table is ERR_CORRUPTION naming it; a restore into a non-empty target is refused', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs });
    for (let i = 0; i < 50; i++) await db.put(`k${i}`, 'v');
    await db.flush();
    await db.backup('/bk');
    await db.close();
    const engine = await BackupEngine.open('/bk', { fs });
    await fs.mkdir('/full');
    await overwrite(fs, '/full/precious', new Uint8Array([1, 2, 3]));
    await rejectsWith(() => engine.restore(1, '/full'), 'ERR_INVALID_ARGUMENT', 'restore into a non-empty dir');
    expect(await fs.list('/full')).toEqual(['precious']);
    await rejectsWith(() => engine.restore(1, '/bk/inside'), 'ERR_INVALID_ARGUMENT', 'restore into the backup dir');
    await rejectsWith(() => engine.restore(7, '/r'), 'ERR_INVALID_ARGUMENT', 'restore of an unknown id');
    const [table] = await fs.list('/bk/shared');
    await fs.remove(`/bk/shared/${table!}`);
    // A backup missing one of its tables is damaged (exit 1 in the CLI), not a user's typo.
    const e = await rejectsWith(() => engine.verify(1), 'ERR_CORRUPTION', 'verify with a missing table');
    expect((e as { file?: string }).file).toBe(`/bk/shared/${table!}`);
    await rejectsWith(() => engine.restore(1, '/r'), 'ERR_CORRUPTION', 'restore with a missing table');
    await rejectsWith(() => DB.open('/r', { fs }), 'ERR_INVALID_ARGUMENT', 'open after that restore');
  });
});
