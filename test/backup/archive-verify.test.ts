/**
 * BackupEngine.verify() reads the WAL archive too: a flipped byte in any archived WAL (the ones a
 * point-in-time restore replays) is ERR_CORRUPTION naming that file and an offset inside it; the
 * undamaged archive verifies. The WAL is checked through the WAL replay code, record by record.
 */
import { describe, expect, it } from 'vitest';
import { BackupEngine, DB, MemFileSystem } from '../../src/index.js';
import { overwrite, rejectsWith } from '../support/db-check.js';
import { withSeed } from '../support/rng.js';

const ARCHIVE = '/bk/wal-archive';

describe('backup verify and the WAL archive', () => {
  it('names an archived WAL with a flipped byte, whichever WAL and wherever the byte', async () => {
    await withSeed('archive-verify', async (rng) => {
      const fs = new MemFileSystem();
      const open = (): Promise<DB> => DB.open('/db', { fs, writeBufferSize: 8 * 1024, walArchiveDir: ARCHIVE });
      let db = await open();
      for (let i = 0; i < 150; i++) await db.put(`k${rng.int(200)}`, rng.bytes(20 + rng.int(80)));
      await db.backup('/bk');
      for (let i = 0; i < 300; i++) await db.put(`k${rng.int(200)}`, rng.bytes(20 + rng.int(80)));
      await db.close();
      db = await open();
      for (let i = 0; i < 50; i++) await db.put(`m${i}`, rng.bytes(30));
      await db.close();
      const engine = await BackupEngine.open('/bk', { fs });
      await engine.verify(1);
      const wals = (await fs.list(ARCHIVE)).map((n) => `${ARCHIVE}/${n}`);
      expect(wals.length, 'several rollovers and two closes').toBeGreaterThanOrEqual(3);
      let damaged = 0;
      for (const file of wals) {
        const original = await fs.readFile(file);
        if (original.length === 0) continue; // a WAL archived before its first write: no byte to flip
        damaged++;
        for (let k = 0; k < 3; k++) {
          const flipped = original.slice();
          const at = rng.int(flipped.length);
          flipped[at]! ^= 1 << rng.int(8);
          await overwrite(fs, file, flipped);
          const e = await rejectsWith(() => engine.verify(1), 'ERR_CORRUPTION', `verify, ${file} flipped at ${at}`) as { file?: string; offset?: number };
          expect(e.file, `${file} flipped at ${at}: ${String(e)}`).toBe(file);
          expect(e.offset).toBeGreaterThanOrEqual(0);
          expect(e.offset).toBeLessThanOrEqual(at);
        }
        await overwrite(fs, file, original);
      }
      expect(damaged).toBeGreaterThanOrEqual(3);
      await engine.verify(1);
    });
  });
});
