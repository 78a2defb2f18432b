/**
 * StrataLevel's approximateSize(start, end[, options]) and getProperty(property), shaped as
 * classic-level's (node_modules/classic-level/README.md): a promise for a number over [start, end)
 * in the key encoding, and a synchronous string, LevelDB's `leveldb.*` names answering as their
 * `stratadb.*` twins; both listed in the manifest's additionalMethods; Level errors when not open.
 */
import { describe, expect, it } from 'vitest';
import { StrataLevel } from '../../src/level-adapter/index.js';
import { tempDir } from '../support/tmpdir.js';

describe('StrataLevel approximateSize and getProperty', () => {
  it('answer as the native DB does, through the key encoding, with LevelDB property names', async () => {
    const db = new StrataLevel<string, string>(await tempDir(), { compression: 'none' });
    expect(db.supports.additionalMethods).toMatchObject({ approximateSize: true, getProperty: true });
    // Called while opening: deferred until open, as classic-level does.
    const early = db.approximateSize('a', 'b');
    await db.open();
    expect(await early).toBe(0);
    for (let i = 0; i < 500; i++) await db.put(`k${String(i).padStart(4, '0')}`, 'v'.repeat(100));
    await db.strata.flush();
    const whole = await db.approximateSize('k', 'l');
    expect(whole).toBeGreaterThan(500 * 100);
    expect(whole).toBe(await db.strata.approximateSize('k', 'l'));
    expect(await db.approximateSize('x', 'y')).toBe(0);
    // Hex-encoded bounds name the same range.
    expect(await db.approximateSize('6b', '6c', { keyEncoding: 'hex' })).toBe(whole);
    expect(db.getProperty('leveldb.num-files-at-level0')).toBe('1');
    expect(db.getProperty('stratadb.num-files-at-level0')).toBe('1');
    expect(db.getProperty('leveldb.stats')).toContain('** Level stats **');
    expect(db.getProperty('leveldb.sstables')).toBeUndefined();
    expect(() => db.getProperty(1 as unknown as string)).toThrow(TypeError);
    await expect(db.approximateSize('a', undefined)).rejects.toMatchObject({ code: 'LEVEL_INVALID_KEY' });
    await db.close();
    expect(() => db.getProperty('leveldb.stats')).toThrow(expect.objectContaining({ code: 'LEVEL_DATABASE_NOT_OPEN' }));
    await expect(db.approximateSize('a', 'b')).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
  });
});
