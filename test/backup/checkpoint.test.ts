/**
 * db.checkpoint(dir): taken while writers run, it opens and equals one prefix of the commit order
 * (covering every write acknowledged before the call); a non-empty target is refused; on the real
 * file system its tables are hard links to the database's (same inode), and its cost is recorded
 * for two database sizes (bench/backup.ts measures it properly).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem } from '../../src/index.js';
import { diffStates, readAll, rejectsWith } from '../support/db-check.js';
import { prefixAtSequence, startWriters } from '../support/concurrent-writers.js';
import { withSeed } from '../support/rng.js';
import { tempDir } from '../support/tmpdir.js';

describe('db.checkpoint', () => {
  it('taken while writers run, opens and equals one prefix of the commit order', async () => {
    await withSeed('checkpoint-prefix', async (rng) => {
      const fs = new MemFileSystem();
      const db = await DB.open('/db', { fs, writeBufferSize: 8 * 1024, blockSize: 512 });
      const writers = startWriters(db, rng, { writers: 3, keys: 150 });
      const checkpoints: { dir: string; sequence: number; ackedBefore: number }[] = [];
      for (let i = 0; i < 3; i++) {
        await writers.waitFor(writers.log.length + 150 + rng.int(300));
        const ackedBefore = writers.log.length;
        const info = await db.checkpoint(`/cp${i}`);
        expect(info.files).toBeGreaterThan(0);
        checkpoints.push({ dir: `/cp${i}`, sequence: info.sequence, ackedBefore });
      }
      await writers.waitFor(writers.log.length + 20);
      await writers.stop();
      await db.close();
      for (const cp of checkpoints) {
        const c = await DB.open(cp.dir, { fs });
        const state = await readAll(c);
        expect(c.stats().sequence).toBe(cp.sequence);
        await c.close();
        const p = prefixAtSequence(writers.log, cp.sequence);
        expect(p, `sequence ${cp.sequence} is not a write boundary`).toBeGreaterThanOrEqual(cp.ackedBefore);
        const want = writers.log.stateAfter(p);
        expect(diffStates(state, want)).toBe('');
        expect(state.size).toBe(want.size);
      }
    });
  });

  it('refuses a target that is not empty, or is a file, or is the database', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs });
    await db.put('a', '1');
    await fs.mkdir('/busy');
    const f = await fs.openWritable('/busy/something');
    await f.close();
    await rejectsWith(() => db.checkpoint('/busy'), 'ERR_INVALID_ARGUMENT', 'checkpoint into a non-empty dir');
    expect(await fs.list('/busy')).toEqual(['something']);
    await rejectsWith(() => db.checkpoint('/busy/something'), 'ERR_INVALID_ARGUMENT', 'checkpoint onto a file');
    await rejectsWith(() => db.checkpoint('/db'), 'ERR_INVALID_ARGUMENT', 'checkpoint onto the database');
    await rejectsWith(() => db.checkpoint(''), 'ERR_INVALID_ARGUMENT', 'checkpoint to ""');
    // An empty existing directory is fine.
    await fs.mkdir('/empty');
    await db.checkpoint('/empty');
    await db.close();
    await rejectsWith(() => db.checkpoint('/later'), 'ERR_CLOSED', 'checkpoint after close');
    const c = await DB.open('/empty', { fs });
    expect((await c.get('a'))?.toString()).toBe('1');
    await c.close();
  });

  it('on the real file system, hard-links the tables (same inode) and costs about the same at two sizes', async () => {
    await withSeed('checkpoint-links', async (rng) => {
      const root = await tempDir('strata-cp-');
      const timings: string[] = [];
      for (const mb of [1, 8]) {
        const dir = path.join(root, `db${mb}`);
        const db = await DB.open(dir, { writeBufferSize: 1 << 20, compression: 'none', compactionExecutor: 'inline' });
        for (let i = 0; i < mb * 1024; i++) await db.put(`k${String(i).padStart(8, '0')}`, rng.bytes(1000));
        await db.flush();
        const t0 = performance.now();
        const info = await db.checkpoint(path.join(root, `cp${mb}`));
        timings.push(`${mb} MB: ${(performance.now() - t0).toFixed(1)} ms (${info.files} tables)`);
        expect(info.copied).toBe(0);
        expect(info.linked).toBeGreaterThan(0);
        const tables = readdirSync(path.join(root, `cp${mb}`)).filter((n) => n.endsWith('.sst'));
        let linked = 0;
        for (const t of tables) {
          const original = path.join(dir, t);
          if (!existsSync(original)) continue; // the memtable dump, if any
          expect(statSync(path.join(root, `cp${mb}`, t)).ino).toBe(statSync(original).ino);
          linked++;
        }
        expect(linked).toBe(info.linked);
        await db.close();
        const c = await DB.open(path.join(root, `cp${mb}`));
        expect(c.stats().sequence).toBe(mb * 1024);
        await c.close();
      }
      // Recorded, not asserted: timing on a shared machine is noise at this scale.
      console.log(`checkpoint time: ${timings.join('; ')}`);
    });
  });
});
