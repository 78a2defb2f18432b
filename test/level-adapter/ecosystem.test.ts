/**
 * StrataLevel used as a Level user would: sublevels with their own prefixes and encodings, JSON
 * values, chained batches across sublevels, iterators with seek, explicit snapshots, clear() over a
 * range, error codes mapped to Level's, and data that crosses flushes and compactions (small buffers).
 */
import { describe, expect, it } from 'vitest';
import { StrataLevel } from '../../src/level-adapter/index.js';
import { tempDir } from '../support/tmpdir.js';
import '../support/range-delete-writable.js';

describe('StrataLevel in the Level ecosystem', () => {
  it('sublevels, JSON encoding, batches, seek, snapshots and clear over flushed and compacted data', async () => {
    const db = new StrataLevel(await tempDir(), { valueEncoding: 'json', writeBufferSize: 16 * 1024, level0CompactionTrigger: 2 });
    await db.open();
    const users = db.sublevel<string, { name: string; n: number }>('users', { valueEncoding: 'json' });
    const posts = db.sublevel<string, string>('posts', { valueEncoding: 'utf8' });
    const batch = db.batch();
    for (let i = 0; i < 2000; i++) {
      batch.put(`u${String(i).padStart(5, '0')}`, { name: `user ${i}`, n: i }, { sublevel: users });
      if (i % 2 === 0) batch.put(`p${i}`, 'x'.repeat(50), { sublevel: posts });
    }
    await batch.write();
    await db.strata.flush();
    await db.compactRange(undefined, undefined);
    expect(await users.get('u00042')).toEqual({ name: 'user 42', n: 42 });
    expect(await posts.get('p42')).toBe('x'.repeat(50));
    expect(await posts.get('p43')).toBeUndefined();
    // the prefixes keep the sublevels apart
    expect((await users.keys().all()).length).toBe(2000);
    expect((await posts.keys({ gte: 'p1', lt: 'p2' }).all()).every((k) => k.startsWith('p1'))).toBe(true);
    // seek
    const it = users.iterator();
    it.seek('u01500');
    expect((await it.next())?.[0]).toBe('u01500');
    await it.close();
    // explicit snapshot
    const snap = db.snapshot();
    await users.put('u00042', { name: 'changed', n: -1 });
    expect(await users.get('u00042', { snapshot: snap })).toEqual({ name: 'user 42', n: 42 });
    expect(await users.get('u00042')).toEqual({ name: 'changed', n: -1 });
    await snap.close();
    // clear over a range
    await users.clear({ gte: 'u01000' });
    expect((await users.keys().all()).length).toBe(1000);
    expect(db.strata.stats().compactions.count).toBeGreaterThan(0);
    await db.close();
  });

  it('maps StrataDB errors to Level codes with ours as cause', async () => {
    const dir = await tempDir();
    const a = new StrataLevel(dir);
    await a.open();
    const b = new StrataLevel(dir);
    const err = await b.open().then(() => undefined, (e: unknown) => e as { code: string; cause?: { code?: string; cause?: { code?: string } } });
    expect(err?.code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(err?.cause?.code).toBe('LEVEL_LOCKED');
    expect(err?.cause?.cause?.code).toBe('ERR_LOCKED');
    await a.close();
  });

  it('getSync reads memtables and tables synchronously', async () => {
    const db = new StrataLevel(await tempDir(), { valueEncoding: 'utf8' });
    await db.open();
    await db.put('a', '1');
    expect(db.getSync('a')).toBe('1');
    await db.strata.flush();
    expect(db.getSync('a')).toBe('1');
    expect(db.getSync('missing')).toBeUndefined();
    expect((db.supports as { getSync?: boolean }).getSync).toBe(true);
    await db.close();
    const z = new StrataLevel(await tempDir(), { compression: 'zstd' });
    expect((z.supports as { getSync?: boolean }).getSync).toBe(false);
  });
});
